"""LDAPv3 messages in BER (RFC 4511) and string filters (RFC 4515), for the few
operations the Python host sends: bind, search, add, modify, StartTLS and unbind.

Requests are built from bytes directly. Responses are read with bounds checks
on every length, so a malformed or hostile response raises `ProtocolError` instead
of reading past its end.
"""

from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

Text = Union[str, bytes]

# Universal tags.
BOOLEAN = 0x01
INTEGER = 0x02
OCTET_STRING = 0x04
ENUMERATED = 0x0A
SEQUENCE = 0x30
SET = 0x31

# Protocol operations (RFC 4511, section 4.2 onwards).
BIND_REQUEST = 0x60
BIND_RESPONSE = 0x61
UNBIND_REQUEST = 0x42
SEARCH_REQUEST = 0x63
SEARCH_RESULT_ENTRY = 0x64
SEARCH_RESULT_DONE = 0x65
SEARCH_RESULT_REFERENCE = 0x73
MODIFY_REQUEST = 0x66
MODIFY_RESPONSE = 0x67
ADD_REQUEST = 0x68
ADD_RESPONSE = 0x69
EXTENDED_REQUEST = 0x77
EXTENDED_RESPONSE = 0x78
INTERMEDIATE_RESPONSE = 0x79

CONTROLS = 0xA0
SIMPLE_AUTHENTICATION = 0x80
EXTENDED_REQUEST_NAME = 0x80
EXTENDED_RESPONSE_NAME = 0x8A

START_TLS_OID = "1.3.6.1.4.1.1466.20037"
NOTICE_OF_DISCONNECTION_OID = "1.3.6.1.4.1.1466.20036"

SCOPES = {"base-object": 0, "single-level": 1, "whole-subtree": 2}
CHANGE_OPERATIONS = {"add": 0, "delete": 1, "replace": 2, "increment": 3}

#: The largest response message accepted, far above any entry the hook reads.
MAX_MESSAGE = 16 * 1024 * 1024

#: The deepest nesting of &, | and ! accepted in a filter.
MAX_FILTER_DEPTH = 32


class ProtocolError(Exception):
    """A response that is not valid BER or not the LDAP message it should be."""


class FilterError(ValueError):
    """A search filter that is not valid RFC 4515 text."""


# Encoding.


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes((size,))
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    """Encode one BER element with a definite length."""
    return bytes((tag,)) + _length(len(content)) + content


