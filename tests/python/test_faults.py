"""Faults of the directory and the network through the Python host: a clear error,
nothing written, no number used, and a connection that recovers on its own."""

import asyncio
import socket

import pytest

import scenarios
from conftest import COUNTER_START
from ldap_hooks import LdapHookError, ensure_entry, setup_ldap_entry_hook

# Completed operations of a first spawn with the allocation scenario before its
# uniqueness search: bind, root DSE and subschema.
BEFORE_SEARCH = 3
# Completed operations before the first write and before the add, by method.
# Compare-and-swap reads the counter through the 0.1.2-style query first; increment
# skips that query, because the increment returns the value.
BEFORE_WRITE = {"compare-and-swap": 5, "increment": 4}
BEFORE_ADD = {"compare-and-swap": 6, "increment": 5}


def run(coroutine):
    return asyncio.run(coroutine)


def jane(make_spawner):
    return make_spawner("jane", "/C=DK/CN=Jane Doe", key="CERT")


def assert_nothing_written(slapd, case):
    assert slapd.search("(objectClass=posixAccount)") == [], f"{case} wrote an entry"
    assert slapd.counter() == COUNTER_START, f"{case} used a number"


def through_proxy(ldap, proxy, method):
    scenarios.allocation(ldap)
    ldap.url = proxy.url
    ldap.connect_timeout = 2.0
    ldap.operation_timeout = 1.0
    ldap.allocation_method = method
    ldap.worker_threads = 1


def test_server_down_then_back(ldap, slapd, make_spawner):
    scenarios.allocation(ldap)
    ldap.worker_threads = 1
    run(setup_ldap_entry_hook(make_spawner("alice", "/C=DK/CN=Alice", key="CERT")))

    slapd.stop_server()
    with pytest.raises(LdapHookError, match="connectError") as failure:
        run(setup_ldap_entry_hook(jane(make_spawner)))
    assert failure.value.status_code == 502

    slapd.start_server()
    spawner = jane(make_spawner)
    run(setup_ldap_entry_hook(spawner))
    assert spawner.environment["NB_UID"] == str(COUNTER_START + 2)


def test_connection_refused(ldap, make_spawner):
    scenarios.allocation(ldap)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        unused = probe.getsockname()[1]
    ldap.url = f"ldap://127.0.0.1:{unused}"
    with pytest.raises(LdapHookError, match=f"connecting to ldap://127.0.0.1:{unused}"):
        run(setup_ldap_entry_hook(jane(make_spawner)))


def test_wrong_credentials(ldap, slapd, make_spawner):
    scenarios.allocation(ldap)
    ldap.password = "not-the-password"
    with pytest.raises(LdapHookError, match="invalidCredentials") as failure:
        run(setup_ldap_entry_hook(jane(make_spawner)))
    assert "not-the-password" not in str(failure.value)
    assert_nothing_written(slapd, "a wrong password")


@pytest.mark.parametrize("method", ["compare-and-swap", "increment"])
def test_stall_mid_spawn_times_out(ldap, slapd, make_spawner, fault_proxy, method):
    through_proxy(ldap, fault_proxy, method)
    fault_proxy.set(f"stall-after {BEFORE_SEARCH}")
    with pytest.raises(LdapHookError, match="no answer within 1.0 s"):
        run(setup_ldap_entry_hook(jane(make_spawner)))
    assert_nothing_written(slapd, method)

    fault_proxy.set("pass")
    spawner = jane(make_spawner)
    run(setup_ldap_entry_hook(spawner))
    assert spawner.environment["NB_UID"] == str(COUNTER_START + 1)


def test_dropped_connection_before_search_recovers(ldap, slapd, make_spawner, fault_proxy):
    through_proxy(ldap, fault_proxy, "auto")
    fault_proxy.set(f"drop-after {BEFORE_SEARCH}")
    outcome = run(ensure_entry(jane(make_spawner)))
    assert outcome["status"] == "created"
    assert slapd.counter() == COUNTER_START + 1


