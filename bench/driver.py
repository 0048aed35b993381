"""One implementation's part of the benchmark, run by bench/run.py under the Python
of either ldap-hooks 0.1.2 or this project's package; both have the same API.

    driver.py latency PREFIX CALLS      sequential spawns: new entries, then existing
    driver.py concurrent PREFIX ROUNDS  rounds of 20 concurrent spawns of new entries
    driver.py coldstart PREFIX          import and the first spawn, in a fresh process

It reads LDAP_URL and LDAP_ADMIN_PASSWORD and prints one JSON object.
"""

import asyncio
import json
import os
import statistics
import sys
import time

STARTED = time.perf_counter()
from ldap_hooks import (  # noqa: E402 - the import is part of what coldstart measures
    INCREMENT_ATTRIBUTE,
    LDAP,
    LDAP_SEARCH_ATTRIBUTE_QUERY,
    SPAWNER_USER_ATTRIBUTE,
    setup_ldap_entry_hook,
)

IMPORTED = time.perf_counter()
CONCURRENCY = 20
#: Sequential spawns per stall window.
WINDOW = 20


def configure() -> None:
    LDAP.url = os.environ["LDAP_URL"]
    LDAP.user = "cn=admin,dc=example,dc=org"
    LDAP.password = os.environ["LDAP_ADMIN_PASSWORD"]
    LDAP.base_dn = "dc=example,dc=org"
    LDAP.submit_spawner_attribute = "user_options"
    LDAP.submit_spawner_attribute_keys = ("CERT",)
    LDAP.replace_object_with = {"/": "+"}
    LDAP.object_classes = ["X-certsDistinguishedName", "posixAccount"]
    LDAP.object_attributes = {
        "uid": "{name}",
        "uidNumber": "{uidNumber}",
        "gidNumber": "100",
        "homeDirectory": "/home/{name}",
    }
    LDAP.dynamic_attributes = {"name": SPAWNER_USER_ATTRIBUTE, "uidNumber": LDAP_SEARCH_ATTRIBUTE_QUERY}
    LDAP.search_attribute_queries = [
        {
            "search_base": "dc=example,dc=org",
            "search_filter": "(objectclass=x-nextUserIdentifier)",
            "attributes": ["uidNumber"],
        }
    ]
    LDAP.search_result_operations = {
        "uidNumber": {"action": INCREMENT_ATTRIBUTE, "modify_dn": "cn=uidNext,dc=example,dc=org"}
    }
    LDAP.set_spawner_attributes = {"environment": {"NB_USER": "{name}", "NB_UID": "{uidNumber}"}}


class User:
    def __init__(self, name: str):
        self.name = name


class Spawner:
    def __init__(self, name: str):
        import logging

        self.user = User(name)
        self.user_options = {"CERT": f"/C=DK/CN=Bench {name}"}
        self.environment = {}
        self.log = logging.getLogger("bench")


class StallMeter:
    """Measures how late a 1 ms timer fires on the event loop while spawns run.

    Each figure is the median, over windows such as one round of concurrent
    spawns, of the longest lateness in the window. On a virtual machine the timer
    of an idle loop is now and then several ms late, so the longest lateness of a
    whole run shows those pauses more than what the spawns cost. It is reported
    too, as `max_ms`.
    """

    @classmethod
    async def idle(cls, seconds: float, windows: int) -> dict:
        """Measure the loop with nothing else on it for `seconds`, split into
        `windows` equal windows: the scheduler's own jitter."""
        meter = cls()
        ticker = asyncio.ensure_future(meter.run())
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        meter.stop()
        await ticker
        step = seconds / windows
        return meter.summary([(started + index * step, started + (index + 1) * step) for index in range(windows)])

    def __init__(self):
        #: (when the timer fired, how late it was in seconds)
        self.samples = []
        self._running = True

    async def run(self) -> None:
        while self._running:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.samples.append((now, now - before - 0.001))

    def stop(self) -> None:
        self._running = False

    def summary(self, windows: list) -> dict:
        """Return the median of the windows' longest lateness and the longest of
        all, in ms."""
        longest = []
        for start, end in windows:
            # A late timer belongs to every window that its wait overlaps.
            late = [lateness for fired, lateness in self.samples if fired >= start and fired - lateness - 0.001 <= end]
            longest.append(max(late, default=0.0))
        everything = max((lateness for _, lateness in self.samples), default=0.0)
        return {"median_ms": statistics.median(longest) * 1000, "max_ms": everything * 1000}


