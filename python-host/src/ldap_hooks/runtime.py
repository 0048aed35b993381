"""Running the hook and DN-rule components in wasmtime-py.

The components are compiled once per process and cached on disk per wasmtime
version, so a hub restart loads them in milliseconds. Each worker thread has its own
stores and instances: one for the hook component and one for the rule component,
whose ``parse`` export the worker forwards to the hook's ``dn-rules`` import. After
a trap an instance can no longer be entered, so the worker drops it and builds a
fresh one on the next call.

Every call runs in a sandbox: a fresh fuel budget (about one unit per WebAssembly
instruction, so an endless loop traps), a limit on linear memory, and WASI without
files, environment, network or standard streams. A guest's standard error is kept
to explain a trap and goes to the log only when ``LDAP.component_stderr_to_log`` is
set.

Host functions never raise: a Python exception inside one would trap the guest, so
every failure is returned as a WIT ``ldap-error`` instead.
"""

import hashlib
import logging
import os
import threading
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import wasmtime
from wasmtime import component as wc

from . import converters
from .directory import OTHER, Directory, LdapFailure
from .errors import LdapHookError
from .limits import Limits
from .records import field, record

PACKAGE = "ldap-hooks:hook@0.1.0"
HOOK_INTERFACE = "ldap-hooks:hook/hook@0.1.0"
RULES_INTERFACE = "ldap-hooks:hook/dn-rules@0.1.0"
DIRECTORY_INTERFACE = "ldap-hooks:hook/directory@0.1.0"
LOGGING_INTERFACE = "ldap-hooks:hook/logging@0.1.0"

HOOK_IMPORTS = (
    "ldap-hooks:hook/directory@0.1.0",
    "ldap-hooks:hook/logging@0.1.0",
    RULES_INTERFACE,
)

#: Bytes of a guest's standard error kept per call.
STDERR_CAPACITY = 64 * 1024

BUILTIN_HOOK = "ldap_hooks_hook.wasm"
BUILTIN_RULES = "ldap_hooks_default_rules.wasm"

_LOG = logging.getLogger("ldap_hooks")

# Python logging levels of the WIT log levels; Python has no level below debug.
_LOG_LEVELS = {
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
}


class _ThreadLocalSet:
    """A set with one content per thread, in the shape that wasmtime-py uses."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _items(self) -> set:
        items = getattr(self._local, "items", None)
        if items is None:
            items = self._local.items = set()
        return items

    def clear(self) -> None:
        self._items().clear()

    def add(self, item: Any) -> None:
        self._items().add(item)

    def __iter__(self):
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __contains__(self, item: Any) -> bool:
        return item in self._items()


# NOTE: wasmtime-py 50 lowers untagged variants, options and results through the
# module-level set `case_test_cache`, which concurrent calls from several threads
# overwrite, so a value could be lowered as the wrong case. Each worker thread gets
# its own set instead. Remove this when wasmtime-py keeps that set per call.
from wasmtime.component import _types as _wasmtime_types  # noqa: E402

if isinstance(getattr(_wasmtime_types, "case_test_cache", None), set):
    _wasmtime_types.case_test_cache = _ThreadLocalSet()


def builtin_component(file_name: str) -> Path:
    """Return the path of a component shipped in the package."""
    return Path(str(resources.files("ldap_hooks") / "components" / file_name))


def wasmtime_version() -> str:
    try:
        return metadata.version("wasmtime")
    except metadata.PackageNotFoundError:
        return "unknown"


def cache_folder() -> Optional[Path]:
    """Return the compile cache: LDAP_HOOKS_CACHE_DIR, else $XDG_CACHE_HOME/ldap-hooks, else
    ~/.cache/ldap-hooks, with a subfolder per wasmtime-py version. An empty
    LDAP_HOOKS_CACHE_DIR turns the cache off."""
    configured = os.environ.get("LDAP_HOOKS_CACHE_DIR")
    if configured is not None:
        if not configured:
            return None
        base = Path(configured)
    elif os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"]) / "ldap-hooks"
    else:
        base = Path.home() / ".cache" / "ldap-hooks"
    return base / f"python-host-wasmtime-{wasmtime_version()}"


def compile_component(engine: wasmtime.Engine, path: Path, folder: Optional[Path]) -> wc.Component:
    """Compile the component at `path`, or load its compiled form from `folder`.

    A cached file is used only when its SHA-256 sidecar matches, and a file that
    wasmtime rejects is compiled again. A cache problem is never fatal.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LdapHookError(f"cannot read the component {path}: {error.strerror}", "invalid-config") from None

    cached = None
    if folder is not None:
        key = hashlib.sha256(data + wasmtime_version().encode()).hexdigest()
        cached = folder / f"{key}.cwasm"
        compiled = _read_verified(cached)
        if compiled is not None:
            try:
                return wc.Component.deserialize(engine, compiled)
            except wasmtime.WasmtimeError as error:
                _LOG.debug("cached component %s rejected by wasmtime, compiling again: %s", cached, error)

    try:
        component = wc.Component(engine, data)
    except wasmtime.WasmtimeError as error:
        raise LdapHookError(f"{path} is not a valid WebAssembly component: {error}", "invalid-config") from None

    if cached is not None:
        try:
            _write_atomically(cached, bytes(component.serialize()))
        except OSError as error:
            _LOG.debug("cannot write the compiled component %s: %s", cached, error)
    return component


