"""The constants of ldap-hooks 0.1.2, with their string values unchanged."""

#: Placeholder source: the attribute values of the submitted name, plus query results.
SPAWNER_SUBMIT_DATA = "1"
#: Placeholder source: attributes read from the directory, all values.
LDAP_SEARCH_ATTRIBUTE_QUERY = "2"
#: Placeholder source: an attribute of the spawner.
SPAWNER_ATTRIBUTE = "3"
#: Placeholder source: an attribute of the spawner's user, such as ``name``.
SPAWNER_USER_ATTRIBUTE = "4"
#: Placeholder source: like LDAP_SEARCH_ATTRIBUTE_QUERY, but only the first value.
LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY = "5"

DYNAMIC_ATTRIBUTE_METHODS = (
    SPAWNER_SUBMIT_DATA,
    LDAP_SEARCH_ATTRIBUTE_QUERY,
    SPAWNER_ATTRIBUTE,
    SPAWNER_USER_ATTRIBUTE,
    LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY,
)

#: search_result_operations action: allocate by incrementing a counter entry.
INCREMENT_ATTRIBUTE = "1"
SEARCH_RESULT_OPERATION_ACTIONS = (INCREMENT_ATTRIBUTE,)
