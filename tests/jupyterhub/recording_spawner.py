"""RecordingSpawner: starts fake_server.py as the user's server, with the environment
that JupyterHub computed, so a test can read what the server received."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from jupyterhub.spawner import Spawner
from traitlets import Unicode

FAKE_SERVER = Path(__file__).resolve().with_name("fake_server.py")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RecordingSpawner(Spawner):
    record_dir = Unicode(config=True, help="Folder for the environment files, one per user.")

    process = None

    def environment_file(self) -> Path:
        return Path(self.record_dir) / f"{self.user.name}.json"

    async def start(self):
        port = free_port()
        environment = self.get_env()
        environment["PATH"] = os.environ.get("PATH", "")
        self.process = subprocess.Popen(
            [sys.executable, str(FAKE_SERVER), str(port), str(self.environment_file())],
            env=environment,
            stdin=subprocess.DEVNULL,
        )
        return f"http://127.0.0.1:{port}"

    async def poll(self):
        if self.process is None:
            return 0
        return self.process.poll()

    async def stop(self, now=False):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
