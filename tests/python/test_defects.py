"""The defects of ldap-hooks 0.1.2, each as its own test, through the Python API."""

import asyncio
import logging
import os
import time

import pytest

import scenarios
from conftest import COUNTER_START
from ldap_hooks import LdapHookError, ensure_entry, setup_ldap_entry_hook


def run(coroutine):
    return asyncio.run(coroutine)


def test_wildcard_matches_no_other_entry(ldap, slapd, make_spawner):
    scenarios.posix(ldap)
    run(setup_ldap_entry_hook(make_spawner("alice", "/SN=A/CN=alice")))
    for user, submitted in [("mallory", "/SN=M/CN=*"), ("mallet", "/SN=M/CN=al*")]:
        spawner = make_spawner(user, submitted)
        run(setup_ldap_entry_hook(spawner))
        assert spawner.environment == {"NB_USER": user}, submitted
    assert len(slapd.search("(objectClass=posixAccount)")) == 3


def test_filter_specials_are_escaped(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    for submitted, cn in [
        ("/SN=x/CN=a(b)c", "a(b)c"),
        ("/SN=x/CN=name=value", "name=value"),
        ("/SN=x/CN=Doe, Jane", "Doe, Jane"),
        ("/SN=x/CN=back\\\\slash", "back\\slash"),
    ]:
        created = run(ensure_entry(make_spawner("user", submitted)))
        assert created["status"] == "created", submitted
        assert created["attributes"]["cn"] == [cn], submitted
        found = run(ensure_entry(make_spawner("user", submitted)))
        assert found["status"] == "found", submitted


def test_meaningful_characters_are_kept(ldap, make_spawner):
    scenarios.person(ldap)
    alice = run(ensure_entry(make_spawner("alice", "/SN=x/CN=alice")))
    dotted = run(ensure_entry(make_spawner("alice2", "/SN=x/CN=alice.")))
    assert dotted["status"] == "created"
    assert dotted["dn"] != alice["dn"]
    assert dotted["attributes"]["cn"] == ["alice."]


def test_schema_check_matches_whole_names(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    for classes in (["OrgPerson"], ["Person", "RFC2256"]):
        ldap.object_classes = classes
        with pytest.raises(LdapHookError, match="is not in the server schema"):
            run(setup_ldap_entry_hook(make_spawner("alice", "/SN=x/CN=alice")))
    assert slapd.search("(objectClass=person)") == []


def test_attribute_names_ignore_case(ldap, slapd, make_spawner):
    scenarios.posix(ldap)
    run(setup_ldap_entry_hook(make_spawner("alice", "/SN=A/cn=alice")))
    bob = make_spawner("bob", "/sn=B/cn=bob")
    run(setup_ldap_entry_hook(bob))
    assert bob.environment == {"NB_USER": "bob"}


def test_read_back_uses_new_dn(ldap, make_spawner):
    scenarios.person(ldap)
    ldap.object_attributes = {"description": "shared"}
    run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))
    bob = run(ensure_entry(make_spawner("bob", "/SN=b/CN=bob")))
    assert bob["status"] == "created"
    assert bob["attributes"]["cn"] == ["bob"]


def test_failed_attempts_use_no_number(ldap, slapd, make_spawner):
    scenarios.allocation(ldap)
    for submitted, expected in [
        ("/C=DK", "requires the attribute"),
        ("/C=DK/CN=x/nosuchattribute=1", "not in the server schema"),
        ("/C=DK/CN=x/telephoneNumber=1", "not allowed by the object classes"),
        ("=x", "no attribute name"),
    ]:
        with pytest.raises(LdapHookError, match=expected):
            run(setup_ldap_entry_hook(make_spawner("eve", submitted, key="CERT")))
        assert slapd.counter() == COUNTER_START, submitted


def test_placeholder_without_value_fails(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    ldap.dynamic_attributes = {"uid": "3"}
    ldap.object_attributes = {"description": "/home/{uid}"}
    with pytest.raises(LdapHookError, match="spawner has no attribute `uid`"):
        run(setup_ldap_entry_hook(make_spawner("alice", "/SN=a/CN=alice")))
    assert slapd.search("(objectClass=person)") == []


def test_failure_raises_not_false(ldap, make_spawner):
    scenarios.person(ldap)
    spawner = make_spawner("alice", None)
    with pytest.raises(LdapHookError) as failure:
        run(setup_ldap_entry_hook(spawner))
    assert "PersonDN" in str(failure.value)
    assert failure.value.status_code == 400


def test_stalled_server_times_out(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    ldap.connect_timeout = 1.0
    ldap.operation_timeout = 1.0
    slapd.pause()
    started = time.monotonic()
    with pytest.raises(LdapHookError, match="no answer within 1.0 s"):
        run(setup_ldap_entry_hook(make_spawner("alice", "/SN=a/CN=alice")))
    elapsed = time.monotonic() - started
    slapd.resume()
    assert elapsed < 15, f"the hook took {elapsed:.1f} s"


def test_event_loop_not_blocked(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    ldap.operation_timeout = 2.0
    slapd.pause()

    async def spawn_and_measure():
        spawn = asyncio.ensure_future(setup_ldap_entry_hook(make_spawner("alice", "/SN=a/CN=alice")))
        longest = 0.0
        while not spawn.done():
            before = time.monotonic()
            await asyncio.sleep(0.01)
            longest = max(longest, time.monotonic() - before - 0.01)
        with pytest.raises(LdapHookError):
            spawn.result()
        return longest

    longest_stall = run(spawn_and_measure())
    slapd.resume()
    assert longest_stall < 0.5, f"the event loop stalled for {longest_stall:.3f} s"


def test_connection_reused_across_spawns(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    ldap.worker_threads = 1
    before = slapd.connections()
    for index in range(5):
        run(ensure_entry(make_spawner(f"user{index}", f"/SN=s/CN=user{index}")))
    assert slapd.connections() - before == 1


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR])
def test_logs_show_no_secrets(ldap, slapd, make_spawner, caplog, tmp_path, monkeypatch, level):
    scenarios.allocation(ldap)
    ldap.component_stderr_to_log = True
    monkeypatch.chdir(tmp_path)
    caplog.set_level(level)
    secrets = (slapd.admin_password, "wrong-password-value", "hub-cookie-secret-value", "hub-api-token-value",
               "spawner-state-secret")

    def spawner(name, submitted):
        made = make_spawner(name, submitted, key="CERT")
        made.user.cookie_secret = "hub-cookie-secret-value"
        made.user.auth_state = {"access_token": "hub-api-token-value"}
        made.api_token = "hub-api-token-value"
        made.state = {"secret": "spawner-state-secret"}
        return made

    messages = []
    run(setup_ldap_entry_hook(spawner("jane", "/C=DK/CN=Jane")))
    run(setup_ldap_entry_hook(spawner("jane", "/C=DK/CN=Jane")))
    for submitted in ("/C=DK/CN=", "/C=Denmark/CN=Eve"):
        with pytest.raises(LdapHookError) as failure:
            run(setup_ldap_entry_hook(spawner("eve", submitted)))
        messages.append(str(failure.value))

    ldap.password = "wrong-password-value"
    with pytest.raises(LdapHookError) as failure:
        run(setup_ldap_entry_hook(spawner("john", "/C=DK/CN=John")))
    assert "invalidCredentials" in str(failure.value)
    messages.append(str(failure.value))

    text = caplog.text + "\n".join(messages)
    if level <= logging.INFO:
        assert "created the entry" in caplog.text
    for secret in secrets:
        assert secret not in text
    assert os.listdir(tmp_path) == [], "the hook wrote files into the working directory"
