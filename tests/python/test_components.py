"""Swapped DN-rule and hook components in the Python host: the example rules in Rust
and Python, the compile cache, and misbehaving components in their sandbox."""

import asyncio
import logging
import subprocess
from pathlib import Path

import pytest

import scenarios
from conftest import ROOT
from ldap_hooks import LdapHookError, ensure_entry, setup_ldap_entry_hook
from ldap_hooks import runtime

GUEST = ROOT / "target" / "guest" / "wasm32-wasip2" / "release"
RUST_RULE = GUEST / "x509_uid_rules.wasm"
PYTHON_RULE = ROOT / "target" / "guest" / "x509-uid-python.wasm"
HOSTILE_RULE = GUEST / "hostile_rules.wasm"
JANE = "/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org"


def run(coroutine):
    return asyncio.run(coroutine)


def require(path: Path) -> str:
    if not path.exists():
        pytest.fail(f"{path} is missing; scripts/test.sh builds it")
    return str(path)


def x509_uid(LDAP, rules: Path):
    LDAP.rules_component = require(rules)
    LDAP.submit_spawner_attribute = "user_options"
    LDAP.submit_spawner_attribute_keys = ("CERT",)
    LDAP.object_classes = ["inetOrgPerson"]
    LDAP.object_attributes = {"cn": "{cn}", "sn": "{sn}", "mail": "{mail}"}
    LDAP.dynamic_attributes = {"cn": "1", "sn": "1", "mail": "1", "uid": "5"}
    LDAP.set_spawner_attributes = {"environment": {"NB_USER": "{uid}"}}


def test_rust_and_python_rules_agree(ldap, slapd, make_spawner):
    outcomes = {}
    for label, rules in (("rust", RUST_RULE), ("python", PYTHON_RULE)):
        x509_uid(ldap, rules)
        spawner = make_spawner(f"jane-{label}", JANE, key="CERT")
        outcomes[label] = run(ensure_entry(spawner))
        # Remove the entry so that the other rule creates it again.
        dn = outcomes[label]["dn"]
        assert outcomes[label]["status"] == "created", label
        subprocess.run(
            ["ldapdelete", "-x", "-H", slapd.url, "-D", slapd.admin_dn, "-w", slapd.admin_password, dn],
            check=True,
        )

    assert outcomes["rust"]["dn"] == "uid=jane,ou=people,dc=example,dc=org"
    assert outcomes["rust"]["dn"] == outcomes["python"]["dn"]
    assert outcomes["rust"]["attributes"] == outcomes["python"]["attributes"]
    assert outcomes["rust"]["spawner_updates"] == {"environment": {"NB_USER": "jane"}}
    assert outcomes["rust"]["spawner_updates"] == outcomes["python"]["spawner_updates"]

    for rules in (RUST_RULE, PYTHON_RULE):
        x509_uid(ldap, rules)
        with pytest.raises(LdapHookError, match="no emailAddress") as failure:
            run(setup_ldap_entry_hook(make_spawner("nomail", "/CN=No Mail", key="CERT")))
        assert str(rules) in str(failure.value)


def test_built_in_rules_match_the_linked_default_component(ldap, slapd, make_spawner):
    # Without LDAP.rules_component the hook applies its own copy of the default rules;
    # naming the default component's file links it instead. Both must agree.
    scenarios.person(ldap)
    submitted = "/telephoneNumber=23012303403/SN=My Surname/CN=alice"
    outcomes = {}
    for label, rules in (("built-in", ""), ("linked", str(runtime.builtin_component(runtime.BUILTIN_RULES)))):
        ldap.rules_component = rules
        outcomes[label] = run(ensure_entry(make_spawner(f"alice-{label}", submitted)))
        assert outcomes[label]["status"] == ("created" if label == "built-in" else "found"), label
    assert outcomes["built-in"]["dn"] == outcomes["linked"]["dn"]
    assert outcomes["built-in"]["attributes"] == outcomes["linked"]["attributes"]

    for label, rules in (("built-in", ""), ("linked", str(runtime.builtin_component(runtime.BUILTIN_RULES)))):
        ldap.rules_component = rules
        with pytest.raises(LdapHookError, match="empty") as failure:
            run(ensure_entry(make_spawner(f"bad-{label}", "/CN=")))
        assert ("built-in DN rules" in str(failure.value)) == (label == "built-in"), str(failure.value)


