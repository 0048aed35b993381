"""ldap-hooks: a JupyterHub pre_spawn_hook that makes sure a user's LDAP entry exists.

    from ldap_hooks import LDAP, setup_ldap_entry_hook
    c.Spawner.pre_spawn_hook = setup_ldap_entry_hook
    LDAP.url = "ldap://ldap.example.org"
"""

import gc

from .constants import (
    DYNAMIC_ATTRIBUTE_METHODS,
    INCREMENT_ATTRIBUTE,
    LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY,
    LDAP_SEARCH_ATTRIBUTE_QUERY,
    SEARCH_RESULT_OPERATION_ACTIONS,
    SPAWNER_ATTRIBUTE,
    SPAWNER_SUBMIT_DATA,
    SPAWNER_USER_ATTRIBUTE,
)
from .errors import ConfigurationError, LdapHookError
from .hook import ensure_entry, hello_hook, setup_ldap_entry_hook
from .options import LDAP

__version__ = "0.2.0"

# Importing wasmtime and the hook leaves tens of thousands of new objects, and the
# garbage collector's next full pass over them took about 40 ms. Without this call
# that pass tends to fall into the first spawn after a restart.
gc.collect()

__all__ = [
    "LDAP",
    "setup_ldap_entry_hook",
    "hello_hook",
    "ensure_entry",
    "LdapHookError",
    "ConfigurationError",
    "SPAWNER_SUBMIT_DATA",
    "LDAP_SEARCH_ATTRIBUTE_QUERY",
    "SPAWNER_ATTRIBUTE",
    "SPAWNER_USER_ATTRIBUTE",
    "LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY",
    "DYNAMIC_ATTRIBUTE_METHODS",
    "INCREMENT_ATTRIBUTE",
    "SEARCH_RESULT_OPERATION_ACTIONS",
]
