"""Exceptions of the hook.

A failed hook raises ``LdapHookError``, which stops the spawn. On JupyterHub 6 it is
a ``SpawnException``: JupyterHub logs it without a traceback and shows its message to
the user, in the spawn page and in the REST API's response.
"""

try:
    from jupyterhub.spawner import SpawnException as _SpawnBase

    _HAS_SPAWN_EXCEPTION = True
except ImportError:  # JupyterHub before 6, or no JupyterHub at all
    _SpawnBase = Exception
    _HAS_SPAWN_EXCEPTION = False

#: HTTP status for each WIT error kind, for the API response of a failed spawn.
STATUS_CODES = {
    "invalid-config": 500,
    "invalid-input": 400,
    "rule-rejected": 400,
    "schema": 500,
    "ambiguous": 409,
    "conflict": 503,
    "directory": 502,
    "internal": 500,
}


class LdapHookError(_SpawnBase):
    """A failed hook run: `message` explains why and what to do, `kind` is the WIT
    error kind."""

    def __init__(self, message: str, kind: str = "internal"):
        self.kind = kind
        status_code = STATUS_CODES.get(kind, 500)
        if _HAS_SPAWN_EXCEPTION:
            super().__init__(message, reason=f"ldap-{kind}", status_code=status_code)
        else:
            super().__init__(message)
            self.message = message
            self.status_code = status_code
            # Older JupyterHub versions show this attribute to the user.
            self.jupyterhub_message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(LdapHookError):
    """An option of the LDAP class has a wrong type or value."""

    def __init__(self, message: str):
        super().__init__(message, kind="invalid-config")
