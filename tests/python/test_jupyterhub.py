"""End-to-end tests with a real JupyterHub on 127.0.0.1: spawns through the REST API
whose request body becomes `user_options`, with the hook configured the 0.1.2 way."""

import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import COUNTER_START

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jupyterhub"))
from hubtools import Hub  # noqa: E402

LDAP_CONFIG = """
from ldap_hooks import setup_ldap_entry_hook
from ldap_hooks import LDAP, LDAP_SEARCH_ATTRIBUTE_QUERY, SPAWNER_USER_ATTRIBUTE, INCREMENT_ATTRIBUTE

c.Spawner.pre_spawn_hook = setup_ldap_entry_hook

LDAP.url = {url!r}
LDAP.user = 'cn=admin,dc=example,dc=org'
LDAP.password = {password!r}
LDAP.base_dn = 'dc=example,dc=org'
LDAP.operation_timeout = {operation_timeout}
LDAP.connect_timeout = {operation_timeout}

LDAP.submit_spawner_attribute = 'user_options'
LDAP.submit_spawner_attribute_keys = ('CERT',)
LDAP.replace_object_with = {{'/': '+'}}

LDAP.dynamic_attributes = {{'name': SPAWNER_USER_ATTRIBUTE, 'uidNumber': LDAP_SEARCH_ATTRIBUTE_QUERY}}
LDAP.search_attribute_queries = [
    {{'search_base': LDAP.base_dn,
     'search_filter': '(objectclass=x-nextUserIdentifier)',
     'attributes': ['uidNumber']}}
]
LDAP.search_result_operations = {{'uidNumber': {{'action': INCREMENT_ATTRIBUTE,
                                              'modify_dn': 'cn=uidNext,dc=example,dc=org'}}}}
LDAP.object_classes = ['X-certsDistinguishedName', 'posixAccount']
LDAP.object_attributes = {{'uid': '{{name}}', 'uidNumber': '{{uidNumber}}', 'gidNumber': '100',
                          'homeDirectory': '/home/{{name}}'}}
LDAP.set_spawner_attributes = {{'environment': {{'NB_USER': '{{name}}', 'NB_UID': '{{uidNumber}}'}}}}
"""


@pytest.fixture
def hub_factory(slapd):
    hubs = []

    def start(operation_timeout=10.0):
        config = LDAP_CONFIG.format(url=slapd.url, password=slapd.admin_password, operation_timeout=operation_timeout)
        hub = Hub(config)
        hubs.append(hub)
        hub.start()
        return hub

    yield start
    for hub in hubs:
        hub.stop()


def test_spawn_creates_entry(hub_factory, slapd):
    hub = hub_factory()
    response = hub.spawn("jane", {"CERT": "/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org"})
    assert response.status_code in (201, 202), response.text
    hub.wait_ready("jane")

    environment = hub.server_environment("jane")
    assert environment["NB_USER"] == "jane"
    assert environment["NB_UID"] == str(COUNTER_START + 1)
    entry = slapd.search("(uid=jane)")[0]
    assert entry["uidnumber"] == [str(COUNTER_START + 1)]
    assert entry["cn"] == ["Jane Doe"]
    assert "ldap-hooks: created the entry" in hub.log()
    assert slapd.admin_password not in hub.log(), "the hub's debug log shows the LDAP password"

    hub.api("DELETE", "/users/jane/server")
    hub.wait_not_pending("jane")
    second = hub.spawn("jane", {"CERT": "/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org"})
    assert second.status_code in (201, 202), second.text
    hub.wait_ready("jane")
    assert slapd.counter() == COUNTER_START + 1, "the second spawn found the entry"


def test_failing_hook_message_in_response(hub_factory, slapd):
    hub = hub_factory()
    response = hub.spawn("eve", {"CERT": "/C=DK/CN="})
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert "has an empty value" in message
    assert slapd.search("(objectClass=posixAccount)") == []
    assert slapd.counter() == COUNTER_START

    missing = hub.spawn("mallory", {})
    assert missing.status_code == 400, missing.text
    assert "CERT" in missing.json()["message"]


def test_hub_answers_while_ldap_stalls(hub_factory, slapd):
    hub = hub_factory(operation_timeout=3.0)
    hub.create_user("jane")
    spawn_response = {}

    def spawn():
        spawn_response["value"] = hub.spawn("jane", {"CERT": "/C=DK/CN=Jane Doe"})

    slapd.pause()
    try:
        spawning = threading.Thread(target=spawn)
        started = time.monotonic()
        spawning.start()
        slowest = 0.0
        requests_sent = 0
        while time.monotonic() - started < 2.5:
            before = time.monotonic()
            assert hub.api("GET", "/", timeout=5).status_code == 200
            slowest = max(slowest, time.monotonic() - before)
            requests_sent += 1
            time.sleep(0.05)
        spawning.join(timeout=60)
    finally:
        slapd.resume()

    assert requests_sent >= 10
    assert slowest < 1.0, f"an API request took {slowest:.2f} s while the directory stalled"
    response = spawn_response["value"]
    assert response.status_code == 502, response.text
    assert "no answer within 3.0 s" in response.json()["message"]
    assert slapd.search("(objectClass=posixAccount)") == []
