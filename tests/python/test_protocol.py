"""The Python host's LDAP messages and filters. Requests and filters are checked
against the encoding of ldap3 and pyasn1. Responses, including cut and corrupted
ones, must decode or raise ProtocolError. A small fake server on 127.0.0.1 sends
malformed, closing and slow responses."""

import random
import re
import socket
import threading
import time

import pytest
from ldap3.operation.search import compile_filter, parse_filter
from ldap3.protocol.rfc4511 import LDAPMessage
from pyasn1.codec.ber import decoder, encoder

from ldap_hooks import protocol
from ldap_hooks.directory import DECODING_ERROR, FILTER_ERROR, SERVER_DOWN, TIMEOUT, Directory, LdapFailure
from ldap_hooks.protocol import FilterError, Message, ProtocolError
from ldap_hooks.settings import Connection

FILTERS = [
    "(cn=x)",
    "(&(objectClass=X-certsDistinguishedName)(objectClass=posixAccount)(c=DK)(cn=Bench e1))",
    "(|(cn=a*)(!(sn=*)))",
    "(cn=*a*b*)",
    "(cn=a*)",
    "(cn=*z)",
    "(uidNumber>=5)",
    "(uidNumber<=7)",
    "(cn~=jane)",
    "(cn:caseExactMatch:=Jane)",
    "(cn:dn:2.5.13.5:=Jane)",
    "(:caseExactMatch:=Jane)",
    "(cn=\\28x\\29\\2a\\5c\\00)",
    "(cn=ø Søren 名前)",
    "(cn=\\c3\\b8)",
    "(cn;lang-da=x)",
    "(2.5.4.3=x)",
    "(objectclass=x-nextUserIdentifier)",
    "  (cn=padded)  ",
]

INVALID_FILTERS = [
    ("", "expected ("),
    ("cn=x", "expected ("),
    ("(cn=x", "no closing"),
    ("(cn=x)(sn=y)", "after the filter"),
    ("((cn=x))", "not an attribute description"),
    ("(cn=a(b)", "unescaped ("),
    ("(cn=\\zz)", "two hex digits"),
    ("(cn=\\4)", "two hex digits"),
    ("(=x)", "no attribute"),
    ("(cn)", "no attribute"),
    ("(c n=x)", "not an attribute description"),
    ("(&(cn=x)", "expected )"),
    ("(!(cn=x)(sn=y))", "expected )"),
    ("(:=x)", "neither an attribute"),
    ("(cn:a:b:=x)", "extensible match"),
    ("(" * 40 + "cn=x" + ")" * 40, "not an attribute description"),
    ("(&" * 40 + "(cn=x)" + ")" * 40, "nests deeper"),
]


def ldap3_filter(text):
    parsed = parse_filter(text.strip(), None, False, False, None, False)
    encoded = encoder.encode(compile_filter(parsed.elements[0]))
    # BER allows any nonzero octet for TRUE: pyasn1 writes 01, the host writes FF as DER does.
    return encoded.replace(b"\x84\x01\x01", b"\x84\x01\xff")


@pytest.mark.parametrize("text", FILTERS)
def test_filter_encoding_matches_ldap3(text):
    assert protocol.parse_filter(text) == ldap3_filter(text)


@pytest.mark.parametrize("text,reason", INVALID_FILTERS)
def test_filter_invalid_text_raises(text, reason):
    with pytest.raises(FilterError, match=re.escape(reason)):
        protocol.parse_filter(text)


def test_filter_empty_and_is_absolute_true():
    # RFC 4526: (&) is always true and (|) always false; ldap3 cannot parse them.
    assert protocol.parse_filter("(&)") == b"\xa0\x00"
    assert protocol.parse_filter("(|)") == b"\xa1\x00"


def decoded(data):
    value, rest = decoder.decode(data, asn1Spec=LDAPMessage())
    assert rest == b""
    return value


