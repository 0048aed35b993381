#!/usr/bin/env bash
# Benchmark: ldap-hooks 0.1.2 from PyPI, this project's Python package and its Rust
# host against one throwaway slapd, in one run. Prints latencies, throughput,
# event-loop stalls, LDAP operations per entry, cold starts and the targets. Not part
# of the tests; docs/benchmarks.md explains the output. Usage: bench.sh [CALLS]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo build --locked -p slapd-harness --bins
cargo bench --locked -p ldap-hooks --bench hook --no-run
bash scripts/build-wheel.sh --install

legacy="$PWD/.bench/legacy-venv"
if [ ! -x "$legacy/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$legacy"
fi
"$legacy/bin/pip" install --quiet --disable-pip-version-check "ldap-hooks==0.1.2"

exec target/debug/throwaway-slapd -- .venv/bin/python bench/run.py "$legacy/bin/python" "${1:-200}"