def _read_verified(path: Path) -> Optional[bytes]:
    try:
        compiled = path.read_bytes()
        expected = path.with_suffix(".sha256").read_text().strip()
    except OSError:
        return None
    if hashlib.sha256(compiled).hexdigest() != expected:
        _LOG.debug("cached component %s has a wrong checksum, compiling again", path)
        return None
    return compiled


def _write_atomically(path: Path, compiled: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    unique = f"{os.getpid()}.{threading.get_ident()}"
    temporary = path.with_name(f"{path.name}.{unique}")
    temporary_sum = path.with_name(f"{path.stem}.sha256.{unique}")
    temporary.write_bytes(compiled)
    temporary_sum.write_text(hashlib.sha256(compiled).hexdigest())
    os.replace(temporary_sum, path.with_suffix(".sha256"))
    os.replace(temporary, path)


def check_world(engine: wasmtime.Engine, component: wc.Component, name: str, world: str,
                interface: str, allowed: Tuple[str, ...]) -> None:
    """Check that `component` exports `interface` and imports nothing beyond WASI and
    `allowed`, naming what is missing."""
    component_type = component.type
    exports = sorted(component_type.exports(engine))
    if interface not in exports:
        raise LdapHookError(
            f"{name} does not implement the {world} world of {PACKAGE}: it does not export {interface} "
            f"(its exports: {', '.join(exports) or 'none'}); build it against the WIT in wit/ for the "
            f"world {world}",
            "invalid-config",
        )
    unexpected = sorted(
        item for item in component_type.imports(engine) if not item.startswith("wasi:") and item not in allowed
    )
    if unexpected:
        raise LdapHookError(
            f"{name} does not implement the {world} world of {PACKAGE}: it imports {', '.join(unexpected)}, "
            "which the host does not provide",
            "invalid-config",
        )


class Components:
    """The engine with the compiled and checked hook and rule components."""

    _lock = threading.Lock()
    _loaded: Dict[Tuple[str, str, bool, Limits], "Components"] = {}

    def __init__(self, hook_path: Path, rules_path: Path, limits: Limits, builtin_rules: bool):
        config = wasmtime.Config()
        config.consume_fuel = True
        self.engine = wasmtime.Engine(config)
        self.limits = limits
        folder = cache_folder()
        self.hook_name = f"the hook component {hook_path}"
        self.rules_name = "the built-in DN rules" if builtin_rules else f"the DN-rule component {rules_path}"
        # The hook carries a copy of the default rules. Using it saves a call into the
        # rule component, which costs more in wasmtime-py than the rules themselves.
        self.rule_source = "built-in" if builtin_rules else "linked"
        self.hook = compile_component(self.engine, hook_path, folder)
        self.rules = compile_component(self.engine, rules_path, folder)
        check_world(self.engine, self.hook, self.hook_name, "entry-hook", HOOK_INTERFACE, HOOK_IMPORTS)
        check_world(self.engine, self.rules, self.rules_name, "dn-rule", RULES_INTERFACE, ())

    @classmethod
    def load(cls, hook_path: Optional[str] = None, rules_path: Optional[str] = None,
             limits: Limits = Limits()) -> "Components":
        hook = Path(hook_path) if hook_path else builtin_component(BUILTIN_HOOK)
        rules = Path(rules_path) if rules_path else builtin_component(BUILTIN_RULES)
        builtin_rules = not rules_path
        key = (str(hook), str(rules), builtin_rules, limits)
        with cls._lock:
            if key not in cls._loaded:
                cls._loaded[key] = cls(hook, rules, limits, builtin_rules=builtin_rules)
            return cls._loaded[key]


class Sandbox:
    """A store with fuel, a memory limit and WASI without capabilities; standard
    error is kept for explaining traps and, on request, for the log."""

    def __init__(self, engine: wasmtime.Engine, limits: Limits, name: str):
        self.limits = limits
        self.name = name
        self._stderr = bytearray()
        self._logged = 0
        wasi = wasmtime.WasiConfig()
        wasi.stderr_custom = self._write_stderr
        self.store = wasmtime.Store(engine)
        self.store.set_wasi(wasi)
        self.store.set_limits(memory_size=limits.memory_bytes)
        self.refuel()

    def _write_stderr(self, data: bytes) -> int:
        room = STDERR_CAPACITY - len(self._stderr)
        self._stderr.extend(bytes(data)[: max(room, 0)])
        return len(data)

    def refuel(self) -> None:
        self.store.set_fuel(self.limits.fuel)

    def fuel_used(self) -> int:
        try:
            return self.limits.fuel - self.store.get_fuel()
        except wasmtime.WasmtimeError:
            return 0

    def log_stderr(self, log: logging.Logger) -> None:
        new = bytes(self._stderr[self._logged:]).decode("utf-8", "replace")
        self._logged = len(self._stderr)
        if not self.limits.log_stderr:
            return
        for line in new.splitlines():
            if line.strip():
                log.warning("ldap-hooks: %s wrote to standard error: %s", self.name, line)

    def explain(self, error: BaseException) -> str:
        """Explain in one sentence why a call trapped."""
        text = _first_line(error)
        stderr = bytes(self._stderr).decode("utf-8", "replace")
        if "fuel" in str(error):
            return (
                f"{self.name} used up its fuel of {self.limits.fuel} units in one call, which suggests an "
                "endless loop; raise LDAP.component_fuel if it needs more"
            )
        if "memory allocation of" in stderr or "MemoryError" in stderr:
            return (
                f"{self.name} could not allocate memory within the limit of "
                f"{self.limits.memory_bytes // (1024 * 1024)} MiB; raise LDAP.component_memory_mb if it "
                "needs that much"
            )
        return f"{self.name} trapped: {text}"


class Worker:
    """The instances and the LDAP connection of one thread."""

    def __init__(self, components: Components, directory: Directory):
        self.components = components
        self.directory = directory
        self._log: logging.Logger = _LOG
        self._linker = self._hook_linker()
        self._hook: Optional[Tuple[Sandbox, Dict[str, converters.Export]]] = None
        self._rules: Optional[Tuple[Sandbox, converters.Export]] = None
        #: Handles from `configure` in the current hook instance, by configuration digest.
        self._handles: Dict[str, int] = {}

    @property
    def rules_name(self) -> str:
        return self.components.rules_name

    def call(self, name: str, *arguments: Any, log: Optional[logging.Logger] = None) -> Any:
        """Call the hook export `name` (run, plan or check) with a fresh fuel budget and
        return its result: a Variant with tag "ok" or "err"."""
        self._log = log or _LOG
        try:
            if self._hook is None:
                self._hook = self._instantiate_hook()
            sandbox, functions = self._hook
            sandbox.refuel()
            try:
                return functions[name](sandbox.store, *arguments)
            except (wasmtime.WasmtimeError, wasmtime.Trap) as error:
                self._hook = None
                self._rules = None
                raise LdapHookError(f"{sandbox.explain(error)} while running {name}", "internal") from None
            finally:
                sandbox.log_stderr(self._log)
                self._log.debug("ldap-hooks: %s used %d fuel units in %s", sandbox.name, sandbox.fuel_used(), name)
        finally:
            self._log = _LOG

    def run(self, config: Any, config_key: str, context: Any, log: Optional[logging.Logger] = None) -> Any:
        """Run the hook for `context`, handing the configuration to the instance once
        with `configure` and then only its handle. Returns a Variant like `call`."""
        if self._hook is None:
            self._handles = {}
        handle = self._handles.get(config_key)
        if handle is None:
            configured = self.call("configure", config, self.components.rule_source, log=log)
            if not isinstance(configured, int):
                return wc.Variant("err", configured)
            handle = self._handles[config_key] = configured
        return self.call("run-configured", handle, context, log=log)

    def _instantiate_hook(self) -> Tuple[Sandbox, Dict[str, converters.Export]]:
        name = self.components.hook_name
        sandbox = Sandbox(self.components.engine, self.components.limits, name)
        try:
            instance = self._linker.instantiate(sandbox.store, self.components.hook)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as error:
            raise LdapHookError(f"{sandbox.explain(error)} while starting up", "internal") from None
        functions = _exports(
            sandbox.store,
            instance,
            HOOK_INTERFACE,
            ("run", "plan", "check", "configure", "run-configured"),
            name,
            "entry-hook",
        )
        self._handles = {}
        return sandbox, functions

    def _instantiate_rules(self) -> Tuple[Sandbox, converters.Export]:
        name = self.components.rules_name
        sandbox = Sandbox(self.components.engine, self.components.limits, name)
        linker = wc.Linker(self.components.engine)
        linker.add_wasip2()
        try:
            instance = linker.instantiate(sandbox.store, self.components.rules)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as error:
            raise LdapHookError(f"{sandbox.explain(error)} while starting up", "internal") from None
        functions = _exports(sandbox.store, instance, RULES_INTERFACE, ("parse",), name, "dn-rule")
        return sandbox, functions["parse"]

    def _hook_linker(self) -> wc.Linker:
        linker = wc.Linker(self.components.engine)
        linker.add_wasip2()
        with linker.root() as root:
            with root.add_instance(DIRECTORY_INTERFACE) as directory:
                converters.add_func(directory, "search", self._search)
                converters.add_func(directory, "add", self._add)
                converters.add_func(directory, "modify", self._modify)
            with root.add_instance(LOGGING_INTERFACE) as logging_instance:
                converters.add_func(logging_instance, "log", self._log_message)
                converters.add_func(logging_instance, "enabled", self._log_enabled)
            with root.add_instance(RULES_INTERFACE) as rules:
                converters.add_func(rules, "parse", self._parse)
        return linker

    # Host functions of the directory interface. Each returns the WIT result.

    def _search(self, _store: Any, base: str, scope: str, filter_text: str, attributes: List[str]) -> Any:
        try:
            entries = self.directory.search(base, scope, filter_text, list(attributes))
        except LdapFailure as failure:
            return _ldap_error(failure)
        except Exception as error:  # noqa: BLE001 - an exception here would trap the guest
            return _host_error("search", error)
        return [_entry(entry) for entry in entries]

    def _add(self, _store: Any, dn: str, attributes: List[Any], controls: Any) -> Any:
        try:
            pairs = [(field(item, "name"), list(field(item, "values"))) for item in attributes]
            entry = self.directory.add(dn, pairs, field(controls, "post_read"))
        except LdapFailure as failure:
            return wc.Variant("err", _ldap_error(failure))
        except Exception as error:  # noqa: BLE001
            return wc.Variant("err", _host_error("add", error))
        return wc.Variant("ok", _entry(entry) if entry else None)

    def _modify(self, _store: Any, dn: str, changes: List[Any], controls: Any) -> Any:
        try:
            triples = []
            for change in changes:
                attribute = field(change, "attribute")
                triples.append((field(change, "kind"), field(attribute, "name"), list(field(attribute, "values"))))
            entry = self.directory.modify(dn, triples, field(controls, "post_read"))
        except LdapFailure as failure:
            return wc.Variant("err", _ldap_error(failure))
        except Exception as error:  # noqa: BLE001
            return wc.Variant("err", _host_error("modify", error))
        return wc.Variant("ok", _entry(entry) if entry else None)

    def _log_message(self, _store: Any, level: str, message: str) -> None:
        method = {
            "error": self._log.error,
            "warn": self._log.warning,
            "info": self._log.info,
            "debug": self._log.debug,
            "trace": self._log.debug,
        }.get(level, self._log.info)
        try:
            method("ldap-hooks: %s", message)
        except Exception:  # noqa: BLE001 - a broken log handler must not trap the guest
            pass

    def _log_enabled(self, _store: Any, level: str) -> bool:
        try:
            return bool(self._log.isEnabledFor(_LOG_LEVELS.get(level, logging.INFO)))
        except Exception:  # noqa: BLE001 - a broken logger must not trap the guest
            return False

    def _parse(self, _store: Any, submitted: str, options: Any) -> Any:
        sandbox = None
        try:
            if self._rules is None:
                self._rules = self._instantiate_rules()
            sandbox, parse = self._rules
            sandbox.refuel()
            return parse(sandbox.store, submitted, options)
        except LdapHookError as error:
            return str(error)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as error:
            self._rules = None
            return sandbox.explain(error) if sandbox else f"{self.rules_name} failed: {_first_line(error)}"
        except Exception as error:  # noqa: BLE001
            self._rules = None
            return f"{self.rules_name} could not be called: {type(error).__name__}: {error}"
        finally:
            if sandbox is not None:
                sandbox.log_stderr(self._log)


def _exports(
    store: wasmtime.Store, instance: wc.Instance, interface: str, names: Tuple[str, ...], component: str, world: str
) -> Dict[str, converters.Export]:
    index = instance.get_export_index(store, interface)
    if index is None:
        raise LdapHookError(
            f"{component} does not export {interface}, so it does not implement the {world} world of {PACKAGE}",
            "invalid-config",
        )
    functions = {}
    for name in names:
        function_index = instance.get_export_index(store, name, index)
        function = instance.get_func(store, function_index) if function_index is not None else None
        if function is None:
            raise LdapHookError(f"{component} exports {interface} without the function {name}", "invalid-config")
        functions[name] = converters.Export(function, store)
    return functions


def _entry(entry: Tuple[str, List[Tuple[str, List[str]]]]) -> Any:
    dn, attributes = entry
    return record(dn=dn, attributes=[record(name=name, values=values) for name, values in attributes])


def _ldap_error(failure: LdapFailure) -> Any:
    return record(code=failure.code, name=failure.name, message=failure.message)


def _host_error(operation: str, error: Exception) -> Any:
    _LOG.error("ldap-hooks: the %s host function failed: %s: %s", operation, type(error).__name__, error)
    return record(code=OTHER, name="other", message=f"the host failed during {operation}: {type(error).__name__}")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
