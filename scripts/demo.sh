#!/usr/bin/env bash
# Demo: starts a throwaway slapd on 127.0.0.1, lets ldap-hooks create two users'
# entries with uidNumbers from the counter entry, runs the first user again (the
# entry is found, no number is used), and prints the entries as ldapsearch sees them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo build --locked -p ldap-hooks -p slapd-harness
exec target/debug/throwaway-slapd -- bash scripts/demo-session.sh