def test_search_request_decodes_with_pyasn1():
    data = protocol.message(7, protocol.search_request("dc=example,dc=org", "whole-subtree", "(cn=x)", ["cn", "*"]))
    value = decoded(data)
    request = value["protocolOp"]["searchRequest"]
    assert int(value["messageID"]) == 7
    assert str(request["baseObject"]) == "dc=example,dc=org"
    assert int(request["scope"]) == 2
    assert int(request["derefAliases"]) == 0
    assert [str(name) for name in request["attributes"]] == ["cn", "*"]


def test_add_request_with_control_decodes_with_pyasn1():
    request = protocol.add_request("cn=Jane,dc=example,dc=org", [("cn", ["Jane"]), ("description", ["ø", ""])])
    value = decoded(protocol.message(300, request, [protocol.post_read_control(["uidNumber"])]))
    attributes = value["protocolOp"]["addRequest"]["attributes"]
    assert int(value["messageID"]) == 300
    assert [str(item["type"]) for item in attributes] == ["cn", "description"]
    assert [bytes(item) for item in attributes[1]["vals"]] == ["ø".encode(), b""]
    control = value["controls"][0]
    assert str(control["controlType"]) == "1.3.6.1.1.13.2"
    assert bool(control["criticality"]) is True


def test_modify_request_keeps_change_order():
    changes = [("delete", "uidNumber", ["2001"]), ("add", "uidNumber", ["2002"]), ("increment", "n", ["1"]),
               ("replace", "cn", [])]
    value = decoded(protocol.message(1, protocol.modify_request("cn=uidNext,dc=example,dc=org", changes)))
    sent = value["protocolOp"]["modifyRequest"]["changes"]
    assert [int(change["operation"]) for change in sent] == [1, 0, 3, 2]
    assert [str(change["modification"]["type"]) for change in sent] == ["uidNumber", "uidNumber", "n", "cn"]


def test_bind_request_decodes_with_pyasn1():
    value = decoded(protocol.message(1, protocol.bind_request("cn=admin,dc=example,dc=org", "secret")))
    request = value["protocolOp"]["bindRequest"]
    assert int(request["version"]) == 3
    assert bytes(request["authentication"]["simple"]) == b"secret"


def search_entry(message_id=2):
    entry = protocol.sequence(
        [
            protocol.octets("cn=Jane,dc=example,dc=org"),
            protocol.sequence([
                protocol.sequence([protocol.octets("cn"), protocol.sequence([protocol.octets("Jane")], protocol.SET)]),
                protocol.sequence([protocol.octets("photo"),
                                   protocol.sequence([protocol.octets(b"\xff\xfe")], protocol.SET)]),
            ]),
        ],
        protocol.SEARCH_RESULT_ENTRY,
    )
    return protocol.message(message_id, entry)


def result(message_id, tag, code=0, text="", controls=None):
    body = protocol.sequence(
        [protocol.integer(code, protocol.ENUMERATED), protocol.octets(""), protocol.octets(text)], tag)
    return protocol.message(message_id, body, controls)


def test_entry_and_result_decode():
    entry = Message(search_entry())
    assert entry.entry() == ("cn=Jane,dc=example,dc=org", [("cn", [b"Jane"]), ("photo", [b"\xff\xfe"])])
    done = Message(result(2, protocol.SEARCH_RESULT_DONE, 32, "no such object"))
    assert done.result() == (32, "", "no such object")


def test_cut_and_corrupted_responses_raise_protocol_error():
    valid = search_entry()
    rng = random.Random(4515)
    samples = [valid[:size] for size in range(len(valid))]
    for _ in range(3000):
        mutated = bytearray(valid)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        samples.append(bytes(mutated))
    decoded_count = 0
    for data in samples:
        try:
            Message(data).entry()
            decoded_count += 1
        except ProtocolError:
            pass
    # Some mutations only change text, so they still decode.
    assert decoded_count < len(samples)


