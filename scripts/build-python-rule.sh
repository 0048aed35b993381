#!/usr/bin/env bash
# Builds the Python example DN-rule component with componentize-py into
# target/guest/x509-uid-python.wasm, unless it is newer than its sources.
set -euo pipefail
cd "$(dirname "$0")/.."

output=target/guest/x509-uid-python.wasm
source=examples/rules/x509-uid-python/app.py
if [ -f "$output" ] && [ "$output" -nt "$source" ] && [ "$output" -nt wit/dn-rules.wit ] && [ "$output" -nt wit/worlds.wit ]; then
    exit 0
fi
mkdir -p target/guest
.venv/bin/componentize-py -d wit -w dn-rule componentize app -p examples/rules/x509-uid-python -o "$output"
