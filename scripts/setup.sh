#!/usr/bin/env bash
# Installs what building and testing ldap-hooks needs on a Debian machine with rustup:
# the wasm32-wasip2 target, and OpenLDAP's slapd and client tools. Runs again quickly
# when everything is already there.
set -euo pipefail

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

packages=()
[ -x /usr/sbin/slapd ] || packages+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || packages+=(ldap-utils)
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