def test_compiled_component_comes_from_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LDAP_HOOKS_CACHE_DIR", str(tmp_path))
    folder = runtime.cache_folder()
    engine = runtime.Components(
        runtime.builtin_component(runtime.BUILTIN_HOOK),
        runtime.builtin_component(runtime.BUILTIN_RULES),
        runtime.Limits(),
        builtin_rules=True,
    ).engine
    path = Path(require(PYTHON_RULE))
    runtime.compile_component(engine, path, folder)
    cached = [item for item in folder.glob("*.cwasm") if item.stat().st_size > 10_000_000]
    assert len(cached) == 1, "the 18 MB component was written to the cache"

    def no_compiling(self, *arguments):
        raise AssertionError("the component was compiled again instead of loaded from the cache")

    with monkeypatch.context() as patch:
        patch.setattr(runtime.wc.Component, "__init__", no_compiling)
        runtime.compile_component(engine, path, folder)

    # A damaged cache file is compiled again and replaced, never fatal.
    cached[0].write_bytes(b"damaged")
    runtime.compile_component(engine, path, folder)
    assert cached[0].stat().st_size > 10_000_000


def hostile(LDAP):
    scenarios.person(LDAP)
    LDAP.rules_component = require(HOSTILE_RULE)
    LDAP.component_fuel = 50_000_000
    LDAP.component_memory_mb = 32
    LDAP.component_stderr_to_log = True


@pytest.mark.parametrize(
    "submitted, expected",
    [
        ("loop", "used up its fuel of 50000000 units"),
        ("grow", "within the limit of 32 MiB"),
        ("panic", "trapped"),
        ("trap", "trapped"),
        ("empty-attribute", "the attribute name is empty"),
    ],
)
def test_hostile_rule_fails_cleanly(ldap, slapd, make_spawner, submitted, expected):
    hostile(ldap)
    with pytest.raises(LdapHookError, match=expected) as failure:
        run(setup_ldap_entry_hook(make_spawner("mallory", submitted)))
    assert str(HOSTILE_RULE) in str(failure.value)
    assert slapd.search("(objectClass=person)") == []

    good = make_spawner("alice", "alice")
    outcome = run(ensure_entry(good))
    assert outcome["attributes"]["cn"] == ["alice"]


def test_hostile_panic_message_logged(ldap, make_spawner, caplog):
    hostile(ldap)
    caplog.set_level(logging.WARNING)
    with pytest.raises(LdapHookError):
        run(setup_ldap_entry_hook(make_spawner("mallory", "panic")))
    assert "the hostile rule panics on request" in caplog.text


def test_hostile_values_are_escaped(ldap, slapd, make_spawner):
    hostile(ldap)
    created = run(ensure_entry(make_spawner("mallory", "escaping")))
    found = run(ensure_entry(make_spawner("mallory", "escaping")))
    assert found["status"] == "found"
    assert found["dn"] == created["dn"]
    entries = slapd.search("(objectClass=person)")
    assert len(entries) == 1
    assert entries[0]["cn"] == ['a,b+c=d"<>;\\#x ']
    assert entries[0]["sn"] == ["*)(uid=*"]


def test_wrong_world_is_named(ldap, slapd, make_spawner):
    scenarios.person(ldap)
    ldap.rules_component = require(GUEST / "ldap_hooks_hook.wasm")
    with pytest.raises(LdapHookError, match="does not export ldap-hooks:hook/dn-rules@0.1.0"):
        run(setup_ldap_entry_hook(make_spawner("alice", "/SN=a/CN=alice")))

    ldap.rules_component = None
    ldap.hook_component = require(GUEST / "ldap_hooks_default_rules.wasm")
    with pytest.raises(LdapHookError, match="does not implement the entry-hook world"):
        run(setup_ldap_entry_hook(make_spawner("alice", "/SN=a/CN=alice")))
    assert slapd.search("(objectClass=person)") == []
