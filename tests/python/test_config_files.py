"""Configuration files written for ldap-hooks 0.1.2, loaded the way JupyterHub loads
jupyterhub_config.py."""

import asyncio
import textwrap

from traitlets.config.loader import PyFileConfigLoader

from conftest import COUNTER_START, Spawner, User

LEGACY_POSIX = """
from ldap_hooks import setup_ldap_entry_hook
from ldap_hooks import LDAP, LDAP_SEARCH_ATTRIBUTE_QUERY, SPAWNER_USER_ATTRIBUTE, INCREMENT_ATTRIBUTE
c = get_config()

c.Spawner.pre_spawn_hook = setup_ldap_entry_hook

# Connection settings
LDAP.url = '{url}'
LDAP.user = 'cn=admin,dc=example,dc=org'
LDAP.password = '{password}'
LDAP.base_dn = 'dc=example,dc=org'

# DN attribute settings
LDAP.submit_spawner_attribute = 'user.data'
LDAP.submit_spawner_attribute_keys = ('PersonDN',)
LDAP.replace_object_with = {{'/': '+'}}

LDAP.dynamic_attributes = {{
    'uidNumber': LDAP_SEARCH_ATTRIBUTE_QUERY,
    'name': SPAWNER_USER_ATTRIBUTE,
}}

LDAP.set_spawner_attributes = {{
    'environment': {{'NB_UID': '{{uidNumber}}', 'NB_USER': '{{name}}'}}
}}

LDAP.search_attribute_queries = [
    {{'search_base': LDAP.base_dn,
     'search_filter': '(objectclass=X-nextUserIdentifier)',
     'attributes': ['uidNumber']}}
]
LDAP.search_result_operations = {{'uidNumber': {{'action': INCREMENT_ATTRIBUTE,
                                              'modify_dn': 'cn=uidNext,dc=example,dc=org'}}}}

# LDAP DIT object definition
LDAP.object_classes = ['Person', 'PosixAccount']
LDAP.object_attributes = {{
    'uid': '{{name}}',
    'uidNumber': '{{uidNumber}}',
    'gidNumber': '100',
    'homeDirectory': '/home/{{name}}',
}}
"""

TRAITLETS_STYLE = """
from ldap_hooks import setup_ldap_entry_hook, SPAWNER_SUBMIT_DATA
c = get_config()
c.Spawner.pre_spawn_hook = setup_ldap_entry_hook
c.LDAP.url = '{url}'
c.LDAP.user = 'cn=admin,dc=example,dc=org'
c.LDAP.password = '{password}'
c.LDAP.base_dn = 'dc=example,dc=org'
c.LDAP.submit_spawner_attribute = 'user_options'
c.LDAP.submit_spawner_attribute_keys = ('PersonDN',)
c.LDAP.replace_object_with = {{'/': '+'}}
c.LDAP.dynamic_attributes = {{'description': SPAWNER_SUBMIT_DATA}}
c.LDAP.object_classes = ['Person']
c.LDAP.object_attributes = {{'description': '{{description}}'}}
c.LDAP.set_spawner_attributes = {{'environment': {{'description': '{{description}}'}}}}
"""


def load(tmp_path, text, slapd):
    path = tmp_path / "jupyterhub_config.py"
    path.write_text(textwrap.dedent(text.format(url=slapd.url, password=slapd.admin_password)))
    return PyFileConfigLoader(path.name, str(tmp_path)).load_config()


def test_legacy_class_attribute_config(ldap, slapd, tmp_path):
    config = load(tmp_path, LEGACY_POSIX, slapd)
    hook = config.Spawner.pre_spawn_hook
    spawner = Spawner(User("ada", data={"PersonDN": "/SN=Lovelace/CN=Ada"}), config=config)

    assert asyncio.run(hook(spawner)) is True
    assert spawner.environment == {"NB_UID": str(COUNTER_START + 1), "NB_USER": "ada"}
    entry = slapd.search("(uid=ada)")[0]
    assert entry["uidnumber"] == [str(COUNTER_START + 1)]
    assert entry["homedirectory"] == ["/home/ada"]


def test_traitlets_config(slapd, tmp_path):
    config = load(tmp_path, TRAITLETS_STYLE, slapd)
    spawner = Spawner(
        User("jane"), user_options={"PersonDN": "/SN=Doe/CN=Jane/description=Engineer"}, config=config
    )
    assert asyncio.run(config.Spawner.pre_spawn_hook(spawner)) is True
    assert spawner.environment == {"description": "Engineer"}
    assert slapd.search("(cn=Jane)")[0]["description"] == ["Engineer"]
