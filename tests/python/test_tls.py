"""TLS through the Python host: ldaps:// and StartTLS with a CA file, a wrong CA and
a wrong host name, the named insecure option, and the warning for a password sent in
the clear."""

import asyncio
import logging

import pytest

import scenarios
from ldap_hooks import LdapHookError, ensure_entry

TLS = pytest.mark.parametrize("slapd", ["tls"], indirect=True)


def run(coroutine):
    return asyncio.run(coroutine)


def person(ldap, url, ca_file, start_tls=False):
    scenarios.person(ldap)
    ldap.url = url
    ldap.tls_ca_file = ca_file
    ldap.start_tls = start_tls


@TLS
def test_ldaps_with_ca_file(ldap, slapd, make_spawner, caplog):
    person(ldap, slapd.ldaps_url, slapd.ca_file)
    caplog.set_level(logging.WARNING)
    assert run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))["status"] == "created"
    assert "without TLS" not in caplog.text


@TLS
def test_start_tls_with_ca_file(ldap, slapd, make_spawner, caplog):
    person(ldap, slapd.url, slapd.ca_file, start_tls=True)
    caplog.set_level(logging.WARNING)
    assert run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))["status"] == "created"
    assert "without TLS" not in caplog.text


@TLS
@pytest.mark.parametrize("start_tls", [False, True])
def test_wrong_ca_fails(ldap, slapd, make_spawner, start_tls):
    person(ldap, slapd.url if start_tls else slapd.ldaps_url, slapd.other_ca_file, start_tls=start_tls)
    with pytest.raises(LdapHookError, match="certificate verify failed") as failure:
        run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))
    assert "connect" in str(failure.value).lower() or "StartTLS" in str(failure.value)
    assert slapd.search("(objectClass=person)") == []


@TLS
def test_wrong_host_name_fails(ldap, slapd, make_spawner):
    # The certificate names only the address 127.0.0.1, not the name localhost.
    person(ldap, slapd.ldaps_url.replace("127.0.0.1", "localhost"), slapd.ca_file)
    with pytest.raises(LdapHookError, match="Hostname mismatch, certificate is not valid for 'localhost'"):
        run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))


@TLS
def test_insecure_option_warns(ldap, slapd, make_spawner, caplog):
    person(ldap, slapd.ldaps_url, slapd.other_ca_file)
    ldap.tls_insecure_skip_verify = True
    caplog.set_level(logging.WARNING)
    assert run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))["status"] == "created"
    assert "tls_insecure_skip_verify is set" in caplog.text


def test_password_without_tls_warns(ldap, make_spawner, caplog):
    scenarios.person(ldap)
    caplog.set_level(logging.WARNING)
    run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))
    assert "without TLS" in caplog.text
