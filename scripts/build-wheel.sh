#!/usr/bin/env bash
# Builds the Python package with its WebAssembly components into dist/, and installs
# it into .venv when called with --install. Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

rm -f dist/ldap_hooks-*.whl
.venv/bin/pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w dist ./python-host
wheel=$(ls dist/ldap_hooks-*.whl)
echo "built $wheel"

if [ "${1:-}" = "--install" ]; then
    .venv/bin/pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
fi
