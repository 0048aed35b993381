# jupyterhub_config.py: inetOrgPerson + posixAccount entries whose uid is the
# JupyterHub user name, identified by their CN. The notebook runs as NB_USER.
import os

from ldap_hooks import (
    LDAP,
    LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY,
    SPAWNER_USER_ATTRIBUTE,
    setup_ldap_entry_hook,
)

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file
c.Spawner.pre_spawn_hook = setup_ldap_entry_hook

LDAP.url = os.environ.get("LDAP_URL", "ldap://ldap.example.org:389")
LDAP.user = "cn=admin,dc=example,dc=org"
LDAP.password = os.environ["LDAP_PASSWORD"]
LDAP.base_dn = "dc=example,dc=org"

LDAP.submit_spawner_attribute = "user_options"
LDAP.submit_spawner_attribute_keys = ("PersonDN",)
LDAP.replace_object_with = {"/": "+"}

LDAP.unique_object_attributes = ["CN"]
LDAP.object_classes = ["inetOrgPerson", "posixAccount"]
LDAP.object_attributes = {
    "uid": "{name}",
    "uidNumber": "1000",
    "gidNumber": "100",
    "homeDirectory": "/home/{name}",
}
LDAP.dynamic_attributes = {"name": SPAWNER_USER_ATTRIBUTE, "uid": LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY}
LDAP.set_spawner_attributes = {"environment": {"NB_USER": "{uid}"}}
