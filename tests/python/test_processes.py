"""Worker processes of the Python host: the hook in a child process per worker thread,
the hand-over from the hub's process, and children that stop or cannot start."""

import asyncio
import logging
import os
import signal
import sys
import threading
import time

import pytest

import scenarios
from conftest import COUNTER_START
from ldap_hooks import LdapHookError, ensure_entry, setup_ldap_entry_hook
from ldap_hooks import hook as hook_module


def run(coroutine):
    return asyncio.run(coroutine)


def the_pool() -> hook_module.Pool:
    with hook_module._pools_lock:
        pools = list(hook_module._pools.values())
    assert len(pools) == 1, pools
    return pools[0]


def wait_until_ready(pool: hook_module.Pool, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes = list(pool._processes)
        if processes and all(process.ready() for process in processes):
            return
        if any(process.failed for process in processes):
            pytest.fail(f"a worker process failed: {[process.failed for process in processes]}")
        time.sleep(0.05)
    pytest.fail("the worker processes were not ready in time")


@pytest.fixture
def processes(ldap):
    ldap.worker_processes = True
    ldap.worker_threads = 1
    return ldap


def started(make_spawner, processes, scenario=scenarios.person, submitted="/SN=First/CN=first", key="PersonDN"):
    """Run a first spawn, which starts the child, and wait until the child is ready."""
    scenario(processes)
    run(setup_ldap_entry_hook(make_spawner("first", submitted, key=key)))
    pool = the_pool()
    wait_until_ready(pool)
    return pool


def test_child_takes_over_spawns(processes, slapd, make_spawner):
    pool = started(make_spawner, processes)
    # The thread's own connection closes once its child is ready.
    outcome = run(ensure_entry(make_spawner("alice", "/telephoneNumber=23012303403/SN=My Surname/CN=alice")))
    assert outcome["status"] == "created"
    assert outcome["dn"] == "cn=alice+sn=My Surname+telephoneNumber=23012303403,dc=example,dc=org"
    assert pool._workers == []
    assert pool._processes[0].operations > 0

    again = run(ensure_entry(make_spawner("alice", "/telephoneNumber=23012303403/SN=My Surname/CN=alice")))
    assert again["status"] == "found"
    assert again["dn"] == outcome["dn"]
    assert len(slapd.search("(cn=alice)")) == 1


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no process priorities on this system")
def test_child_runs_at_lower_priority(processes, slapd, make_spawner):
    from ldap_hooks.processes import CHILD_NICENESS

    pool = started(make_spawner, processes)
    child = os.getpriority(os.PRIO_PROCESS, pool._processes[0].process.pid)
    hub = os.getpriority(os.PRIO_PROCESS, 0)
    assert child == min(hub + CHILD_NICENESS, 19)


def test_child_allocates_numbers(processes, slapd, make_spawner):
    started(make_spawner, processes, scenarios.allocation, "/C=DK/CN=First User", key="CERT")
    numbers = []
    for name in ("alice", "bob"):
        spawner = make_spawner(name, f"/C=DK/CN={name.title()}", key="CERT")
        run(setup_ldap_entry_hook(spawner))
        numbers.append(spawner.environment["NB_UID"])
    assert numbers == [str(COUNTER_START + 2), str(COUNTER_START + 3)]

    spawner = make_spawner("alice", "/C=DK/CN=Alice", key="CERT")
    run(setup_ldap_entry_hook(spawner))
    assert spawner.environment["NB_UID"] == numbers[0]


def test_child_errors_keep_their_kind(processes, slapd, make_spawner):
    started(make_spawner, processes)
    with pytest.raises(LdapHookError) as failure:
        run(setup_ldap_entry_hook(make_spawner("empty", "/CN=")))
    assert failure.value.kind == "rule-rejected"
    assert "has an empty value" in str(failure.value)
    assert "(the built-in DN rules)" in str(failure.value)
    assert slapd.search("(objectClass=person)") == slapd.search("(cn=first)")


def test_child_log_records_reach_spawner_log(processes, slapd, make_spawner, caplog):
    started(make_spawner, processes)
    spawner = make_spawner("alice", "/SN=a/CN=alice")
    with caplog.at_level(logging.DEBUG, logger=spawner.log.name):
        run(setup_ldap_entry_hook(spawner))
    messages = [record.getMessage() for record in caplog.records if record.name == spawner.log.name]
    assert any("fuel units in run-configured" in message for message in messages), messages
    assert all(slapd.admin_password not in message for message in messages)


def test_child_log_level_follows_spawner_log(processes, slapd, make_spawner, caplog):
    started(make_spawner, processes)
    spawner = make_spawner("alice", "/SN=a/CN=alice")
    spawner.log.setLevel(logging.INFO)
    with caplog.at_level(logging.DEBUG):
        run(setup_ldap_entry_hook(spawner))
    debug = [record for record in caplog.records if record.name == spawner.log.name and record.levelno < logging.INFO]
    assert debug == []


def test_stopped_child_is_replaced(processes, slapd, make_spawner, caplog):
    pool = started(make_spawner, processes)
    first = pool._processes[0]
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)

    # The request cannot reach the dead child, so the hub's process runs the spawn.
    with caplog.at_level(logging.WARNING):
        outcome = run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))
        run(ensure_entry(make_spawner("bob", "/SN=b/CN=bob")))
    assert outcome["status"] == "created"
    assert any("worker process stopped before the spawn" in record.getMessage() for record in caplog.records)
    wait_until_ready(pool)
    assert pool._processes[0] is not first
    assert run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))["status"] == "found"


def test_child_stopped_during_spawn_fails_it(processes, slapd, make_spawner, fault_proxy):
    pool = started(make_spawner, processes)
    processes.url = fault_proxy.url
    processes.operation_timeout = 30.0
    # A new pool for the new address: start its child, then stall the server.
    run(setup_ldap_entry_hook(make_spawner("second", "/SN=Second/CN=second")))
    pool = the_pool()
    wait_until_ready(pool)
    run(setup_ldap_entry_hook(make_spawner("third", "/SN=Third/CN=third")))
    fault_proxy.set("stall-after 0")
    child = pool._processes[0].process

    def kill_soon() -> None:
        time.sleep(0.5)
        child.kill()

    killer = threading.Thread(target=kill_soon)
    killer.start()
    with pytest.raises(LdapHookError, match="worker process stopped during the spawn") as failure:
        run(setup_ldap_entry_hook(make_spawner("alice", "/SN=a/CN=alice")))
    killer.join()
    assert failure.value.kind == "internal"
    fault_proxy.set("pass")
    assert run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))["status"] == "created"


def test_processes_off_start_none(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    ldap.worker_processes = False
    for name in ("alice", "bob"):
        run(setup_ldap_entry_hook(make_spawner(name, f"/SN=x/CN={name}")))
    assert the_pool()._processes == []


def test_unstartable_python_falls_back(processes, slapd, make_spawner, monkeypatch, caplog):
    scenarios.person(processes)
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
    with caplog.at_level(logging.WARNING):
        outcome = run(ensure_entry(make_spawner("alice", "/SN=a/CN=alice")))
        run(ensure_entry(make_spawner("bob", "/SN=b/CN=bob")))
    assert outcome["status"] == "created"
    warnings = [record.getMessage() for record in caplog.records if "worker process" in record.getMessage()]
    assert len(warnings) == 1, warnings
    assert "/nonexistent/python3" in warnings[0]
    assert the_pool()._processes == []
