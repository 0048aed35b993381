"""The main configurations of ldap-hooks 0.1.2 sites, set the way those sites set
them: as class attributes of LDAP."""

from ldap_hooks import (
    INCREMENT_ATTRIBUTE,
    LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY,
    LDAP_SEARCH_ATTRIBUTE_QUERY,
    SPAWNER_SUBMIT_DATA,
    SPAWNER_USER_ATTRIBUTE,
)


def person(LDAP):
    LDAP.submit_spawner_attribute = "user_options"
    LDAP.submit_spawner_attribute_keys = ("PersonDN",)
    LDAP.replace_object_with = {"/": "+"}
    LDAP.object_classes = ["Person"]


def person_with_description(LDAP):
    person(LDAP)
    LDAP.dynamic_attributes = {"description": SPAWNER_SUBMIT_DATA}
    LDAP.object_attributes = {"description": "{description}"}
    LDAP.set_spawner_attributes = {
        "environment": {"description": "{description}", "static_description": "Static description"}
    }


def posix(LDAP):
    LDAP.submit_spawner_attribute = "user_options"
    LDAP.submit_spawner_attribute_keys = ("PersonDN",)
    LDAP.replace_object_with = {"/": "+"}
    LDAP.unique_object_attributes = ["CN"]
    LDAP.object_classes = ["InetOrgPerson", "PosixAccount"]
    LDAP.object_attributes = {"uid": "{name}", "uidNumber": "1000 ", "gidNumber": "100", "homeDirectory": "/home/{name}"}
    LDAP.dynamic_attributes = {"name": SPAWNER_USER_ATTRIBUTE, "uid": LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY}
    LDAP.set_spawner_attributes = {"environment": {"NB_USER": "{uid}"}}


def allocation(LDAP):
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
    LDAP.search_attribute_queries = [
        {
            "search_base": LDAP.base_dn,
            "search_filter": "(objectclass=x-nextUserIdentifier)",
            "attributes": ["uidNumber"],
        }
    ]
    LDAP.search_result_operations = {
        "uidNumber": {"action": INCREMENT_ATTRIBUTE, "modify_dn": "cn=uidNext,dc=example,dc=org"}
    }
    LDAP.set_spawner_attributes = {"environment": {"NB_USER": "{name}", "NB_UID": "{uidNumber}"}}
