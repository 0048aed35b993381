"""Worker processes: the components and the LDAP connection outside the hub's process.

The LDAP client and wasmtime-py do much of their work in Python code, which holds the GIL. In
a worker thread of the hub that work delays the hub's event loop by up to the
interpreter's switch interval (5 ms by default) each time, and longer when several
spawns run at once. A worker process has its own GIL, so the hub's thread only
writes a request to a pipe and waits for the reply without holding the GIL.

Each worker thread of the hub owns one child process, which runs `child_main`. The two talk over the child's standard input
and output in frames: a 4-byte little-endian length, then a pickle. Pickle is safe
here because both ends are this package and the pipes are private to them. The
password reaches the child through the pipe, never through its command line or
environment.

A child is ready about half a second after it starts, once it has imported
wasmtime and loaded the compiled components. Until then the thread runs the hook in
the hub's process, so the first spawn after a restart does not wait for it.
"""

import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO, List, Optional, Tuple

from .errors import LdapHookError
from .limits import Limits

_LOG = logging.getLogger("ldap_hooks")
_HEADER = struct.Struct("<I")
#: Frames above this size are rejected, because no request or reply comes near it.
MAX_FRAME = 64 * 1024 * 1024

#: Logger names in replies: the spawner's log, or the package's module logger.
SPAWNER_LOG = "spawner"
MODULE_LOG = "module"


class ChildGone(Exception):
    """The child process closed its pipe or sent a frame that cannot be read."""


class NotSent(Exception):
    """The request could not be written to the child, so the child did nothing."""