async def spawn(name: str) -> None:
    result = await setup_ldap_entry_hook(Spawner(name))
    # ldap-hooks 0.1.2 returns False on failure instead of raising.
    if result is not True:
        raise RuntimeError(f"the spawn of {name} failed")


def wait_for_worker_processes(timeout: float = 60) -> None:
    """Wait until this project's worker processes have started, so that the figures
    show the steady state of a running hub; 0.1.2 has none."""
    try:
        from ldap_hooks import hook
    except ImportError:
        return
    deadline = time.monotonic() + timeout
    for pool in list(getattr(hook, "_pools", {}).values()):
        for process in list(getattr(pool, "_processes", [])):
            while not process.ready():
                if process.failed or time.monotonic() > deadline:
                    raise RuntimeError(f"a worker process did not start: {process.failed or 'timed out'}")
                time.sleep(0.05)


def operations() -> int:
    """LDAP operations counted by this project's host; None for 0.1.2."""
    try:
        from ldap_hooks import hook
    except ImportError:
        return None
    pools = getattr(hook, "_pools", None)
    if pools is None:
        return None
    return sum(pool.operations() for pool in pools.values())


async def latency(prefix: str, calls: int) -> dict:
    await spawn(f"{prefix}-warm")
    wait_for_worker_processes()
    # The first call in a worker process opens its connection and reads the schema.
    await spawn(f"{prefix}-warm-process")
    meter = StallMeter()
    ticker = asyncio.ensure_future(meter.run())
    measuring = time.perf_counter()
    phases = {}
    windows = []
    for phase in ("new", "existing"):
        before = operations()
        micros = []
        started = time.perf_counter()
        for index in range(calls):
            begin = time.perf_counter()
            await spawn(f"{prefix}-{index}")
            micros.append((time.perf_counter() - begin) * 1e6)
            # The stall windows are groups of WINDOW spawns.
            if index % WINDOW == 0:
                windows.append([begin, begin])
            windows[-1][1] = time.perf_counter()
        elapsed = time.perf_counter() - started
        after = operations()
        phases[phase] = {
            "micros": micros,
            "throughput": calls / elapsed,
            "operations": None if before is None else (after - before) / calls,
        }
    meter.stop()
    await ticker
    phases["stall"] = meter.summary(windows)
    # The idle baseline is measured for as long as the spawns ran, up to 10 s.
    phases["idle_stall"] = await StallMeter.idle(min(10.0, time.perf_counter() - measuring), len(windows))
    return phases


async def concurrent(prefix: str, rounds: int) -> dict:
    # One round to start every worker thread, as on a hub that has been running.
    await asyncio.gather(*(spawn(f"{prefix}-warm-{index}") for index in range(CONCURRENCY)))
    wait_for_worker_processes()
    await asyncio.gather(*(spawn(f"{prefix}-warm-process-{index}") for index in range(CONCURRENCY)))
    meter = StallMeter()
    ticker = asyncio.ensure_future(meter.run())
    started = time.perf_counter()
    windows = []
    for round_number in range(rounds):
        names = [f"{prefix}-{round_number}-{index}" for index in range(CONCURRENCY)]
        begin = time.perf_counter()
        await asyncio.gather(*(spawn(name) for name in names))
        windows.append((begin, time.perf_counter()))
    elapsed = time.perf_counter() - started
    meter.stop()
    await ticker
    return {
        "throughput": rounds * CONCURRENCY / elapsed,
        "stall": meter.summary(windows),
        "idle_stall": await StallMeter.idle(min(10.0, elapsed), rounds),
    }


async def coldstart(prefix: str) -> dict:
    configured = time.perf_counter()
    await spawn(f"{prefix}-first")
    done = time.perf_counter()
    return {"import_ms": (IMPORTED - STARTED) * 1000, "first_spawn_ms": (done - configured) * 1000}


def main() -> None:
    mode, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0
    configure()
    if mode == "latency":
        result = asyncio.run(latency(prefix, count))
    elif mode == "concurrent":
        result = asyncio.run(concurrent(prefix, count))
    else:
        result = asyncio.run(coldstart(prefix))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
