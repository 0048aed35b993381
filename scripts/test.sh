#!/usr/bin/env bash
# Sets up the machine and runs every test: unit tests of the pure logic, and the
# end-to-end tests of the ldap-hooks binary against throwaway slapd servers.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo test --workspace --locked