def integer(value: int, tag: int = INTEGER) -> bytes:
    return tlv(tag, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def octets(value: Text, tag: int = OCTET_STRING) -> bytes:
    return tlv(tag, value.encode("utf-8") if isinstance(value, str) else value)


def boolean(value: bool) -> bytes:
    return tlv(BOOLEAN, b"\xff" if value else b"\x00")


def sequence(parts: Sequence[bytes], tag: int = SEQUENCE) -> bytes:
    return tlv(tag, b"".join(parts))


def message(message_id: int, operation: bytes, controls: Optional[List[bytes]] = None) -> bytes:
    """Wrap a protocol operation in an LDAPMessage, with optional request controls."""
    parts = [integer(message_id), operation]
    if controls:
        parts.append(sequence(controls, CONTROLS))
    return sequence(parts)


def control(oid: str, critical: bool, value: Optional[bytes]) -> bytes:
    parts = [octets(oid)]
    if critical:
        parts.append(boolean(True))
    if value is not None:
        parts.append(octets(value))
    return sequence(parts)


def post_read_control(attributes: Sequence[str]) -> bytes:
    """Build the critical post-read request control (RFC 4527) for `attributes`."""
    return control("1.3.6.1.1.13.2", True, sequence([octets(name) for name in attributes]))


def bind_request(name: str, password: str) -> bytes:
    return sequence([integer(3), octets(name), octets(password, SIMPLE_AUTHENTICATION)], BIND_REQUEST)


def unbind_request() -> bytes:
    return tlv(UNBIND_REQUEST, b"")


def start_tls_request() -> bytes:
    return sequence([octets(START_TLS_OID, EXTENDED_REQUEST_NAME)], EXTENDED_REQUEST)


def search_request(base: str, scope: str, filter_text: str, attributes: Sequence[str]) -> bytes:
    """Build a SearchRequest that never dereferences aliases and sets no size or time
    limit of its own, because the client bounds the wait for the response."""
    return sequence(
        [
            octets(base),
            integer(SCOPES[scope], ENUMERATED),
            integer(0, ENUMERATED),
            integer(0),
            integer(0),
            boolean(False),
            parse_filter(filter_text),
            sequence([octets(name) for name in attributes]),
        ],
        SEARCH_REQUEST,
    )


def _attribute(name: str, values: Sequence[Text]) -> bytes:
    return sequence([octets(name), sequence([octets(value) for value in values], SET)])


def add_request(dn: str, attributes: Sequence[Tuple[str, Sequence[Text]]]) -> bytes:
    return sequence([octets(dn), sequence([_attribute(name, values) for name, values in attributes])], ADD_REQUEST)


def modify_request(dn: str, changes: Sequence[Tuple[str, str, Sequence[Text]]]) -> bytes:
    """Build a ModifyRequest whose changes apply in the given order, each a (kind,
    attribute, values) triple with the kinds of CHANGE_OPERATIONS."""
    encoded = [
        sequence([integer(CHANGE_OPERATIONS[kind], ENUMERATED), _attribute(name, values)])
        for kind, name, values in changes
    ]
    return sequence([octets(dn), sequence(encoded)], MODIFY_REQUEST)


# Filters (RFC 4515).

_FILTER_AND = 0xA0
_FILTER_OR = 0xA1
_FILTER_NOT = 0xA2
_FILTER_EQUALITY = 0xA3
_FILTER_SUBSTRINGS = 0xA4
_FILTER_GREATER_OR_EQUAL = 0xA5
_FILTER_LESS_OR_EQUAL = 0xA6
_FILTER_PRESENT = 0x87
_FILTER_APPROXIMATE = 0xA8
_FILTER_EXTENSIBLE = 0xA9

_HEX = "0123456789abcdefABCDEF"
_DESCRIPTION_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-;.")


def parse_filter(text: str) -> bytes:
    """Encode an RFC 4515 filter string as the BER Filter of a SearchRequest."""
    stripped = text.strip()
    encoded, end = _filter(stripped, 0, 0)
    if end != len(stripped):
        raise FilterError(f"unexpected text after the filter at position {end}: {stripped[end:end + 20]!r}")
    return encoded


def _filter(text: str, position: int, depth: int) -> Tuple[bytes, int]:
    if depth > MAX_FILTER_DEPTH:
        raise FilterError(f"the filter nests deeper than {MAX_FILTER_DEPTH} levels")
    if position >= len(text) or text[position] != "(":
        raise FilterError(f"expected ( at position {position}")
    position += 1
    if position >= len(text):
        raise FilterError("the filter ends after (")
    kind = text[position]
    if kind in "&|":
        position += 1
        parts = []
        while position < len(text) and text[position] == "(":
            part, position = _filter(text, position, depth + 1)
            parts.append(part)
        encoded = sequence(parts, _FILTER_AND if kind == "&" else _FILTER_OR)
    elif kind == "!":
        part, position = _filter(text, position + 1, depth + 1)
        encoded = tlv(_FILTER_NOT, part)
    else:
        end = text.find(")", position)
        if end < 0:
            raise FilterError(f"the item at position {position} has no closing )")
        encoded = _item(text[position:end])
        position = end
    if position >= len(text) or text[position] != ")":
        raise FilterError(f"expected ) at position {position}")
    return encoded, position + 1


def _item(item: str) -> bytes:
    equals = item.find("=")
    if equals <= 0:
        raise FilterError(f"the item ({item}) has no attribute and operator such as cn=value")
    operator = item[equals - 1]
    value = item[equals + 1:]
    if operator == ":":
        return _extensible(item[: equals - 1], value, item)
    if operator in "~><":
        description = _description(item[: equals - 1], item)
        tag = {"~": _FILTER_APPROXIMATE, ">": _FILTER_GREATER_OR_EQUAL, "<": _FILTER_LESS_OR_EQUAL}[operator]
        return sequence([octets(description), octets(_value(value, item))], tag)
    description = _description(item[:equals], item)
    if value == "*":
        return octets(description, _FILTER_PRESENT)
    if "*" not in value:
        return sequence([octets(description), octets(_value(value, item))], _FILTER_EQUALITY)
    pieces = value.split("*")
    substrings = []
    if pieces[0]:
        substrings.append(octets(_value(pieces[0], item), 0x80))
    for piece in pieces[1:-1]:
        if piece:
            substrings.append(octets(_value(piece, item), 0x81))
    if pieces[-1]:
        substrings.append(octets(_value(pieces[-1], item), 0x82))
    return sequence([octets(description), sequence(substrings)], _FILTER_SUBSTRINGS)


def _extensible(left: str, value: str, item: str) -> bytes:
    parts = left.split(":")
    attribute = parts[0]
    dn_attributes = False
    rule = ""
    for part in parts[1:]:
        if part.lower() == "dn" and not dn_attributes and not rule:
            dn_attributes = True
        elif part and not rule:
            rule = _description(part, item)
        else:
            raise FilterError(f"the extensible match ({item}) is not attr[:dn][:rule]:=value")
    if not attribute and not rule:
        raise FilterError(f"the extensible match ({item}) names neither an attribute nor a matching rule")
    encoded = []
    if rule:
        encoded.append(octets(rule, 0x81))
    if attribute:
        encoded.append(octets(_description(attribute, item), 0x82))
    encoded.append(octets(_value(value, item), 0x83))
    if dn_attributes:
        encoded.append(tlv(0x84, b"\xff"))
    return sequence(encoded, _FILTER_EXTENSIBLE)


def _description(name: str, item: str) -> str:
    if not name or not set(name) <= _DESCRIPTION_CHARACTERS:
        raise FilterError(f"the item ({item}) has the attribute {name!r}, which is not an attribute description")
    return name


def _value(value: str, item: str) -> bytes:
    """Decode the \\XX escapes of an assertion value into its bytes."""
    if "\\" not in value:
        if "(" in value:
            raise FilterError(f"the value in ({item}) contains an unescaped (; write it as \\28")
        return value.encode("utf-8")
    decoded = bytearray()
    position = 0
    while position < len(value):
        character = value[position]
        if character == "\\":
            pair = value[position + 1:position + 3]
            if len(pair) != 2 or pair[0] not in _HEX or pair[1] not in _HEX:
                raise FilterError(f"the value in ({item}) has a \\ that is not followed by two hex digits")
            decoded.append(int(pair, 16))
            position += 3
            continue
        if character == "(":
            raise FilterError(f"the value in ({item}) contains an unescaped (; write it as \\28")
        decoded.extend(character.encode("utf-8"))
        position += 1
    return bytes(decoded)


# Decoding.

Element = Tuple[int, int, int]


def element(data: bytes, offset: int, end: int) -> Element:
    """Read the BER element at `offset`: return its tag and the bounds of its content."""
    if offset + 2 > end:
        raise ProtocolError("an element is cut short")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ProtocolError(f"the tag 0x{tag:02x} uses the multi-byte form, which LDAP does not")
    first = data[offset + 1]
    offset += 2
    if first < 0x80:
        size = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or offset + count > end:
            raise ProtocolError("an element has an indefinite or invalid length")
        size = int.from_bytes(data[offset:offset + count], "big")
        offset += count
    if offset + size > end:
        raise ProtocolError("an element is longer than the data around it")
    return tag, offset, offset + size


def children(data: bytes, start: int, stop: int) -> Iterator[Element]:
    offset = start
    while offset < stop:
        found = element(data, offset, stop)
        offset = found[2]
        yield found


def _expect(found: Element, tag: int, expected: str) -> Element:
    if found[0] != tag:
        raise ProtocolError(f"expected {expected} (tag 0x{tag:02x}), found tag 0x{found[0]:02x}")
    return found


def _text_and(data: bytes, found: Element, second: int, names: Tuple[str, str], container: str) -> Tuple[str, Element]:
    """Read an element made of an OCTET STRING and one more element with the tag `second`."""
    _, start, stop = found
    parts = children(data, start, stop)
    try:
        text = read_text(data, _expect(next(parts), OCTET_STRING, names[0]))
        rest = _expect(next(parts), second, names[1])
    except StopIteration:
        raise ProtocolError(f"{container} is missing fields") from None
    return text, rest


def read_integer(data: bytes, found: Element) -> int:
    _, start, stop = found
    if not 0 < stop - start <= 8:
        raise ProtocolError("an integer has an invalid length")
    return int.from_bytes(data[start:stop], "big", signed=True)


def read_text(data: bytes, found: Element) -> str:
    return data[found[1]:found[2]].decode("utf-8", "replace")


def frame_size(buffer: Union[bytes, bytearray]) -> Optional[int]:
    """Return the size of the LDAPMessage at the start of `buffer`, or None while its
    header is incomplete."""
    if len(buffer) < 2:
        return None
    if buffer[0] != SEQUENCE:
        raise ProtocolError(f"a message starts with tag 0x{buffer[0]:02x} instead of a SEQUENCE")
    first = buffer[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4:
        raise ProtocolError("a message has an indefinite or invalid length")
    if len(buffer) < 2 + count:
        return None
    size = 2 + count + int.from_bytes(buffer[2:2 + count], "big")
    if size > MAX_MESSAGE:
        raise ProtocolError(f"a message of {size} bytes is larger than the limit of {MAX_MESSAGE} bytes")
    return size


class Message:
    """A decoded LDAPMessage: its id, the operation element and the response controls."""

    __slots__ = ("data", "message_id", "operation", "controls")

    def __init__(self, data: bytes):
        self.data = data
        _, start, stop = _expect(element(data, 0, len(data)), SEQUENCE, "an LDAPMessage")
        parts = list(children(data, start, stop))
        if len(parts) < 2:
            raise ProtocolError("a message has no operation")
        self.message_id = read_integer(data, _expect(parts[0], INTEGER, "a message id"))
        self.operation: Element = parts[1]
        self.controls: Dict[str, bytes] = {}
        for tag, control_start, control_stop in parts[2:]:
            if tag == CONTROLS:
                self.controls = _controls(data, control_start, control_stop)

    @property
    def tag(self) -> int:
        return self.operation[0]

    def result(self) -> Tuple[int, str, str]:
        """Return the result code, matched DN and diagnostic message of an LDAPResult."""
        _, start, stop = self.operation
        parts = children(self.data, start, stop)
        try:
            code = read_integer(self.data, _expect(next(parts), ENUMERATED, "a result code"))
            matched = read_text(self.data, _expect(next(parts), OCTET_STRING, "a matched DN"))
            diagnostic = read_text(self.data, _expect(next(parts), OCTET_STRING, "a diagnostic message"))
        except StopIteration:
            raise ProtocolError("a result is missing fields") from None
        return code, matched, diagnostic

    def extended_name(self) -> Optional[str]:
        _, start, stop = self.operation
        for found in children(self.data, start, stop):
            if found[0] == EXTENDED_RESPONSE_NAME:
                return read_text(self.data, found)
        return None

    def entry(self) -> Tuple[str, List[Tuple[str, List[bytes]]]]:
        """Return the DN and the attributes of a SearchResultEntry."""
        return read_entry(self.data, self.operation)


def read_entry(data: bytes, found: Element) -> Tuple[str, List[Tuple[str, List[bytes]]]]:
    dn, (_, list_start, list_stop) = _text_and(data, found, SEQUENCE, ("an entry DN", "an attribute list"), "an entry")
    attributes = []
    for attribute in children(data, list_start, list_stop):
        _expect(attribute, SEQUENCE, "an attribute")
        name, (_, values_start, values_stop) = _text_and(
            data, attribute, SET, ("an attribute name", "a set of values"), "an attribute")
        values = [data[value_start:value_stop] for _, value_start, value_stop in
                  children(data, values_start, values_stop)]
        attributes.append((name, values))
    return dn, attributes


def _controls(data: bytes, start: int, stop: int) -> Dict[str, bytes]:
    found = {}
    for item in children(data, start, stop):
        _, item_start, item_stop = _expect(item, SEQUENCE, "a control")
        parts = list(children(data, item_start, item_stop))
        if not parts:
            raise ProtocolError("a control has no type")
        oid = read_text(data, _expect(parts[0], OCTET_STRING, "a control type"))
        value = b""
        for tag, value_start, value_stop in parts[1:]:
            if tag == OCTET_STRING:
                value = data[value_start:value_stop]
        found[oid] = value
    return found
