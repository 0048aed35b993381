"""The JupyterHub hooks: ``setup_ldap_entry_hook`` and ``hello_hook``.

The hook runs the component in a worker thread, never on the hub's event loop, so a
slow or stalled directory delays only the spawn that waits for it. A failure raises
``LdapHookError``, which stops the spawn and shows the user the message; the hook
never returns False to signal a failure.
"""

import asyncio
import copy
import hashlib
import json
import logging
import os
import queue
import sys
import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Optional, Tuple

from traitlets.config import Configurable

from . import settings as settings_module
from .directory import Directory
from .errors import LdapHookError
from .options import LDAP
from .processes import NotSent, WorkerProcess
from .records import field, record
from .runtime import Components, Worker

_LOG = logging.getLogger("ldap_hooks")


class _Threads:
    """Up to `size` threads that run submitted calls.

    A thread counts itself idle before it publishes a result, so a spawn that follows
    another reuses its thread instead of starting a new one, which would open a new
    connection and read the schema again. (ThreadPoolExecutor marks a thread idle only
    after the result is out, so sequential calls can start threads they do not need.)
    """

    def __init__(self, size: int, name: str, on_exit: Optional[Callable[[], None]] = None):
        self._size = size
        self._name = name
        self._on_exit = on_exit
        self._jobs: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._lock = threading.Lock()
        #: Threads waiting for a job that no submitted job has claimed yet.
        self._free = 0
        #: Jobs that wait for a busy thread because every thread is busy.
        self._backlog = 0
        self._threads: List[threading.Thread] = []
        self._closed = False

    def submit(self, function: Any, *arguments: Any) -> "Future[Any]":
        future: "Future[Any]" = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the ldap-hooks worker threads have been shut down")
            if self._free > 0:
                self._free -= 1
            elif len(self._threads) < self._size:
                thread = threading.Thread(
                    target=self._loop, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            else:
                self._backlog += 1
            self._jobs.put((future, function, arguments))
        return future

    def _finished(self) -> None:
        with self._lock:
            if self._backlog > 0:
                self._backlog -= 1
            else:
                self._free += 1

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                if self._on_exit is not None:
                    self._on_exit()
                return
            future, function, arguments = job
            if not future.set_running_or_notify_cancel():
                self._finished()
                continue
            try:
                result = function(*arguments)
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting spawn
                self._finished()
                future.set_exception(error)
            else:
                self._finished()
                future.set_result(result)

    def shutdown(self) -> None:
        """Let the threads finish their calls and stop."""
        with self._lock:
            self._closed = True
            for _ in self._threads:
                self._jobs.put(None)


class Pool:
    """Worker threads with their components and connections, for one configuration.

    With `worker_processes`, each thread passes its calls to a child process once the
    child is ready, and runs them itself until then.
    """

    #: Child processes that may fail to start before the pool stops starting them.
    MAX_PROCESS_FAILURES = 3

    def __init__(self, settings: settings_module.Settings, components: Components):
        self.connection = settings.connection
        self.components = components
        self.threads = _Threads(settings.worker_threads, "ldap-hooks", on_exit=self._close_thread)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._workers: List[Worker] = []
        self._processes: List[WorkerProcess] = []
        # The pipes are watched with select(), which works on pipes only on POSIX systems.
        self._use_processes = settings.worker_processes and os.name == "posix"
        self._process_failures = 0
        #: Operations of the connections that were closed when their child took over.
        self._retired_operations = 0
        # The maximum time a call may take: the connection, many operations and the
        # components' fuel. Only a broken child reaches it.
        self._reply_timeout = self.connection.connect_timeout + 32 * self.connection.operation_timeout + 60
        self._setup = (settings.hook_component, settings.rules_component, settings.limits, settings.connection)

    def _worker(self) -> Worker:
        worker = getattr(self._local, "worker", None)
        if worker is None:
            worker = Worker(self.components, Directory(self.connection))
            self._local.worker = worker
            with self._lock:
                self._workers.append(worker)
        return worker

    def _process(self, log: logging.Logger) -> Optional[WorkerProcess]:
        """Return this thread's child process, starting one when it has none."""
        process = getattr(self._local, "process", None)
        if process is not None and process.failed is None:
            return process
        with self._lock:
            if process is not None:
                self._processes.remove(process)
                # A child that stops after it was ready is replaced without counting.
                if not process.was_ready:
                    self._process_failures += 1
                log.warning("ldap-hooks: %s; the spawns of this thread run in the hub's process until a new "
                            "one is ready", process.failed)
            if not self._use_processes or self._process_failures >= self.MAX_PROCESS_FAILURES:
                if self._use_processes:
                    self._use_processes = False
                    log.warning("ldap-hooks: %d worker processes failed, so hooks run in the hub's process "
                                "from now on; set LDAP.worker_processes = False to skip starting them",
                                self._process_failures)
                self._local.process = None
                return None
        try:
            process = WorkerProcess(self._setup, self._reply_timeout)
        except OSError as error:
            with self._lock:
                self._use_processes = False
            log.warning("ldap-hooks: cannot start a worker process with %s (%s), so hooks run in the hub's "
                        "process; set LDAP.worker_processes = False to skip trying", sys.executable, error)
            return None
        self._local.process = process
        with self._lock:
            self._processes.append(process)
        return process

    def _close_local_worker(self) -> None:
        worker = getattr(self._local, "worker", None)
        if worker is not None:
            self._local.worker = None
            worker.directory.close()
            with self._lock:
                self._workers.remove(worker)
                self._retired_operations += worker.directory.operations

    def _close_thread(self) -> None:
        self._close_local_worker()
        process = getattr(self._local, "process", None)
        if process is not None:
            process.stop()

    def operations(self) -> int:
        """Return the number of LDAP operations the pool's connections have sent."""
        with self._lock:
            return (self._retired_operations + sum(worker.directory.operations for worker in self._workers)
                    + sum(process.operations for process in self._processes))

    def _run_in_thread(self, settings: settings_module.Settings, context: Any, log: logging.Logger) -> Tuple[Any, ...]:
        process = self._process(log)
        if process is not None and process.ready():
            # The child has its own connection now, so this thread's can go.
            self._close_local_worker()
            request = (settings.hook_config, settings.hook_key, context, _level(log), _level(_LOG))
            try:
                return process.run(request, log)
            except NotSent:
                # The child had stopped before this spawn; the next one starts a new child.
                pass
        return call_worker(self._worker(), settings.hook_config, settings.hook_key, context, log)

    async def run(self, settings: settings_module.Settings, context: Any, log: logging.Logger) -> Tuple[Any, ...]:
        """Run the hook in a worker thread and return ("ok", outcome) or ("error",
        message, kind); the event loop only waits."""
        return await asyncio.wrap_future(self.threads.submit(self._run_in_thread, settings, context, log))

    def shutdown(self) -> None:
        """Let the threads finish their calls, then stop them and their processes."""
        self.threads.shutdown()


def _level(log: Any) -> int:
    try:
        return int(log.getEffectiveLevel())
    except Exception:  # noqa: BLE001 - a logger without levels gets everything
        return logging.DEBUG


def call_worker(worker: Worker, config: Any, config_key: str, context: Any, log: logging.Logger) -> Tuple[Any, ...]:
    """Run the hook on `worker` and return ("ok", outcome as a dict) or ("error",
    message, kind), the form that also crosses the pipe from a worker process."""
    result = worker.run(config, config_key, context, log=log)
    if result.tag != "ok":
        return ("error", field(result.payload, "message"), field(result.payload, "kind"))
    return ("ok", outcome_to_dict(result.payload))


_pools_lock = threading.Lock()
_pools: Dict[str, Pool] = {}


def _pool_key(settings: settings_module.Settings) -> str:
    connection = settings.connection
    # The password is part of the key only as a hash, so it never sits in a dict key.
    digest = hashlib.sha256(connection.password.encode()).hexdigest()
    return json.dumps([connection.url, connection.user, digest, connection.start_tls, connection.ca_file,
                       connection.insecure_skip_verify, connection.connect_timeout, connection.operation_timeout,
                       settings.worker_threads, settings.worker_processes, settings.rules_component,
                       settings.hook_component,
                       settings.limits.fuel, settings.limits.memory_bytes, settings.limits.log_stderr])


def _warn_about_transport(connection: settings_module.Connection, log: logging.Logger) -> None:
    if connection.password and connection.url.startswith("ldap://") and not connection.start_tls:
        log.warning(
            "ldap-hooks: the bind password goes to %s without TLS, so anyone on the network path can "
            "read it; use an ldaps:// URL or set LDAP.start_tls",
            connection.url,
        )
    if connection.insecure_skip_verify:
        log.warning(
            "ldap-hooks: LDAP.tls_insecure_skip_verify is set, so the certificate of %s is not checked "
            "and anyone on the network path can pose as the server",
            connection.url,
        )


def get_pool(settings: settings_module.Settings, log: logging.Logger = _LOG) -> Pool:
    """Return the pool for these connection settings, creating it on first use.

    A configuration change creates a new pool; the old one finishes its calls.
    """
    key = _pool_key(settings)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            _warn_about_transport(settings.connection, log)
            components = Components.load(settings.hook_component, settings.rules_component, settings.limits)
            pool = Pool(settings, components)
            for old in _pools.values():
                old.shutdown()
            _pools.clear()
            _pools[key] = pool
        return pool


def _json_value(value: Any) -> Optional[str]:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return None


def _resolve(spawner: Any, path: str) -> Any:
    current = spawner
    walked: List[str] = []
    for step in path.split("."):
        walked.append(step)
        if isinstance(current, dict):
            if step not in current:
                return _missing(path, walked)
            current = current[step]
        elif hasattr(current, step):
            current = getattr(current, step)
        else:
            return _missing(path, walked)
    return current


def _missing(path: str, walked: List[str]) -> Any:
    raise LdapHookError(
        f"the spawner has no attribute {'.'.join(walked)}, which LDAP.submit_spawner_attribute "
        f"({path}) names; check the option, or how the submitted name reaches the spawner",
        "invalid-input",
    )


def build_context(spawner: Any, settings: settings_module.Settings) -> Any:
    """Collect what the component needs from the spawner: the submitted value, the
    attributes that placeholders use, and the user name."""
    submitted = _resolve(spawner, settings.submit_path)
    submitted_json = _json_value(submitted)
    if submitted_json is None:
        raise LdapHookError(
            f"the submitted value at {settings.submit_path} is a {type(submitted).__name__}, which "
            "cannot be read; submit a string or a dict of strings",
            "invalid-input",
        )

    user = getattr(spawner, "user", None)
    user_name = getattr(user, "name", "") or ""

    def collect(owner: Any, names: Tuple[str, ...]) -> List[Tuple[str, str]]:
        pairs = []
        for name in names:
            if owner is None or not hasattr(owner, name):
                continue
            encoded = _json_value(getattr(owner, name))
            if encoded is not None:
                pairs.append((name, encoded))
        return pairs

    return record(
        user_name=user_name,
        submitted=submitted_json,
        spawner_attributes=collect(spawner, settings.spawner_attributes),
        user_attributes=collect(user, settings.user_attributes),
    )


def apply_updates(spawner: Any, updates: Dict[str, Any]) -> None:
    """Set the spawner attributes: a dict merges into an existing dict attribute, any
    other value replaces the attribute."""
    for name, value in updates.items():
        current = getattr(spawner, name, None)
        if isinstance(value, dict) and isinstance(current, dict):
            # A new dict, because the current one may be shared with the configuration
            # and with other spawners.
            setattr(spawner, name, {**current, **value})
        else:
            setattr(spawner, name, value)


def outcome_to_dict(outcome: Any) -> Dict[str, Any]:
    """Turn the WIT outcome into plain Python data."""
    return {
        "dn": field(outcome, "dn"),
        "status": field(outcome, "status"),
        "attributes": {field(item, "name"): list(field(item, "values")) for item in field(outcome, "attributes")},
        "spawner_updates": json.loads(field(outcome, "spawner_updates") or "{}"),
        "allocations": [
            {
                "attribute": field(item, "attribute"),
                "counter_dn": field(item, "counter_dn"),
                "value": field(item, "value"),
            }
            for item in field(outcome, "allocations")
        ],
    }


def _raise_hook_error(message: str, kind: str, rules_name: str) -> None:
    # The hook cannot know which rule component the host linked, so the host names it.
    if kind == "rule-rejected":
        message = f"{message} ({rules_name})"
    raise LdapHookError(message, kind)


def _logger(spawner: Any) -> logging.Logger:
    log = getattr(spawner, "log", None)
    return log if isinstance(log, (logging.Logger, logging.LoggerAdapter)) else _LOG


_options_lock = threading.Lock()
#: The last LDAP instance with the configuration it was built from and a copy of it.
_last_options: Optional[Tuple[Any, Any, LDAP]] = None


def _options(spawner: Any) -> LDAP:
    """Return the LDAP options for `spawner`: its traitlets configuration (c.LDAP...)
    over the class attributes that 0.1.2-style config files set.

    Building an LDAP instance costs more than the rest of a spawn's work on the event
    loop, so the instance is reused while the spawner has the same configuration
    object with equal contents. JupyterHub gives every spawner the hub's
    configuration. Class attributes are read through the instance on each spawn, so
    a reused instance reflects changes to them.
    """
    global _last_options
    parent = spawner if isinstance(spawner, Configurable) else None
    config = parent.config if parent is not None else None
    last = _last_options
    if last is not None and last[0] is config and (config is None or config == last[1]):
        return last[2]
    options = LDAP(parent=parent)
    try:
        snapshot = copy.deepcopy(config)
    except Exception:  # noqa: BLE001 - a configuration that cannot be copied is read every time
        return options
    with _options_lock:
        _last_options = (config, snapshot, options)
    return options


async def ensure_entry(spawner: Any) -> Dict[str, Any]:
    """Make sure the spawner's user has an entry and return the outcome as a dict
    with dn, status, attributes, spawner_updates and allocations. The spawner is not
    changed."""
    log = _logger(spawner)
    options = _options(spawner)
    settings = settings_module.read_cached(options)
    if getattr(options, "ssl_cert_path", None):
        log.warning(
            "ldap-hooks: LDAP.ssl_cert_path is accepted for compatibility and not used; set LDAP.tls_ca_file"
        )
    context = build_context(spawner, settings)
    pool = get_pool(settings, log)
    reply = await pool.run(settings, context, log)
    if reply[0] != "ok":
        _raise_hook_error(reply[1], reply[2], pool.components.rules_name)
    return reply[1]


async def setup_ldap_entry_hook(spawner: Any) -> bool:
    """JupyterHub pre_spawn_hook: make sure the user's LDAP entry exists and set the
    spawner attributes from it. Raises LdapHookError on any failure."""
    outcome = await ensure_entry(spawner)
    apply_updates(spawner, outcome["spawner_updates"])
    return True


async def hello_hook(spawner: Any) -> bool:
    """JupyterHub pre_spawn_hook that only logs a greeting, for testing a hub's set-up."""
    _logger(spawner).info("Hello from hook")
    return True
