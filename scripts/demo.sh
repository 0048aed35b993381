#!/usr/bin/env bash
# Demo: a throwaway slapd and a real JupyterHub on 127.0.0.1. One user's server is
# started through the REST API; ldap-hooks creates the user's entry with a uidNumber
# from the counter entry, and the demo prints the entry and the server's environment.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo build --locked -p slapd-harness --bins
bash scripts/build-wheel.sh --install
exec target/debug/throwaway-slapd -- .venv/bin/python tests/jupyterhub/demo.py
