"""Running a real JupyterHub on 127.0.0.1 for the tests and the demo.

`Hub` writes a jupyterhub_config.py into a temporary folder (ports, a sqlite
database, the proxy from node_modules, RecordingSpawner and a service token for the
REST API), appends the caller's LDAP settings, starts `jupyterhub` and stops it
again with everything it started.
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional

import requests

from recording_spawner import free_port

HERE = Path(__file__).resolve().parent
PROXY = HERE / "node_modules" / ".bin" / "configurable-http-proxy"

BASE_CONFIG = """
import sys
sys.path.insert(0, {here!r})

c = get_config()
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{folder}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{folder}/cookie_secret"
c.JupyterHub.pid_file = "{folder}/jupyterhub.pid"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "recording_spawner.RecordingSpawner"
c.RecordingSpawner.record_dir = "{folder}"
c.JupyterHub.services = [{{"name": "ldap-hooks-tests", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "ldap-hooks-tests",
    "scopes": ["admin:users", "admin:servers", "read:users"],
    "services": ["ldap-hooks-tests"],
}}]
"""


class Hub:
    """A JupyterHub process with its own folder, ports and API token."""

    def __init__(self, ldap_config: str):
        if not PROXY.exists():
            raise RuntimeError(f"{PROXY} is missing; run scripts/setup.sh, which installs it with npm")
        self.folder = Path(tempfile.mkdtemp(prefix="ldap-hooks-hub-"))
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = BASE_CONFIG.format(
            here=str(HERE),
            port=self.port,
            hub_port=free_port(),
            proxy_api_port=free_port(),
            proxy=str(PROXY),
            folder=self.folder,
            token=self.token,
        )
        (self.folder / "jupyterhub_config.py").write_text(config + "\n" + ldap_config)
        self.log_file = self.folder / "jupyterhub.log"
        self.process: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 60) -> None:
        jupyterhub = Path(sys.executable).with_name("jupyterhub")
        with open(self.log_file, "w") as log:
            self.process = subprocess.Popen(
                [str(jupyterhub), "-f", "jupyterhub_config.py", "--debug"],
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"jupyterhub did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def api(self, method: str, path: str, body: Any = None, timeout: float = 30) -> requests.Response:
        return requests.request(
            method,
            f"{self.url}/hub/api{path}",
            headers={"Authorization": f"token {self.token}"},
            data=json.dumps(body) if body is not None else None,
            timeout=timeout,
        )

    def create_user(self, name: str) -> None:
        response = self.api("POST", f"/users/{name}")
        if response.status_code not in (201, 409):
            raise RuntimeError(f"creating the user {name} failed: {response.status_code} {response.text}")

    def spawn(self, name: str, user_options: Dict[str, Any]) -> requests.Response:
        """Start the user's server with `user_options` as the request body."""
        self.create_user(name)
        return self.api("POST", f"/users/{name}/server", user_options)

    def wait_ready(self, name: str, timeout: float = 60) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"/users/{name}").json()
            server = (model.get("servers") or {}).get("")
            if server and server.get("ready"):
                return model
            if not server and not model.get("pending"):
                raise RuntimeError(f"the server of {name} stopped or failed to start:\n{self.log()}")
            time.sleep(0.2)
        raise RuntimeError(f"the server of {name} was not ready within {timeout} s")

    def wait_not_pending(self, name: str, timeout: float = 60) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"/users/{name}").json()
            if not model.get("pending"):
                return model
            time.sleep(0.2)
        raise RuntimeError(f"the spawn of {name} was still pending after {timeout} s")

    def server_environment(self, name: str, timeout: float = 30) -> Dict[str, str]:
        path = self.folder / f"{name}.json"
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server of {name} wrote no environment file")
            time.sleep(0.1)
        return json.loads(path.read_text())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # The hub and the proxy and servers it started share a session.
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)
