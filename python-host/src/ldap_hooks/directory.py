"""The Python host's LDAP connection: the WIT ``directory`` import.

The host speaks LDAP itself (`protocol`), because the few operations it sends are
simple to encode, and a general client library spent more time building and
reading messages than the server spent processing them. It needs no C compiler or
OpenLDAP headers. TLS comes from Python's ``ssl`` module, with a CA file and host
name checks. Connecting has a timeout, and so has every operation: the whole response
must arrive within ``operation_timeout``, however the server spreads it out.

Each worker thread owns one ``Directory``. The connection stays open across spawns;
after a network failure it is closed and the next operation reconnects. A search
that fails that way is retried once on a new connection, because reading twice is
harmless. Adds and modifies are not retried, so a write is never sent twice.
"""

import socket
import ssl
import time
from typing import Callable, List, Optional, Tuple, TypeVar

from . import protocol
from .protocol import FilterError, Message, ProtocolError
from .settings import Connection

# Client-side result codes of OpenLDAP's C API, for failures without a server result.
SERVER_DOWN = 81
DECODING_ERROR = 84
TIMEOUT = 85
FILTER_ERROR = 87
CONNECT_ERROR = 91
OTHER = 80
UNWILLING_TO_PERFORM = 53

POST_READ_OID = "1.3.6.1.1.13.2"

#: RFC 4511 names of result codes, and the names of the client-side codes above.
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
    80: "other", SERVER_DOWN: "serverDown", DECODING_ERROR: "decodingError", TIMEOUT: "timeout",
    FILTER_ERROR: "filterError", CONNECT_ERROR: "connectError",
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


def _decode(values: List[bytes]) -> List[str]:
    """Decode raw values as UTF-8 and leave out the binary ones."""
    decoded = []
    for value in values:
        try:
            decoded.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return decoded


def _attributes(raw: List[Tuple[str, List[bytes]]]) -> List[Tuple[str, List[str]]]:
    attributes = [(name, _decode(values)) for name, values in raw]
    return sorted((item for item in attributes if item[1]), key=lambda item: item[0].lower())




class Closed(Exception):
    """The server closed the connection or announced that it would."""