def test_frame_size_rejects_oversized_and_indefinite():
    with pytest.raises(ProtocolError, match="larger than the limit"):
        protocol.frame_size(b"\x30\x84\x7f\xff\xff\xff")
    with pytest.raises(ProtocolError, match="indefinite"):
        protocol.frame_size(b"\x30\x80")
    with pytest.raises(ProtocolError, match="instead of a SEQUENCE"):
        protocol.frame_size(b"\x04\x00")
    assert protocol.frame_size(b"\x30\x82\x01") is None


class FakeServer:
    """A server on 127.0.0.1 that reads one request per reply and sends the replies
    from `answers`: bytes, or a function that gets the socket."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            connection, _ = self.listener.accept()
        except OSError:
            # Closed before any client connected, because the test sent nothing.
            return
        with connection:
            try:
                for answer in self.answers:
                    if not connection.recv(65536):
                        return
                    if callable(answer):
                        answer(connection)
                    else:
                        connection.sendall(answer)
                time.sleep(0.5)
            except OSError:
                # The client closes the connection once it has given up.
                return

    def close(self):
        self.listener.close()


def directory_for(server, timeout=1.0):
    settings = Connection(url=f"ldap://127.0.0.1:{server.port}", host="127.0.0.1", port=server.port,
                          use_ssl=False, user="cn=admin", password="secret", connect_timeout=2.0,
                          operation_timeout=timeout)
    return Directory(settings)


BIND_OK = result(1, protocol.BIND_RESPONSE)


@pytest.mark.parametrize("reply,code,message", [
    (b"\x30\x03\x02\x01\x02garbage", DECODING_ERROR, "malformed response"),
    (protocol.message(0, protocol.sequence([
        protocol.integer(52, protocol.ENUMERATED), protocol.octets(""), protocol.octets("shutting down"),
        protocol.octets(protocol.NOTICE_OF_DISCONNECTION_OID, protocol.EXTENDED_RESPONSE_NAME)],
        protocol.EXTENDED_RESPONSE)), SERVER_DOWN, "shutting down"),
    (result(9, protocol.SEARCH_RESULT_DONE), DECODING_ERROR, "message id 9"),
    (result(2, protocol.ADD_RESPONSE), DECODING_ERROR, "operation tag 0x69"),
    (b"", SERVER_DOWN, "closed the connection"),
])
def test_directory_reports_bad_server_answers(reply, code, message):
    def answer(connection):
        if reply:
            connection.sendall(reply)
        else:
            connection.close()

    server = FakeServer([BIND_OK, answer])
    directory = directory_for(server)
    with pytest.raises(LdapFailure) as failure:
        directory.search("dc=example,dc=org", "base-object", "(objectClass=*)", [])
    server.close()
    assert failure.value.code == code
    assert message in failure.value.message
    assert "secret" not in str(failure.value)


def test_directory_times_out_on_a_slow_drip():
    reply = search_entry() + result(2, protocol.SEARCH_RESULT_DONE)

    def drip(connection):
        for byte in reply:
            connection.sendall(bytes((byte,)))
            time.sleep(0.05)

    server = FakeServer([BIND_OK, drip])
    directory = directory_for(server, timeout=1.0)
    # Each byte comes within the timeout, but the whole response takes about 3 s.
    with pytest.raises(LdapFailure) as failure:
        directory.search("dc=example,dc=org", "base-object", "(objectClass=*)", [])
    server.close()
    assert failure.value.code == TIMEOUT


def test_directory_rejects_invalid_filter_without_sending():
    server = FakeServer([BIND_OK])
    directory = directory_for(server)
    with pytest.raises(LdapFailure) as failure:
        directory.search("dc=example,dc=org", "base-object", "(cn=a(b)", [])
    server.close()
    assert failure.value.code == FILTER_ERROR
    assert "(cn=a(b)" in failure.value.message
    assert directory.operations == 0
