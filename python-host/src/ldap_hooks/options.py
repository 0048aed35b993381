"""The ``LDAP`` configurable: every option of the hook, as in ldap-hooks 0.1.2.

Options can be set the way existing sites do, as class attributes in
``jupyterhub_config.py`` (``LDAP.url = "ldap://..."``), or through the traitlets
configuration (``c.LDAP.url = "ldap://..."``). A class attribute replaces the trait,
so the hook reads each option with ``getattr`` and converts it in ``settings``.
"""

from textwrap import dedent

from traitlets import Bool, Dict, Float, Integer, List, Tuple, Unicode
from traitlets.config import LoggingConfigurable

DEFAULT_STRIP_CHARS = ["/", "+", "*", ",", ".", "!", " "]


def _help(text):
    return dedent(text).strip()


class LDAP(LoggingConfigurable):
    """Options of the ldap-hooks pre_spawn_hook."""

    url = Unicode(
        "",
        config=True,
        help=_help(
            """
            The LDAP server: `host`, `host:port`, `ldap://host:port` or `ldaps://host:port`.
            The port defaults to 389, or 636 for ldaps://. Required.
            Example: "ldap://ldap.example.org:389"
            """
        ),
    )

    user = Unicode(
        "",
        config=True,
        help=_help(
            """
            The bind DN. Leave it and `password` empty for an anonymous bind.
            Default: "" (anonymous). Example: "cn=admin,dc=example,dc=org"
            """
        ),
    )

    password = Unicode(
        "",
        allow_none=True,
        config=True,
        help=_help(
            """
            The password of the bind DN. It is never logged.
            Default: "" (anonymous). Example: os.environ["LDAP_PASSWORD"]
            """
        ),
    )

    base_dn = Unicode(
        "",
        config=True,
        help=_help(
            """
            The DN below which new entries are created and existing ones are searched.
            Required. Example: "dc=example,dc=org"
            """
        ),
    )

    ssl_cert_path = Unicode(
        None,
        allow_none=True,
        config=True,
        help=_help(
            """
            Accepted for compatibility with ldap-hooks 0.1.2 and not used; a warning is
            logged when it is set. Set `tls_ca_file` to the CA certificate instead.
            Default: None.
            """
        ),
    )

    tls_ca_file = Unicode(
        None,
        allow_none=True,
        config=True,
        help=_help(
            """
            A PEM file with the CA certificates that may sign the server's certificate,
            for ldaps:// and StartTLS. Default: None (the system's trusted CAs).
            Example: "/etc/ssl/certs/example-ca.pem"
            """
        ),
    )

    start_tls = Bool(
        False,
        config=True,
        help=_help(
            """
            Send StartTLS before binding on an ldap:// URL. Default: False.
            """
        ),
    )

    tls_insecure_skip_verify = Bool(
        False,
        config=True,
        help=_help(
            """
            Skip the checks of the server's certificate and host name. Anyone on the
            network path can then read the password; use it only for tests.
            Default: False.
            """
        ),
    )

    connect_timeout = Float(
        5.0,
        config=True,
        help=_help(
            """
            Seconds to wait for the TCP connection, TLS and the bind. Default: 5.0.
            """
        ),
    )

    operation_timeout = Float(
        10.0,
        config=True,
        help=_help(
            """
            Seconds to wait for the whole response to each LDAP operation.
            Default: 10.0.
            """
        ),
    )

    worker_threads = Integer(
        4,
        config=True,
        help=_help(
            """
            Threads that run hooks next to the hub's event loop, each with its own LDAP
            connection. More threads let more spawns talk to the directory at once.
            Default: 4.
            """
        ),
    )

    worker_processes = Bool(
        True,
        config=True,
        help=_help(
            """
            Whether each worker thread runs the components and its LDAP connection in a
            child process of the same Python. The Python work of a hook then holds
            the child's GIL instead of the hub's, so the event loop is not delayed.
            A child is ready about half a second after its thread's first spawn,
            which runs in the hub's process, and takes about 90 MB of memory.
            Worker processes need a POSIX system; elsewhere hooks run in the hub's process.
            Set it to False where the hub may not start processes. Default: True.
            """
        ),
    )

    rules_component = Unicode(
        None,
        allow_none=True,
        config=True,
        help=_help(
            """
            A WebAssembly component of the dn-rule world to use instead of the built-in DN
            rules. It runs sandboxed, like the built-in components. Default: None.
            Example: "/srv/jupyterhub/x509-uid.wasm"
            """
        ),
    )

    hook_component = Unicode(
        None,
        allow_none=True,
        config=True,
        help=_help(
            """
            A WebAssembly component of the entry-hook world to use instead of the built-in
            hook. Default: None.
            """
        ),
    )

    component_fuel = Integer(
        1_000_000_000,
        config=True,
        help=_help(
            """
            Fuel per component call, about one unit per WebAssembly instruction; a call
            that uses it up fails, which stops endless loops. Default: 1000000000.
            """
        ),
    )

    component_memory_mb = Integer(
        256,
        config=True,
        help=_help(
            """
            Linear memory per component instance, in MiB. Default: 256.
            """
        ),
    )

    component_stderr_to_log = Bool(
        False,
        config=True,
        help=_help(
            """
            Send what a component writes to standard error, such as a Rust panic message,
            to the hub's log. Default: False.
            """
        ),
    )

    submit_spawner_attribute = Unicode(
        None,
        allow_none=True,
        config=True,
        help=_help(
            """
            Dotted path of attributes on the spawner that leads to the submitted value,
            which names the user's entry. Required.
            Examples: "user_options", "user.data"
            """
        ),
    )

    submit_spawner_attribute_keys = Tuple(
        default_value=(),
        allow_none=True,
        config=True,
        help=_help(
            """
            Keys to follow when the submitted value is a dict. Default: ().
            Example: ("User", "CERT") for {"User": {"CERT": "/CN=Jane Doe"}}
            """
        ),
    )

    replace_object_with = Dict(
        value_trait=Unicode(),
        key_trait=Unicode(),
        default_value={},
        config=True,
        help=_help(
            """
            Text replacements applied in order to the submitted value before it is read.
            Default: {}. Example: {"/": "+"}, which reads the X.509 subject
            "/C=DK/CN=Jane Doe" as the multi-valued RDN "c=DK+cn=Jane Doe".
            """
        ),
    )

    name_strip_chars = List(
        trait=Unicode(),
        default_value=list(DEFAULT_STRIP_CHARS),
        config=True,
        help=_help(
            """
            Characters removed from both ends of the submitted value and of attribute
            names, never from inside a value. Default: ["/", "+", "*", ",", ".", "!", " "].
            """
        ),
    )

    object_classes = List(
        trait=Unicode(),
        default_value=[],
        config=True,
        help=_help(
            """
            Object classes of a new entry; each must be in the server's schema. Required.
            Example: ["inetOrgPerson", "posixAccount"]
            """
        ),
    )

    object_attributes = Dict(
        key_trait=Unicode(),
        default_value={},
        config=True,
        help=_help(
            """
            Attributes of a new entry, as text or a list of texts. Values may contain
            {name} placeholders from `dynamic_attributes`; {{ and }} are literal braces.
            Default: {}. Example: {"uid": "{name}", "homeDirectory": "/home/{name}"}
            """
        ),
    )

    unique_object_attributes = List(
        trait=Unicode(),
        default_value=[],
        config=True,
        help=_help(
            """
            Attributes that identify an existing entry, together with the object classes.
            Default: [] (every attribute of the submitted name). Example: ["CN"]
            """
        ),
    )

    dynamic_attributes = Dict(
        value_trait=Unicode(),
        key_trait=Unicode(),
        default_value={},
        config=True,
        help=_help(
            """
            Placeholder names with the source of their values, one of
            DYNAMIC_ATTRIBUTE_METHODS. Default: {}.
            Example: {"name": SPAWNER_USER_ATTRIBUTE, "uidNumber": LDAP_SEARCH_ATTRIBUTE_QUERY}
            """
        ),
    )

    search_attribute_queries = List(
        trait=Dict(),
        default_value=[],
        config=True,
        help=_help(
            """
            Searches run before a new entry is added; their results feed placeholders.
            Each is a dict with search_base, search_filter and attributes. Default: [].
            Example: [{"search_base": "dc=example,dc=org",
                       "search_filter": "(objectClass=x-nextUserIdentifier)",
                       "attributes": ["uidNumber"]}]
            """
        ),
    )

    search_result_operations = Dict(
        value_trait=Dict(),
        key_trait=Unicode(),
        default_value={},
        config=True,
        help=_help(
            """
            Values allocated for a new entry by incrementing a counter entry; the action
            must be INCREMENT_ATTRIBUTE. Default: {}.
            Example: {"uidNumber": {"action": INCREMENT_ATTRIBUTE,
                                    "modify_dn": "cn=uidNext,dc=example,dc=org"}}
            """
        ),
    )

    allocation_method = Unicode(
        "auto",
        config=True,
        help=_help(
            """
            How counters of search_result_operations move: "compare-and-swap" (delete the
            value read and add the next in one modify, retried on conflict), "increment"
            (Modify-Increment with the Post-Read control, one round trip) or "auto"
            (increment where the server advertises both). Default: "auto".
            """
        ),
    )

    set_spawner_attributes = Dict(
        default_value={},
        config=True,
        help=_help(
            """
            Attributes set on the spawner once the entry exists. A dict merges into an
            existing dict attribute such as `environment`; anything else replaces the
            attribute. Strings may contain placeholders. Default: {}.
            Example: {"environment": {"NB_USER": "{uid}", "NB_UID": "{uidNumber}"}}
            """
        ),
    )
