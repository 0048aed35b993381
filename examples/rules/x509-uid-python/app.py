"""An example DN-rule component in Python, built with componentize-py.

It implements the same rule as the Rust example in examples/rules/x509-uid: the
subject /C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org names the entry
uid=jane below ou=people, and the templates get cn, sn (the last word of the CN)
and mail.

Build it with:

    componentize-py -d wit -w dn-rule componentize app -p examples/rules/x509-uid-python -o x509-uid-python.wasm
"""

import re

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.dn_rules import AttributeValue, ParsedName, RuleOptions

USER_NAME = re.compile(r"[a-z0-9._-]+")


def read_subject(subject: str) -> list:
    pairs = []
    for part in subject.split("/"):
        if not part.strip():
            continue
        if "=" not in part:
            raise Err(f"the part `{part}` of the subject `{subject}` has no `=`")
        key, value = part.split("=", 1)
        pairs.append((key.strip().lower(), value.strip()))
    return pairs


def find(pairs: list, keys: tuple):
    for key, value in pairs:
        if key in keys and value:
            return value
    return None


class DnRules(exports.DnRules):
    def parse(self, submitted: str, options: RuleOptions) -> ParsedName:
        pairs = read_subject(submitted)
        cn = find(pairs, ("cn",))
        if cn is None:
            raise Err("the subject has no CN; a certificate subject names its owner in CN")
        mail = find(pairs, ("emailaddress", "email", "e"))
        if mail is None:
            raise Err("the subject has no emailAddress, from which the user name is taken")
        if "@" not in mail:
            raise Err(f"the e-mail address `{mail}` has no `@`")

        local, domain = mail.split("@", 1)
        uid = local.lower()
        if not domain or not USER_NAME.fullmatch(uid):
            raise Err(
                f"the e-mail address `{mail}` does not give a user name: its local part must contain "
                "only letters, digits, dots, hyphens and underscores"
            )
        sn = cn.split()[-1]
        return ParsedName(
            rdn=[AttributeValue("uid", uid)],
            parent=[[AttributeValue("ou", "people")]],
            template_values=[AttributeValue("cn", cn), AttributeValue("sn", sn), AttributeValue("mail", mail)],
        )