def write_frame(stream: BinaryIO, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        written = stream.write(view)
        # An unbuffered pipe may take part of the data; None means it would block.
        view = view[written or 0:]
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    header = _read_exactly(stream, _HEADER.size)
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise ChildGone(f"a frame of {length} bytes is larger than the limit of {MAX_FRAME}")
    return pickle.loads(_read_exactly(stream, length))


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise ChildGone("the pipe was closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class WorkerProcess:
    """The hub's side of one child process: start it, wait for it, call the hook in it."""

    def __init__(self, setup: Tuple[Optional[str], Optional[str], Limits, Any], reply_timeout: float):
        self.reply_timeout = reply_timeout
        #: LDAP operations the child's connection has sent, as of its last reply.
        self.operations = 0
        self._ready = False
        #: Whether the child ever reported that it is ready.
        self.was_ready = False
        #: Why the child can no longer be used, once it cannot.
        self.failed: Optional[str] = None

        package_parent = str(Path(__file__).resolve().parent.parent)
        environment = dict(os.environ)
        # The child must import this copy of the package, wherever the hub found it.
        environment["PYTHONPATH"] = os.pathsep.join(
            item for item in (package_parent, environment.get("PYTHONPATH")) if item
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from ldap_hooks.processes import child_main; sys.exit(child_main())"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Unbuffered, so that select() on the pipe reports every byte not yet read.
            bufsize=0,
            env=environment,
            close_fds=True,
        )

        assert self.process.stdin is not None and self.process.stdout is not None
        self._input: BinaryIO = self.process.stdin
        self._output: BinaryIO = self.process.stdout

        try:
            write_frame(self._input, setup)
        except OSError as error:
            self._fail(f"the worker process could not be started: {error}")

    def ready(self) -> bool:
        """Return whether the child has loaded its components, without waiting."""
        if self._ready or self.failed:
            return self._ready
        try:
            readable, _, _ = select.select([self._output], [], [], 0)
            if not readable:
                return False
            status, detail = read_frame(self._output)
        except (ChildGone, OSError, ValueError, pickle.UnpicklingError) as error:
            self._fail(f"the worker process stopped while starting: {error}")
            return False
        if status != "ready":
            self._fail(f"the worker process could not load the components: {detail}")
            return False
        self._ready = True
        self.was_ready = True
        return True

    def run(self, request: Tuple[Any, ...], log: logging.Logger) -> Tuple[Any, ...]:
        """Send one hook call to the child and return its reply: ("ok", outcome) or
        ("error", message, kind). Log records from the child go to `log`."""
        try:
            write_frame(self._input, request)
        except OSError as error:
            self._fail(f"the worker process stopped before the spawn (exit code {self.process.poll()}): {error}")
            raise NotSent(str(error)) from None
        try:
            readable, _, _ = select.select([self._output], [], [], self.reply_timeout)
            if not readable:
                self._fail(f"the worker process did not respond within {self.reply_timeout:.0f} s")
                raise LdapHookError(
                    f"the ldap-hooks worker process did not respond within {self.reply_timeout:.0f} s, "
                    "so it was stopped; the next spawn starts a new one",
                    "internal",
                )
            reply, records, operations = read_frame(self._output)
        except (ChildGone, OSError, ValueError, pickle.UnpicklingError, EOFError) as error:
            code = self.process.poll()
            self._fail(f"the worker process stopped: {error}")
            raise LdapHookError(
                f"the ldap-hooks worker process stopped during the spawn (exit code {code}); "
                "the next spawn starts a new one",
                "internal",
            ) from None
        self.operations = operations
        for logger_name, level, message in records:
            target = log if logger_name == SPAWNER_LOG else _LOG
            try:
                target.log(level, "%s", message)
            except Exception:  # noqa: BLE001 - a broken log handler must not fail the spawn
                pass
        return reply

    def _fail(self, reason: str) -> None:
        self.failed = reason
        self._ready = False
        self.stop()

    def stop(self) -> None:
        """Close the child's input, which ends a ready child, and kill it if it
        lingers. A child that is still starting has no call in flight and is killed."""
        try:
            self._input.close()
        except OSError:
            pass
        if not self.was_ready and self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        try:
            self._output.close()
        except OSError:
            pass


class _Collector(logging.Handler):
    """Keeps the log records of one call in the child, for the reply."""

    def __init__(self, name: str):
        super().__init__(logging.DEBUG)
        self.name = name
        self.records: List[Tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append((self.name, record.levelno, record.getMessage()))
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is dropped
            pass


#: How much lower than the hub's the CPU priority of a worker process is (nice).
CHILD_NICENESS = 5


def _lower_priority() -> None:
    """Give the hub's event loop the CPU before the hooks when both want it, so a
    burst of spawns delays the hub's other requests less."""
    try:
        os.nice(CHILD_NICENESS)
    except (AttributeError, OSError):
        # Not available on this system, or not allowed: the child runs at the hub's priority.
        pass


def child_main() -> int:
    """Serve hook calls from the hub on standard input until it closes."""
    # The hub handles Ctrl-C; the child ends when its input closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _lower_priority()
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    # Nothing else may write to the reply pipe.
    sys.stdout = sys.stderr

    from .directory import Directory
    from .runtime import Components, Worker

    try:
        hook_path, rules_path, limits, connection = read_frame(stdin)
    except ChildGone:
        return 0
    try:
        try:
            components = Components.load(hook_path, rules_path, limits)
            worker = Worker(components, Directory(connection))
        except Exception as error:  # noqa: BLE001 - reported to the hub, which runs the hook itself
            write_frame(stdout, ("failed", f"{type(error).__name__}: {error}"))
            return 1
        write_frame(stdout, ("ready", None))
        return _serve(stdin, stdout, worker)
    except OSError:
        # The hub closed the pipe, because it stopped or gave up on this child.
        return 0


def _serve(stdin: BinaryIO, stdout: BinaryIO, worker: Any) -> int:
    from .hook import call_worker

    spawner_log = logging.getLogger("ldap_hooks.processes.spawner")
    spawner_log.propagate = False
    spawner_records = _Collector(SPAWNER_LOG)
    spawner_log.addHandler(spawner_records)
    module_records = _Collector(MODULE_LOG)
    _LOG.addHandler(module_records)
    _LOG.propagate = False

    while True:
        try:
            config, config_key, context, spawner_level, module_level = read_frame(stdin)
        except ChildGone:
            return 0
        spawner_log.setLevel(spawner_level)
        _LOG.setLevel(module_level)
        spawner_records.records = []
        module_records.records = []
        try:
            reply = call_worker(worker, config, config_key, context, spawner_log)
        except LdapHookError as error:
            reply = ("error", str(error), error.kind)
        except Exception as error:  # noqa: BLE001 - any failure goes back to the hub as a message
            reply = ("error", f"the worker process failed: {type(error).__name__}: {error}", "internal")
        records = spawner_records.records + module_records.records
        write_frame(stdout, (reply, records, worker.directory.operations))

