"""Reading the ``LDAP`` options into connection settings and the hook's configuration.

Options set as class attributes bypass traitlets' type checks, so every option is
checked here and a wrong type gives a message that names the option. The meaning of
the values (sources, actions, templates, filters) is checked by the hook component,
the same way for both hosts.
"""

import copy
import json
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from .errors import ConfigurationError
from .options import DEFAULT_STRIP_CHARS, LDAP
from .records import record
from .limits import DEFAULT_FUEL, DEFAULT_MEMORY_MB, Limits

@dataclass(frozen=True)
class Connection:
    """How to reach and bind to the server."""

    url: str
    host: str
    port: int
    use_ssl: bool
    user: str
    password: str = ""
    start_tls: bool = False
    ca_file: Optional[str] = None
    insecure_skip_verify: bool = False
    connect_timeout: float = 5.0
    operation_timeout: float = 10.0

    def __repr__(self) -> str:
        # The password must never reach a log line or an error message.
        return f"Connection(url={self.url!r}, user={self.user!r})"


@dataclass(frozen=True)
class Settings:
    connection: Connection
    #: The WIT `config` record for the hook component.
    hook_config: Any
    #: A digest of the hook configuration, to reuse what `configure` checked.
    hook_key: str
    submit_path: str
    spawner_attributes: Tuple[str, ...]
    user_attributes: Tuple[str, ...]
    worker_threads: int
    worker_processes: bool
    limits: Limits
    rules_component: Optional[str]
    hook_component: Optional[str]


