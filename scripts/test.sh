#!/usr/bin/env bash
# Sets up the machine and runs every test: unit and property tests of the pure logic,
# a bounded fuzz run, the end-to-end tests of the ldap-hooks binary, and the Python
# package's tests, all against throwaway slapd servers on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# The Python example rule component is built with componentize-py; both hosts' tests load it.
bash scripts/build-python-rule.sh
cargo test --workspace --locked -- --skip stress_
# The stress tests print their figures.
cargo test --locked -p ldap-hooks --test end_to_end stress_ -- --nocapture
cargo build --locked -p slapd-harness --bins
# A bounded fuzz run of the DN rules and the escapers; docs/fuzzing.md has a longer one.
(cd fuzz && cargo fuzz run --sanitizer none dn_rules -- -runs=300000 -max_total_time=120)
bash scripts/build-wheel.sh --install
# The tests import the installed wheel, not python-host/src.
(cd tests/python && ../../.venv/bin/python -m pytest -q -s -p no:cacheprovider -W ignore::DeprecationWarning)
