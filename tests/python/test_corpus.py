"""The hostile submitted values of tests/corpus through the Python host: each creates
exactly the entry it names, read back unchanged, or fails clearly; none touches or
returns another entry."""

import asyncio
import json
from pathlib import Path

import pytest

import scenarios
from ldap_hooks import LdapHookError, ensure_entry

CORPUS = json.loads((Path(__file__).resolve().parents[1] / "corpus" / "hostile-values.json").read_text())


def run(coroutine):
    return asyncio.run(coroutine)


def read(slapd, dn):
    entries = slapd.search("(objectClass=*)", base=dn, scope="base")
    assert len(entries) == 1, f"one entry at {dn}"
    return entries[0]


@pytest.fixture
def victim(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    outcome = run(ensure_entry(make_spawner("alice", "/SN=victim/CN=alice")))
    return outcome["dn"], read(slapd, outcome["dn"])


@pytest.mark.parametrize("case", CORPUS, ids=[case["name"] for case in CORPUS])
def test_hostile_value_is_contained(ldap, slapd, make_spawner, victim, case):
    victim_dn, victim_entry = victim
    before = len(slapd.search("(objectClass=person)"))
    try:
        created = run(ensure_entry(make_spawner("mallory", case["submitted"])))
    except LdapHookError as error:
        message = str(error)
        assert "error" in case or case.get("either"), f"unexpected failure: {message}"
        if "error" in case:
            assert case["error"] in message
        assert "\n" not in message
        assert len(slapd.search("(objectClass=person)")) == before, "a failed spawn wrote an entry"
    else:
        assert "error" not in case, f"expected a failure with {case['error']!r}"
        assert created["status"] == "created"
        assert created["dn"] != victim_dn
        entry = read(slapd, created["dn"])
        expected = case.get("attributes", {}).get("cn", created["attributes"].get("cn"))
        assert entry["cn"] == expected
        if "sn" in case.get("attributes", {}):
            assert entry["sn"] == case["attributes"]["sn"]
        again = run(ensure_entry(make_spawner("mallory", case["submitted"])))
        assert again["status"] == "found"
        assert again["dn"] == created["dn"]

    assert read(slapd, victim_dn) == victim_entry, "the victim entry changed"