@pytest.mark.parametrize("method", ["compare-and-swap", "increment"])
def test_dropped_connection_before_write_fails_cleanly(ldap, slapd, make_spawner, fault_proxy, method):
    through_proxy(ldap, fault_proxy, method)
    fault_proxy.set(f"drop-after {BEFORE_WRITE[method]}")
    with pytest.raises(LdapHookError, match="serverDown") as failure:
        run(setup_ldap_entry_hook(jane(make_spawner)))
    assert "no number is given out twice" in str(failure.value)
    assert_nothing_written(slapd, method)


def test_restarted_server_reused_connection_recovers(ldap, slapd, make_spawner):
    scenarios.allocation(ldap)
    ldap.worker_threads = 1
    run(setup_ldap_entry_hook(make_spawner("alice", "/C=DK/CN=Alice", key="CERT")))
    slapd.restart()
    spawner = jane(make_spawner)
    run(setup_ldap_entry_hook(spawner))
    assert spawner.environment["NB_UID"] == str(COUNTER_START + 2)


@pytest.mark.parametrize("method", ["compare-and-swap", "increment"])
def test_lost_reply_after_add_found_next_time(ldap, slapd, make_spawner, fault_proxy, method):
    through_proxy(ldap, fault_proxy, method)
    fault_proxy.set(f"stall-after {BEFORE_ADD[method]}")
    with pytest.raises(LdapHookError) as failure:
        run(setup_ldap_entry_hook(jane(make_spawner)))
    assert "may have been written" in str(failure.value)
    assert f"uidNumber {COUNTER_START + 1} stays allocated" in str(failure.value)

    fault_proxy.set("pass")
    outcome = run(ensure_entry(jane(make_spawner)))
    assert outcome["status"] == "found"
    assert outcome["attributes"]["uidNumber"] == [str(COUNTER_START + 1)]
    assert slapd.counter() == COUNTER_START + 1
    assert len(slapd.search("(objectClass=posixAccount)")) == 1


@pytest.mark.parametrize("method", ["compare-and-swap", "increment"])
def test_lost_reply_after_counter_move_skips_a_number(ldap, slapd, make_spawner, fault_proxy, method):
    through_proxy(ldap, fault_proxy, method)
    fault_proxy.set(f"stall-after {BEFORE_WRITE[method]}")
    with pytest.raises(LdapHookError, match="The counter may have moved"):
        run(setup_ldap_entry_hook(jane(make_spawner)))
    assert slapd.search("(objectClass=posixAccount)") == []
    assert slapd.counter() == COUNTER_START + 1, "the number is skipped"

    fault_proxy.set("pass")
    spawner = jane(make_spawner)
    run(setup_ldap_entry_hook(spawner))
    assert spawner.environment["NB_UID"] == str(COUNTER_START + 2), "no number is given out twice"


def test_missing_class_writes_nothing(ldap, slapd, make_spawner):
    scenarios.allocation(ldap)
    ldap.object_classes = ["X-certsDistinguishedName", "posixAcount"]
    with pytest.raises(LdapHookError, match="object class `posixAcount` is not in the server schema"):
        run(setup_ldap_entry_hook(jane(make_spawner)))
    assert_nothing_written(slapd, "a missing object class")


@pytest.mark.parametrize("method", ["compare-and-swap", "increment"])
def test_missing_counter_writes_nothing(ldap, slapd, make_spawner, method):
    scenarios.allocation(ldap)
    ldap.search_attribute_queries = []
    ldap.allocation_method = method
    ldap.search_result_operations = {"uidNumber": {"action": "1", "modify_dn": "cn=noSuchCounter,dc=example,dc=org"}}
    with pytest.raises(LdapHookError, match="Create the counter entry"):
        run(setup_ldap_entry_hook(jane(make_spawner)))
    assert_nothing_written(slapd, method)
