"""The Python host's LDAP connection: the WIT ``directory`` import on ldap3.

The client is ldap3 because it is pure Python, so installing the hook needs no C
compiler or OpenLDAP headers (python-ldap and bonsai build against libldap). It also
has what a hub needs: TLS through Python's ``ssl`` module with a CA file and host
name checks, a connect timeout per server, and a receive timeout per socket read,
which bounds a stalled server. JupyterHub's LDAP authenticator uses it too.
Its releases are infrequent (2.9.1 is from 2021), so the hook relies only on its
stable core: open, StartTLS, simple bind, search, add and modify with controls.

Each worker thread owns one ``Directory``. The connection stays open across spawns;
after a network failure it is closed and the next operation reconnects. A search
that fails that way is retried once on a new connection, because reading twice is
harmless. Adds and modifies are not retried, so a write is never sent twice.
"""

import math
import socket
import ssl
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Optional, Tuple

import ldap3
from ldap3.core import exceptions as ldap_exceptions
from ldap3.protocol.rfc4527 import post_read_control

from .settings import Connection

# Client-side result codes of OpenLDAP's C API, for failures without a server result.
SERVER_DOWN = 81
TIMEOUT = 85
CONNECT_ERROR = 91
OTHER = 80
UNWILLING_TO_PERFORM = 53

POST_READ_OID = "1.3.6.1.1.13.2"

#: RFC 4511 names of result codes; ldap3's descriptions are lowercase variants.
RESULT_NAMES = {
    0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded",
    4: "sizeLimitExceeded", 7: "authMethodNotSupported", 8: "strongerAuthRequired",
    10: "referral", 11: "adminLimitExceeded", 12: "unavailableCriticalExtension",
    13: "confidentialityRequired", 16: "noSuchAttribute", 17: "undefinedAttributeType",
    18: "inappropriateMatching", 19: "constraintViolation", 20: "attributeOrValueExists",
    21: "invalidAttributeSyntax", 32: "noSuchObject", 34: "invalidDNSyntax",
    48: "inappropriateAuthentication", 49: "invalidCredentials", 50: "insufficientAccessRights",
    51: "busy", 52: "unavailable", 53: "unwillingToPerform", 54: "loopDetect",
    64: "namingViolation", 65: "objectClassViolation", 66: "notAllowedOnNonLeaf",
    67: "notAllowedOnRDN", 68: "entryAlreadyExists", 69: "objectClassModsProhibited",
    80: "other", SERVER_DOWN: "serverDown", TIMEOUT: "timeout", CONNECT_ERROR: "connectError",
}

SCOPES = {
    "base-object": ldap3.BASE,
    "single-level": ldap3.LEVEL,
    "whole-subtree": ldap3.SUBTREE,
}

CHANGE_KINDS = {
    "add": ldap3.MODIFY_ADD,
    "delete": ldap3.MODIFY_DELETE,
    "replace": ldap3.MODIFY_REPLACE,
    "increment": ldap3.MODIFY_INCREMENT,
}


