#!/usr/bin/env bash
# Installs what building and testing ldap-hooks needs on a Debian machine with rustup,
# Python 3 and npm. That is the wasm32-wasip2 target, OpenLDAP's slapd and client
# tools, openssl for the test CA, cargo-fuzz, a Python virtual environment in .venv
# with the test dependencies, and configurable-http-proxy for the JupyterHub tests. A
# second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

packages=()
[ -x /usr/sbin/slapd ] || packages+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || packages+=(ldap-utils)
command -v openssl >/dev/null 2>&1 || packages+=(openssl)
if [ "${#packages[@]}" -gt 0 ]; then
    echo "setup: installing ${packages[*]}"
    # The tests run their own slapd; the package's server must stay unconfigured.
    echo "slapd slapd/no_configuration boolean true" | as_root debconf-set-selections
    install() {
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
    }
    install || { as_root apt-get update -q && install; }
fi

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "setup: adding the wasm32-wasip2 target"
    rustup target add wasm32-wasip2
fi

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "setup: installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating the Python environment .venv"
    "${PYTHON:-python3}" -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

if [ ! -x tests/jupyterhub/node_modules/.bin/configurable-http-proxy ]; then
    echo "setup: installing configurable-http-proxy"
    npm install --prefix tests/jupyterhub --no-audit --no-fund --silent
fi
