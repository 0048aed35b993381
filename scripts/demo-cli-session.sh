#!/usr/bin/env bash
# The steps of the binary demo; scripts/demo-cli.sh runs them with LDAP_URL and the admin
# credentials of a throwaway slapd in the environment.
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|^url = .*|url = \"$LDAP_URL\"|" examples/x509-allocation.toml > "$work/ldap-hooks.toml"
export LDAP_HOOKS_PASSWORD="$LDAP_ADMIN_PASSWORD"

step() { printf '\n== %s\n' "$*"; }

step "ldap-hooks run: Jane's certificate subject, a new entry with the next uidNumber"
target/debug/ldap-hooks run --config "$work/ldap-hooks.toml" --user jane \
    --submitted "/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org"

step "ldap-hooks run: John, the next number"
target/debug/ldap-hooks run --config "$work/ldap-hooks.toml" --user john \
    --submitted "/C=DK/O=Example/CN=John Roe/emailAddress=john@example.org"

step "ldap-hooks run: Jane again, the entry is found and keeps its number"
target/debug/ldap-hooks run --config "$work/ldap-hooks.toml" --user jane \
    --submitted "/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org"

step "ldapsearch: the entries and the counter in the directory"
ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URL" -D "$LDAP_ADMIN_DN" -w "$LDAP_ADMIN_PASSWORD" \
    -b "$LDAP_BASE_DN" "(|(objectClass=posixAccount)(objectClass=x-nextUserIdentifier))"