class LdapFailure(Exception):
    """A failed operation, with the fields of the WIT `ldap-error` record."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.name = RESULT_NAMES.get(code, "unknown")
        self.message = message

    def __str__(self) -> str:
        return f"{self.name} ({self.code}): {self.message}"


Entry = Tuple[str, List[Tuple[str, List[str]]]]


def _decode(values: Any) -> List[str]:
    """Decode raw values as UTF-8 and leave out the binary ones."""
    decoded = []
    for value in values or []:
        if isinstance(value, str):
            decoded.append(value)
            continue
        try:
            decoded.append(bytes(value).decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return decoded


def _attributes(raw: Mapping) -> List[Tuple[str, List[str]]]:
    attributes = [(str(name), _decode(values)) for name, values in raw.items()]
    return sorted((item for item in attributes if item[1]), key=lambda item: item[0].lower())


class Directory:
    """One connection, opened on first use and reopened after a network failure."""

    def __init__(self, settings: Connection, read_only: bool = False):
        self._settings = settings
        self._read_only = read_only
        self._connection: Optional[ldap3.Connection] = None
        self.operations = 0

    @property
    def url(self) -> str:
        return self._settings.url

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.unbind()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail in many ways
                pass

    def _open(self) -> ldap3.Connection:
        settings = self._settings
        try:
            tls = ldap3.Tls(
                validate=ssl.CERT_NONE if settings.insecure_skip_verify else ssl.CERT_REQUIRED,
                ca_certs_file=settings.ca_file,
            )
        except ldap_exceptions.LDAPSSLConfigurationError as error:
            raise LdapFailure(CONNECT_ERROR, f"tls_ca_file {settings.ca_file}: {error}") from None

        server = ldap3.Server(
            settings.host,
            port=settings.port,
            use_ssl=settings.use_ssl,
            tls=tls,
            get_info=ldap3.NONE,
            connect_timeout=settings.connect_timeout,
        )
        connection = ldap3.Connection(
            server,
            user=settings.user or None,
            password=settings.password or None,
            authentication=ldap3.SIMPLE if settings.user else ldap3.ANONYMOUS,
            auto_bind=ldap3.AUTO_BIND_NONE,
            client_strategy=ldap3.SYNC,
            # ldap3 packs this into SO_RCVTIMEO as whole seconds, so it must be an int.
            receive_timeout=max(1, math.ceil(settings.operation_timeout)),
            raise_exceptions=False,
            check_names=False,
            auto_referrals=False,
            read_only=False,
        )

        try:
            connection.open()
            if settings.start_tls and not connection.start_tls():
                raise LdapFailure(CONNECT_ERROR, f"StartTLS with {settings.url} failed: {connection.result}")
            if settings.user:
                self.operations += 1
                if not connection.bind():
                    result = connection.result or {}
                    code = int(result.get("result", OTHER))
                    text = result.get("message") or ""
                    if code == 49:
                        text = f"the server rejected the bind DN {settings.user} or its password ({text})"
                    raise LdapFailure(code, text)
        except LdapFailure:
            _quietly_close(connection)
            raise
        except (ldap_exceptions.LDAPException, OSError) as error:
            _quietly_close(connection)
            raise _network_failure(error, f"connecting to {settings.url}", settings.connect_timeout) from None
        return connection

    def _run(self, what: str, operation: Callable[[ldap3.Connection], Any], retry: bool) -> Any:
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = self._open()
            connection = self._connection
            self.operations += 1
            try:
                return operation(connection)
            except (ldap_exceptions.LDAPException, OSError) as error:
                self.close()
                failure = _network_failure(error, what, self._settings.operation_timeout)
                # A reused connection may have been closed by a server restart; only an
                # idempotent read is tried again, and only once.
                if retry and reused and attempt == 1 and failure.code != TIMEOUT:
                    continue
                raise failure from None
        raise LdapFailure(OTHER, f"{what} failed")

    @staticmethod
    def _check(connection: ldap3.Connection, allowed: Tuple[int, ...] = (0,)) -> Dict[str, Any]:
        result = connection.result or {}
        code = int(result.get("result", OTHER))
        if code not in allowed:
            raise LdapFailure(code, result.get("message") or "")
        return result

    def search(self, base: str, scope: str, filter_text: str, attributes: List[str]) -> List[Entry]:
        def operation(connection: ldap3.Connection) -> List[Entry]:
            connection.search(
                search_base=base,
                search_filter=filter_text,
                search_scope=SCOPES[scope],
                attributes=attributes or ["*"],
            )
            self._check(connection)
            return [
                (str(item["dn"]), _attributes(item.get("raw_attributes") or {}))
                for item in connection.response or []
                if item.get("type") == "searchResEntry"
            ]

        return self._run(f"searching {base}", operation, retry=True)

    def add(self, dn: str, attributes: List[Tuple[str, List[str]]], post_read: Optional[List[str]]) -> Optional[Entry]:
        self._check_writable("add", dn)
        values = {name: list(items) for name, items in attributes}

        def operation(connection: ldap3.Connection) -> Optional[Entry]:
            connection.add(dn, attributes=values, controls=_controls(post_read))
            return _post_read_entry(dn, self._check(connection))

        return self._run(f"adding {dn}", operation, retry=False)

    def modify(self, dn: str, changes: List[Tuple[str, str, List[str]]], post_read: Optional[List[str]]) -> Optional[Entry]:
        self._check_writable("modify", dn)
        grouped: Dict[str, List[Tuple[Any, List[str]]]] = {}
        for kind, name, items in changes:
            grouped.setdefault(name, []).append((CHANGE_KINDS[kind], list(items)))

        def operation(connection: ldap3.Connection) -> Optional[Entry]:
            connection.modify(dn, grouped, controls=_controls(post_read))
            return _post_read_entry(dn, self._check(connection))

        return self._run(f"modifying {dn}", operation, retry=False)

    def _check_writable(self, operation: str, dn: str) -> None:
        if self._read_only:
            raise LdapFailure(
                UNWILLING_TO_PERFORM,
                f"the host is read-only for this call, so the {operation} of {dn} was not sent",
            )


def _controls(post_read: Optional[List[str]]) -> Optional[list]:
    if post_read is None:
        return None
    return [post_read_control(list(post_read) or ["*"], criticality=True)]


def _post_read_entry(dn: str, result: Dict[str, Any]) -> Optional[Entry]:
    control = (result.get("controls") or {}).get(POST_READ_OID)
    if not control:
        return None
    value = control.get("value") or {}
    raw = value.get("result") if isinstance(value, Mapping) else None
    # ldap3 returns its case-insensitive dict here, which is a Mapping but no dict.
    if not isinstance(raw, Mapping):
        return None
    return (dn, _attributes(raw))


def _quietly_close(connection: ldap3.Connection) -> None:
    try:
        connection.unbind()
    except Exception:  # noqa: BLE001 - the connection is already broken
        pass


def _network_failure(error: BaseException, what: str, timeout: float) -> LdapFailure:
    text = str(error)
    timed_out = isinstance(error, socket.timeout) or "timed out" in text or "timeout" in text.lower()
    if timed_out:
        return LdapFailure(
            TIMEOUT,
            f"{what} got no answer within {timeout:.1f} s; check that the server is up and responsive",
        )
    if isinstance(error, ldap_exceptions.LDAPSocketOpenError) or what.startswith("connecting"):
        return LdapFailure(CONNECT_ERROR, f"{what} failed: {text}")
    return LdapFailure(SERVER_DOWN, f"{what} failed because the connection broke: {text}")
