#!/usr/bin/env bash
# Demo of the standalone binary: a throwaway slapd, `ldap-hooks run` for two
# certificate subjects and once more for the first, and the entries as ldapsearch
# returns them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo build --locked -p ldap-hooks -p slapd-harness
exec target/debug/throwaway-slapd -- bash scripts/demo-cli-session.sh