class Client:
    """One LDAP connection with one operation at a time, bounded by deadlines."""

    def __init__(self, sock: socket.socket, settings: Connection, tls: Optional[ssl.SSLContext]):
        self._socket = sock
        self._settings = settings
        self._tls = tls
        self._buffer = bytearray()
        self._next_id = 1

    @classmethod
    def connect(cls, settings: Connection) -> "Client":
        """Open a TCP connection, with TLS for ldaps:// URLs; raises OSError or ssl.SSLError."""
        context = tls_context(settings) if settings.use_ssl or settings.start_tls else None
        sock = socket.create_connection((settings.host, settings.port), timeout=settings.connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if settings.use_ssl and context is not None:
                sock = context.wrap_socket(sock, server_hostname=settings.host)
        except BaseException:
            sock.close()
            raise
        return cls(sock, settings, context)

    def start_tls(self) -> None:
        """Send the StartTLS request and wrap the connection in TLS once the server agrees."""
        reply = self.request(protocol.start_tls_request(), protocol.EXTENDED_RESPONSE)
        code, _, text = reply.result()
        if code != 0:
            raise LdapFailure(code, f"the server rejected StartTLS: {text or RESULT_NAMES.get(code, code)}")
        if self._tls is None:
            raise LdapFailure(OTHER, "StartTLS needs a TLS context")
        self._socket.settimeout(self._settings.connect_timeout)
        self._socket = self._tls.wrap_socket(self._socket, server_hostname=self._settings.host)

    def request(self, operation: bytes, done: int, controls: Optional[List[bytes]] = None,
                entries: Optional[List[Message]] = None) -> Message:
        """Send one operation and return the response with the tag `done`. Search
        result entries before it are added to `entries`."""
        message_id = self._next_id
        self._next_id = message_id + 1 if message_id < 0x7FFFFFFF else 1
        deadline = time.monotonic() + self._settings.operation_timeout
        self._send(protocol.message(message_id, operation, controls), deadline)
        while True:
            reply = self._receive(deadline)
            if reply.message_id == 0:
                self._unsolicited(reply)
                continue
            if reply.message_id != message_id:
                raise ProtocolError(f"a response has the message id {reply.message_id}, expected {message_id}")
            if reply.tag == done:
                return reply
            if reply.tag == protocol.SEARCH_RESULT_ENTRY and entries is not None:
                entries.append(reply)
            elif reply.tag not in (protocol.SEARCH_RESULT_REFERENCE, protocol.INTERMEDIATE_RESPONSE):
                raise ProtocolError(f"a response has the operation tag 0x{reply.tag:02x}, expected 0x{done:02x}")

    def _unsolicited(self, reply: Message) -> None:
        if reply.tag == protocol.EXTENDED_RESPONSE:
            _, _, text = reply.result()
            if reply.extended_name() in (protocol.NOTICE_OF_DISCONNECTION_OID, None):
                raise Closed(f"the server is closing the connection: {text or 'no reason given'}")

    def _send(self, data: bytes, deadline: float) -> None:
        self._socket.settimeout(_remaining(deadline))
        self._socket.sendall(data)

    def _receive(self, deadline: float) -> Message:
        buffer = self._buffer
        while True:
            size = protocol.frame_size(buffer)
            if size is not None and len(buffer) >= size:
                data = bytes(buffer[:size])
                del buffer[:size]
                return Message(data)
            self._socket.settimeout(_remaining(deadline))
            chunk = self._socket.recv(65536)
            if not chunk:
                raise Closed("the server closed the connection")
            buffer += chunk

    def close(self) -> None:
        """Send an unbind request if the connection still works, then close it."""
        try:
            self._socket.settimeout(0.5)
            self._socket.sendall(protocol.message(self._next_id, protocol.unbind_request()))
        except (OSError, ValueError):
            pass
        try:
            self._socket.close()
        except OSError:
            pass


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise socket.timeout("timed out")
    return remaining


def tls_context(settings: Connection) -> ssl.SSLContext:
    """Return a TLS client context that checks the certificate and the host name
    against the CA file, unless the insecure option is set."""
    try:
        context = ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as error:
        raise LdapFailure(CONNECT_ERROR, f"tls_ca_file {settings.ca_file}: {error}") from None
    if settings.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


Result = TypeVar("Result")


class Directory:
    """One connection, opened on first use and reopened after a network failure."""

    def __init__(self, settings: Connection, read_only: bool = False):
        self._settings = settings
        self._read_only = read_only
        self._client: Optional[Client] = None
        self.operations = 0

    @property
    def url(self) -> str:
        return self._settings.url

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _open(self) -> Client:
        settings = self._settings
        what = f"connecting to {settings.url}"
        try:
            client = Client.connect(settings)
        except LdapFailure:
            raise
        except (OSError, ssl.SSLError, ValueError) as error:
            raise _network_failure(error, what, settings.connect_timeout) from None
        try:
            if settings.start_tls:
                what = f"StartTLS with {settings.url}"
                client.start_tls()
            if settings.user:
                what = f"binding to {settings.url}"
                self.operations += 1
                reply = client.request(protocol.bind_request(settings.user, settings.password),
                                       protocol.BIND_RESPONSE)
                code, _, text = reply.result()
                if code == 49:
                    raise LdapFailure(code, f"the server rejected the bind DN {settings.user} or its password ({text})")
                if code != 0:
                    raise LdapFailure(code, text)
        except LdapFailure:
            client.close()
            raise
        except ProtocolError as error:
            client.close()
            raise _malformed(error, what) from None
        except (OSError, ssl.SSLError, Closed, ValueError) as error:
            client.close()
            raise _network_failure(error, what, settings.operation_timeout) from None
        return client

    def _run(self, what: str, operation: Callable[[Client], Result], retry: bool) -> Result:
        for attempt in (1, 2):
            reused = self._client is not None
            if self._client is None:
                self._client = self._open()
            client = self._client
            self.operations += 1
            try:
                return operation(client)
            except ProtocolError as error:
                self.close()
                raise _malformed(error, what) from None
            except (OSError, ssl.SSLError, Closed, ValueError) as error:
                self.close()
                failure = _network_failure(error, what, self._settings.operation_timeout)
                # A reused connection may have been closed by a server restart; only an
                # idempotent read is tried again, and only once.
                if retry and reused and attempt == 1 and failure.code != TIMEOUT:
                    continue
                raise failure from None
        raise LdapFailure(OTHER, f"{what} failed")

    def search(self, base: str, scope: str, filter_text: str, attributes: List[str]) -> List[Entry]:
        try:
            request = protocol.search_request(base, scope, filter_text, attributes or ["*"])
        except FilterError as error:
            raise LdapFailure(FILTER_ERROR, f"the search filter {filter_text} is invalid: {error}") from None

        def operation(client: Client) -> List[Entry]:
            found: List[Message] = []
            done = client.request(request, protocol.SEARCH_RESULT_DONE, entries=found)
            _check(done)
            entries = []
            for reply in found:
                dn, raw = reply.entry()
                entries.append((dn, _attributes(raw)))
            return entries

        return self._run(f"searching {base}", operation, retry=True)

    def add(self, dn: str, attributes: List[Tuple[str, List[str]]], post_read: Optional[List[str]]) -> Optional[Entry]:
        self._check_writable("add", dn)
        request = protocol.add_request(dn, attributes)

        def operation(client: Client) -> Optional[Entry]:
            reply = client.request(request, protocol.ADD_RESPONSE, _controls(post_read))
            _check(reply)
            return _post_read_entry(dn, reply)

        return self._run(f"adding {dn}", operation, retry=False)

    def modify(self, dn: str, changes: List[Tuple[str, str, List[str]]], post_read: Optional[List[str]]) -> Optional[Entry]:
        self._check_writable("modify", dn)
        request = protocol.modify_request(dn, changes)

        def operation(client: Client) -> Optional[Entry]:
            reply = client.request(request, protocol.MODIFY_RESPONSE, _controls(post_read))
            _check(reply)
            return _post_read_entry(dn, reply)

        return self._run(f"modifying {dn}", operation, retry=False)

    def _check_writable(self, operation: str, dn: str) -> None:
        if self._read_only:
            raise LdapFailure(
                UNWILLING_TO_PERFORM,
                f"the host is read-only for this call, so the {operation} of {dn} was not sent",
            )


def _check(reply: Message) -> None:
    code, _, text = reply.result()
    if code != 0:
        raise LdapFailure(code, text)


def _controls(post_read: Optional[List[str]]) -> Optional[List[bytes]]:
    if post_read is None:
        return None
    return [protocol.post_read_control(list(post_read) or ["*"])]


def _post_read_entry(dn: str, reply: Message) -> Optional[Entry]:
    value = reply.controls.get(POST_READ_OID)
    if not value:
        return None
    found = protocol.element(value, 0, len(value))
    if found[0] != protocol.SEARCH_RESULT_ENTRY:
        raise ProtocolError(f"the post-read control contains tag 0x{found[0]:02x} instead of an entry")
    _, raw = protocol.read_entry(value, found)
    return (dn, _attributes(raw))


def _malformed(error: ProtocolError, what: str) -> LdapFailure:
    return LdapFailure(DECODING_ERROR, f"{what} failed because the server sent a malformed response: {error}")


def _network_failure(error: BaseException, what: str, timeout: float) -> LdapFailure:
    text = str(error) or type(error).__name__
    if isinstance(error, socket.timeout) or "timed out" in text:
        return LdapFailure(
            TIMEOUT,
            f"{what} got no answer within {timeout:.1f} s; check that the server is up and responsive",
        )
    if what.startswith(("connecting", "StartTLS")):
        return LdapFailure(CONNECT_ERROR, f"{what} failed: {text}")
    return LdapFailure(SERVER_DOWN, f"{what} failed because the connection broke: {text}")
