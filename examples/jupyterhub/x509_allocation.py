# jupyterhub_config.py: entries named after X.509 certificate subjects, with a
# uidNumber allocated from a counter entry. The spawn request carries the subject
# in user_options, for example {"CERT": "/C=DK/O=Example/CN=Jane Doe"}.
import os

from ldap_hooks import (
    INCREMENT_ATTRIBUTE,
    LDAP,
    LDAP_SEARCH_ATTRIBUTE_QUERY,
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
LDAP.submit_spawner_attribute_keys = ("CERT",)
LDAP.replace_object_with = {"/": "+"}

LDAP.object_classes = ["X-certsDistinguishedName", "posixAccount"]
LDAP.object_attributes = {
    "uid": "{name}",
    "uidNumber": "{uidNumber}",
    "gidNumber": "100",
    "homeDirectory": "/home/{name}",
}
LDAP.dynamic_attributes = {"name": SPAWNER_USER_ATTRIBUTE, "uidNumber": LDAP_SEARCH_ATTRIBUTE_QUERY}

# The counter entry contains the last uidNumber given out, and each new entry moves
# it by one.
LDAP.search_attribute_queries = [
    {
        "search_base": LDAP.base_dn,
        "search_filter": "(objectClass=x-nextUserIdentifier)",
        "attributes": ["uidNumber"],
    }
]
LDAP.search_result_operations = {
    "uidNumber": {"action": INCREMENT_ATTRIBUTE, "modify_dn": "cn=uidNext,dc=example,dc=org"}
}

LDAP.set_spawner_attributes = {"environment": {"NB_USER": "{name}", "NB_UID": "{uidNumber}"}}
