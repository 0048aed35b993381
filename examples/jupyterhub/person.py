# jupyterhub_config.py: a person entry from the name the user submits, for example
# {"PersonDN": "/telephoneNumber=23012303403/SN=My Surname/CN=alice"}, with a
# description that also reaches the server's environment.
import os

from ldap_hooks import LDAP, SPAWNER_SUBMIT_DATA, setup_ldap_entry_hook

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file
c.Spawner.pre_spawn_hook = setup_ldap_entry_hook

LDAP.url = os.environ.get("LDAP_URL", "ldap://ldap.example.org:389")
LDAP.user = "cn=admin,dc=example,dc=org"
LDAP.password = os.environ["LDAP_PASSWORD"]
LDAP.base_dn = "dc=example,dc=org"

LDAP.submit_spawner_attribute = "user_options"
LDAP.submit_spawner_attribute_keys = ("PersonDN",)
LDAP.replace_object_with = {"/": "+"}

LDAP.object_classes = ["person"]
LDAP.dynamic_attributes = {"description": SPAWNER_SUBMIT_DATA}
LDAP.set_spawner_attributes = {
    "environment": {"DESCRIPTION": "{description}", "SITE": "Example"}
}
