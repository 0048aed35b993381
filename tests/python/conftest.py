"""Fixtures of the Python tests: a throwaway slapd per test, the LDAP options reset
around each test, and spawner-like objects.

The slapd comes from the Rust harness (`target/debug/throwaway-slapd`), which
scripts/test.sh builds, so both hosts are tested against the same server set-up.
"""

import base64
import json
import logging
import os
import signal
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from traitlets.config import Config, LoggingConfigurable

from ldap_hooks import LDAP
from ldap_hooks import hook as hook_module

ROOT = Path(__file__).resolve().parents[2]
THROWAWAY_SLAPD = ROOT / "target" / "debug" / "throwaway-slapd"
COUNTER_DN = "cn=uidNext,dc=example,dc=org"
COUNTER_START = 2000


class Slapd:
    """A throwaway slapd on 127.0.0.1, owned by the test that started it."""

    def __init__(self, tls: bool = False):
        if not THROWAWAY_SLAPD.exists():
            pytest.fail(f"{THROWAWAY_SLAPD} is missing; run scripts/test.sh, which builds it")
        self.process = subprocess.Popen(
            [str(THROWAWAY_SLAPD)] + (["--tls"] if tls else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            pytest.fail("throwaway-slapd did not start; see its error output above")
        info = json.loads(line)
        self.url: str = info["url"]
        self.port: int = info["port"]
        self.base_dn: str = info["base_dn"]
        self.admin_dn: str = info["admin_dn"]
        self.admin_password: str = info["admin_password"]
        self.pid: int = info["pid"]
        self.directory = Path(info["directory"])
        self.ldaps_url: Optional[str] = info.get("ldaps_url")
        self.ca_file: Optional[str] = info.get("ca_file")
        self.other_ca_file: Optional[str] = info.get("other_ca_file")

    def stop(self) -> None:
        self.resume()
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def _command(self, command: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline().strip()
        assert reply == "ok", f"throwaway-slapd {command}: {reply}"

    def stop_server(self) -> None:
        """Stop slapd, keeping its data and port."""
        self._command("stop")

    def start_server(self) -> None:
        """Start slapd again on the same port with the same data."""
        self._command("start")

    def restart(self) -> None:
        self._command("restart")

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        try:
            os.kill(self.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass

    def connections(self) -> int:
        """Count the distinct connections slapd has logged."""
        log = (self.directory / "slapd.log").read_text(errors="replace")
        ids = {part.split(" ", 1)[0] for part in log.split("conn=")[1:]}
        return len(ids)

    def search(self, filter_text: str, base: Optional[str] = None, scope: str = "sub",
               attributes: Optional[List[str]] = None) -> List[Dict[str, List[str]]]:
        """Run ldapsearch as the root DN and return the entries, each a dict of
        lower-case attribute names (and "dn") to values."""
        command = [
            "ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", self.url,
            "-D", self.admin_dn, "-w", self.admin_password,
            "-b", base or self.base_dn, "-s", scope, filter_text,
        ] + (attributes or ["*"])
        output = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if output.returncode == 32:
            return []
        assert output.returncode == 0, f"ldapsearch failed: {output.stderr}"
        return parse_ldif(output.stdout)

    def counter(self) -> int:
        entries = self.search("(objectClass=*)", base=COUNTER_DN, scope="base", attributes=["uidNumber"])
        return int(entries[0]["uidnumber"][0])


def parse_ldif(text: str) -> List[Dict[str, List[str]]]:
    entries = []
    for block in text.strip().split("\n\n"):
        entry: Dict[str, List[str]] = {}
        for line in block.splitlines():
            if not line or line.startswith("#"):
                continue
            if ":: " in line:
                name, encoded = line.split(":: ", 1)
                value = base64.b64decode(encoded).decode("utf-8")
            else:
                name, value = line.split(": ", 1)
            entry.setdefault(name.lower(), []).append(value)
        if entry:
            entries.append(entry)
    return entries


FAULT_PROXY = ROOT / "target" / "debug" / "fault-proxy"


class FaultProxy:
    """The harness's fault-injecting proxy in front of a slapd (see tests/harness)."""

    def __init__(self, slapd: "Slapd"):
        self.process = subprocess.Popen(
            [str(FAULT_PROXY), str(slapd.port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.port = json.loads(self.process.stdout.readline())["port"]
        self.url = f"ldap://127.0.0.1:{self.port}"

    def set(self, fault: str) -> None:
        """Set `pass`, `drop-after N` or `stall-after N`."""
        self.process.stdin.write(fault + "\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "ok"

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture
def fault_proxy(slapd):
    proxy = FaultProxy(slapd)
    yield proxy
    proxy.stop()


@pytest.fixture
def slapd(request):
    server = Slapd(tls=getattr(request, "param", False) == "tls")
    yield server
    server.stop()


#: Every option of the LDAP class; tests set them as class attributes like 0.1.2 sites.
OPTION_NAMES = [name for name in LDAP.class_trait_names() if name not in ("config", "parent", "log")]


@pytest.fixture
def ldap(slapd):
    """The LDAP class connected to the test's slapd, reset to its defaults afterwards."""
    saved = {name: LDAP.__dict__[name] for name in OPTION_NAMES if name in LDAP.__dict__}
    LDAP.url = slapd.url
    LDAP.user = slapd.admin_dn
    LDAP.password = slapd.admin_password
    LDAP.base_dn = slapd.base_dn
    # Hooks run in the test's process, so that the fault tests' operation counts see
    # one connection. test_processes.py and the JupyterHub tests cover the worker
    # processes, which are on by default.
    LDAP.worker_processes = False
    yield LDAP
    for name in OPTION_NAMES:
        if name in saved:
            setattr(LDAP, name, saved[name])
    with hook_module._pools_lock:
        for pool in hook_module._pools.values():
            pool.shutdown()
        hook_module._pools.clear()


class User:
    """What the hook reads of a JupyterHub user: its name and attributes."""

    def __init__(self, name: str, **attributes):
        self.name = name
        for key, value in attributes.items():
            setattr(self, key, value)


class Spawner(LoggingConfigurable):
    """A spawner-like object: the attributes a pre_spawn_hook reads and sets."""

    def __init__(self, user: User, user_options=None, environment=None, config: Optional[Config] = None, **attributes):
        super().__init__(config=config or Config())
        self.user = user
        self.user_options = user_options if user_options is not None else {}
        self.environment = dict(environment or {})
        for key, value in attributes.items():
            setattr(self, key, value)
        self.log = logging.getLogger(f"test-spawner.{user.name}")


@pytest.fixture
def make_spawner():
    def make(name: str, submitted=None, key: str = "PersonDN", **attributes) -> Spawner:
        options = {key: submitted} if submitted is not None else {}
        return Spawner(User(name), user_options=options, **attributes)

    return make