def normalise_url(url: Any) -> Tuple[str, str, int, bool]:
    """Accept `host`, `host:port`, `ldap://host:port` and `ldaps://host:port`.

    Returns the URL with scheme and port, the host, the port and whether TLS is used
    from the start.
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(
            "LDAP.url is empty; set it to the LDAP server, for example ldap://ldap.example.org:389"
        )
    text = url.strip()
    scheme, separator, rest = text.partition("://")
    if not separator:
        scheme, rest = "ldap", text
    scheme = scheme.lower()
    if scheme not in ("ldap", "ldaps"):
        raise ConfigurationError(f"LDAP.url {text} has the scheme {scheme}://; use ldap:// or ldaps://")
    host_port = rest.rstrip("/")
    if not host_port or "/" in host_port or "?" in host_port:
        raise ConfigurationError(f"LDAP.url {text} must name only a server and port, such as ldap://ldap.example.org:389")

    default_port = 636 if scheme == "ldaps" else 389
    if host_port.startswith("["):
        host, _, after = host_port[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
    elif ":" in host_port:
        host, _, port_text = host_port.rpartition(":")
    else:
        host, port_text = host_port, ""
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigurationError(f"LDAP.url {text} has the invalid port {port_text!r}")
        port = int(port_text)
    else:
        port = default_port
    shown_host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown_host}:{port}", host, port, scheme == "ldaps"


def _string(ldap: LDAP, name: str, allow_empty: bool = True) -> str:
    value = getattr(ldap, name, None)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ConfigurationError(f"LDAP.{name} must be a string, not {type(value).__name__}")
    if not allow_empty and not value:
        raise ConfigurationError(f"LDAP.{name} is empty")
    return value


def _strings(ldap: LDAP, name: str, default: Optional[List[str]] = None) -> List[str]:
    value = getattr(ldap, name, None)
    if value is None:
        value = default or []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ConfigurationError(f"LDAP.{name} must be a list of strings, not {type(value).__name__}")
    for item in value:
        if not isinstance(item, str):
            raise ConfigurationError(f"LDAP.{name} must contain only strings, but contains {item!r}")
    return list(value)


def _mapping(ldap: LDAP, name: str) -> Dict[str, Any]:
    value = getattr(ldap, name, None)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigurationError(f"LDAP.{name} must be a dict, not {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise ConfigurationError(f"LDAP.{name} must have string keys, but has {key!r}")
    return value


def _string_pairs(ldap: LDAP, name: str) -> List[Tuple[str, str]]:
    pairs = []
    for key, value in _mapping(ldap, name).items():
        if not isinstance(value, str):
            raise ConfigurationError(f"LDAP.{name}[{key!r}] must be a string, not {type(value).__name__}")
        pairs.append((key, value))
    return pairs


def _number(ldap: LDAP, name: str, default: float) -> float:
    value = getattr(ldap, name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"LDAP.{name} must be a number of seconds, not {value!r}")
    if not 0 < value <= 3600:
        raise ConfigurationError(f"LDAP.{name} is {value}; give a number of seconds above 0 and at most 3600")
    return float(value)


def _object_attributes(ldap: LDAP) -> List[Any]:
    attributes = []
    for name, value in _mapping(ldap, "object_attributes").items():
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            values = [str(value)]
        elif isinstance(value, (list, tuple)) and all(isinstance(item, (str, int)) for item in value):
            values = [str(item) for item in value]
        else:
            raise ConfigurationError(
                f"LDAP.object_attributes[{name!r}] must be a string or a list of strings, not {value!r}"
            )
        attributes.append(record(name=name, values=values))
    return attributes


def _queries(ldap: LDAP) -> List[Any]:
    value = getattr(ldap, "search_attribute_queries", None) or []
    if not isinstance(value, (list, tuple)):
        raise ConfigurationError("LDAP.search_attribute_queries must be a list of dicts")
    queries = []
    for index, query in enumerate(value):
        if not isinstance(query, dict):
            raise ConfigurationError(f"LDAP.search_attribute_queries[{index}] must be a dict, not {query!r}")
        unknown = set(query) - {"search_base", "search_filter", "attributes"}
        if unknown:
            raise ConfigurationError(
                f"LDAP.search_attribute_queries[{index}] has the unknown keys {sorted(unknown)}; "
                "it takes search_base, search_filter and attributes"
            )
        attributes = query.get("attributes") or []
        if isinstance(attributes, str):
            attributes = [attributes]
        queries.append(
            record(
                search_base=str(query.get("search_base") or ""),
                search_filter=str(query.get("search_filter") or ""),
                attributes=[str(item) for item in attributes],
            )
        )
    return queries


def _operations(ldap: LDAP) -> List[Any]:
    operations = []
    for attribute, operation in _mapping(ldap, "search_result_operations").items():
        if not isinstance(operation, dict):
            raise ConfigurationError(
                f"LDAP.search_result_operations[{attribute!r}] must be a dict with action and modify_dn"
            )
        operations.append(
            record(
                attribute=attribute,
                action=str(operation.get("action", "")),
                modify_dn=str(operation.get("modify_dn", "")),
            )
        )
    return operations


def _json(value: Any, name: str) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"LDAP.{name} must contain only dicts, lists, strings and numbers: {error}") from None


def _digest(value: Any) -> str:
    """Hash a record with its nested records and lists, in field order."""
    import hashlib

    def plain(item: Any) -> Any:
        if isinstance(item, (list, tuple)):
            return [plain(element) for element in item]
        if hasattr(item, "__dict__"):
            return {name: plain(field) for name, field in vars(item).items()}
        return item

    return hashlib.sha256(json.dumps(plain(value), sort_keys=True).encode()).hexdigest()


def read(ldap: LDAP) -> Settings:
    """Read every option of `ldap`, raising ConfigurationError for a wrong type."""
    url, host, port, use_ssl = normalise_url(getattr(ldap, "url", ""))
    user = _string(ldap, "user")
    password = _string(ldap, "password")
    start_tls = bool(getattr(ldap, "start_tls", False))
    if start_tls and use_ssl:
        raise ConfigurationError(f"LDAP.start_tls is set for the ldaps:// URL {url}; use one of them, not both")
    if user and not password:
        raise ConfigurationError(f"LDAP.user is set to {user} but LDAP.password is empty")

    connection = Connection(
        url=url,
        host=host,
        port=port,
        use_ssl=use_ssl,
        user=user,
        password=password,
        start_tls=start_tls,
        ca_file=getattr(ldap, "tls_ca_file", None) or None,
        insecure_skip_verify=bool(getattr(ldap, "tls_insecure_skip_verify", False)),
        connect_timeout=_number(ldap, "connect_timeout", 5.0),
        operation_timeout=_number(ldap, "operation_timeout", 10.0),
    )

    keys = getattr(ldap, "submit_spawner_attribute_keys", None) or ()
    if isinstance(keys, str):
        keys = (keys,)
    dynamic = _string_pairs(ldap, "dynamic_attributes")

    hook_config = record(
        server=url,
        base_dn=_string(ldap, "base_dn"),
        submit_keys=[str(key) for key in keys],
        rules=record(
            replacements=_string_pairs(ldap, "replace_object_with"),
            strip_chars=_strings(ldap, "name_strip_chars", DEFAULT_STRIP_CHARS),
        ),
        object_classes=_strings(ldap, "object_classes"),
        object_attributes=_object_attributes(ldap),
        unique_object_attributes=_strings(ldap, "unique_object_attributes"),
        dynamic_attributes=dynamic,
        search_attribute_queries=_queries(ldap),
        search_result_operations=_operations(ldap),
        set_spawner_attributes=_json(_mapping(ldap, "set_spawner_attributes"), "set_spawner_attributes"),
        allocation_method=_string(ldap, "allocation_method"),
    )

    submit_path = getattr(ldap, "submit_spawner_attribute", None)
    if not isinstance(submit_path, str) or not submit_path:
        raise ConfigurationError(
            "LDAP.submit_spawner_attribute is not set; set it to the spawner attribute that contains "
            "the submitted name, for example 'user_options'"
        )

    worker_threads = getattr(ldap, "worker_threads", 4)
    if isinstance(worker_threads, bool) or not isinstance(worker_threads, int) or not 1 <= worker_threads <= 64:
        raise ConfigurationError(f"LDAP.worker_threads is {worker_threads!r}; give a number from 1 to 64")

    fuel = getattr(ldap, "component_fuel", DEFAULT_FUEL)
    if isinstance(fuel, bool) or not isinstance(fuel, int) or fuel <= 0:
        raise ConfigurationError(f"LDAP.component_fuel is {fuel!r}; give the fuel per component call, for example 1000000000")
    memory_mb = getattr(ldap, "component_memory_mb", DEFAULT_MEMORY_MB)
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or not 1 <= memory_mb <= 4096:
        raise ConfigurationError(f"LDAP.component_memory_mb is {memory_mb!r}; give the memory per component in MiB, from 1 to 4096")
    limits = Limits(
        fuel=fuel,
        memory_bytes=memory_mb * 1024 * 1024,
        log_stderr=bool(getattr(ldap, "component_stderr_to_log", False)),
    )

    return Settings(
        connection=connection,
        hook_config=hook_config,
        hook_key=_digest(hook_config),
        submit_path=submit_path,
        spawner_attributes=tuple(name for name, source in dynamic if source in ("3", "SPAWNER_ATTRIBUTE")),
        user_attributes=tuple(name for name, source in dynamic if source in ("4", "SPAWNER_USER_ATTRIBUTE")),
        worker_threads=worker_threads,
        worker_processes=bool(getattr(ldap, "worker_processes", True)),
        limits=limits,
        rules_component=_string(ldap, "rules_component") or None,
        hook_component=_string(ldap, "hook_component") or None,
    )


class _Recording:
    """Passes attribute reads on to an object and notes the names read."""

    def __init__(self, target: Any):
        self._target = target
        self.names: List[str] = []

    def __getattr__(self, name: str) -> Any:
        self.names.append(name)
        return getattr(self._target, name)


class _Missing:
    """Stands for an option that is not set; survives deepcopy as itself."""

    def __deepcopy__(self, memo: Any) -> "_Missing":
        return self


_MISSING = _Missing()
_cache_lock = threading.Lock()
_cached: Optional[Tuple[Tuple[str, ...], Tuple[Any, ...], Settings]] = None


def _snapshot(ldap: Any, names: Tuple[str, ...]) -> Tuple[Any, ...]:
    return tuple(getattr(ldap, name, _MISSING) for name in names)


def read_cached(ldap: LDAP) -> Settings:
    """Like `read`, but return the previous Settings while every option that `read`
    looked at still has an equal value. A spawn then costs a comparison of the option
    values instead of checking and converting all of them again."""
    global _cached
    cached = _cached
    if cached is not None:
        names, snapshot, settings = cached
        if _snapshot(ldap, names) == snapshot:
            return settings
    recording = _Recording(ldap)
    settings = read(recording)  # type: ignore[arg-type]
    names = tuple(dict.fromkeys(recording.names))
    try:
        # A copy, so that a later change to a mutable option value is noticed.
        snapshot = copy.deepcopy(_snapshot(ldap, names))
    except Exception:  # noqa: BLE001 - an option that cannot be copied is read every time
        return settings
    with _cache_lock:
        _cached = (names, snapshot, settings)
    return settings
