"""The scenarios of the Rust host's end-to-end tests, through the Python API."""

import asyncio

import pytest

import scenarios
from conftest import COUNTER_START
from ldap_hooks import LdapHookError, ensure_entry, setup_ldap_entry_hook


def rdn_values(dn):
    return sorted(part.lower() for part in dn.split(",")[0].split("+"))


def run(coroutine):
    return asyncio.run(coroutine)


def test_person_created_then_found(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    submitted = "/telephoneNumber=23012303403/SN=My Surname/CN=alice"

    created = run(ensure_entry(make_spawner("alice", submitted)))
    assert created["status"] == "created"
    assert rdn_values(created["dn"]) == ["cn=alice", "sn=my surname", "telephonenumber=23012303403"]
    assert created["attributes"]["sn"] == ["My Surname"]

    found = run(ensure_entry(make_spawner("alice", submitted)))
    assert found["status"] == "found"
    assert found["dn"] == created["dn"]
    assert len(slapd.search("(objectClass=person)")) == 1


def test_person_second_user_created(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    alice = run(ensure_entry(make_spawner("alice", "/SN=Smith/CN=alice")))
    bob = run(ensure_entry(make_spawner("bob", "/SN=Jones/CN=bob")))
    assert alice["status"] == "created"
    assert bob["status"] == "created"
    assert alice["dn"] != bob["dn"]
    assert len(slapd.search("(objectClass=person)")) == 2


def test_submitted_data_reaches_environment(ldap, make_spawner):
    scenarios.person_with_description(ldap)
    spawner = make_spawner("jane", "/SN=Doe/CN=jane/description=Research engineer", environment={"KEEP": "1"})

    assert run(setup_ldap_entry_hook(spawner)) is True
    assert spawner.environment == {
        "KEEP": "1",
        "description": "Research engineer",
        "static_description": "Static description",
    }

    again = make_spawner("jane", "/SN=Doe/CN=jane/description=Research engineer")
    run(setup_ldap_entry_hook(again))
    assert again.environment["description"] == "Research engineer"


def test_posix_uid_from_user_name(ldap, slapd, make_spawner):
    scenarios.posix(ldap)
    spawner = make_spawner("ada", "/SN=Lovelace/CN=Ada Lovelace")
    run(setup_ldap_entry_hook(spawner))
    assert spawner.environment == {"NB_USER": "ada"}

    again = make_spawner("ada", "/SN=Lovelace/CN=Ada Lovelace")
    outcome = run(ensure_entry(again))
    assert outcome["status"] == "found"
    accounts = slapd.search("(objectClass=posixAccount)")
    assert len(accounts) == 1
    assert accounts[0]["uid"] == ["ada"]
    assert accounts[0]["uidnumber"] == ["1000"]
    assert accounts[0]["homedirectory"] == ["/home/ada"]


def test_allocation_numbers_users(ldap, slapd, make_spawner):
    scenarios.allocation(ldap)
    jane = make_spawner("jane", "/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org", key="CERT")
    john = make_spawner("john", "/C=DK/O=Example/CN=John Roe/emailAddress=john@example.org", key="CERT")

    run(setup_ldap_entry_hook(jane))
    run(setup_ldap_entry_hook(john))
    assert jane.environment == {"NB_USER": "jane", "NB_UID": str(COUNTER_START + 1)}
    assert john.environment == {"NB_USER": "john", "NB_UID": str(COUNTER_START + 2)}

    again = make_spawner("jane", "/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org", key="CERT")
    outcome = run(ensure_entry(again))
    assert outcome["status"] == "found"
    assert outcome["attributes"]["uidNumber"] == [str(COUNTER_START + 1)]
    assert outcome["allocations"] == []
    assert slapd.counter() == COUNTER_START + 2


def test_allocation_failure_uses_no_number(ldap, slapd, make_spawner):
    scenarios.allocation(ldap)
    with pytest.raises(LdapHookError, match="empty value"):
        run(setup_ldap_entry_hook(make_spawner("eve", "/C=DK/CN=", key="CERT")))
    with pytest.raises(LdapHookError, match="rejects the DN"):
        run(setup_ldap_entry_hook(make_spawner("eve", "/C=Denmark/CN=Eve", key="CERT")))
    assert slapd.counter() == COUNTER_START

    # homeDirectory takes ASCII only: the server rejects the add after the allocation,
    # and the hook moves the counter back.
    with pytest.raises(LdapHookError, match="was returned to"):
        run(setup_ldap_entry_hook(make_spawner("jöhn", "/C=DK/CN=John", key="CERT")))
    assert slapd.counter() == COUNTER_START
    assert slapd.search("(objectClass=posixAccount)") == []

    spawner = make_spawner("eve", "/C=DK/CN=Eve", key="CERT")
    run(setup_ldap_entry_hook(spawner))
    assert spawner.environment["NB_UID"] == str(COUNTER_START + 1)


def test_concurrent_spawns_get_distinct_numbers(ldap, slapd, make_spawner):
    scenarios.allocation(ldap)
    spawners = [make_spawner(f"user{index}", f"/C=DK/CN=User {index}", key="CERT") for index in range(20)]

    async def spawn_all():
        await asyncio.gather(*(setup_ldap_entry_hook(spawner) for spawner in spawners))

    run(spawn_all())
    numbers = sorted(int(spawner.environment["NB_UID"]) for spawner in spawners)
    assert numbers == list(range(COUNTER_START + 1, COUNTER_START + 21))
    assert slapd.counter() == COUNTER_START + 20
