"""The demo: a real JupyterHub on 127.0.0.1 whose pre_spawn_hook is ldap-hooks,
configured with examples/jupyterhub/x509_allocation.py. The demo starts one user's
server through the REST API with a certificate subject in the request body. Then it
prints the entry that the hook created and the environment the server received.

scripts/demo.sh runs it inside throwaway-slapd, which sets LDAP_URL and the admin
credentials.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from hubtools import Hub

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "jupyterhub" / "x509_allocation.py"
SUBJECT = "/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org"


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def main() -> int:
    os.environ["LDAP_PASSWORD"] = os.environ["LDAP_ADMIN_PASSWORD"]
    hub = Hub(EXAMPLE.read_text())
    try:
        step(f"starting JupyterHub at {hub.url} with {EXAMPLE.relative_to(ROOT)}")
        hub.start()

        step(f"POST /hub/api/users/jane/server with user_options {{'CERT': '{SUBJECT}'}}")
        response = hub.spawn("jane", {"CERT": SUBJECT})
        print(f"HTTP {response.status_code}")
        if response.status_code not in (201, 202):
            print(response.text)
            return 1
        hub.wait_ready("jane")
        print("jane's server is running")

        step("the entry that ldap-hooks created (ldapsearch)")
        subprocess.run(
            ["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", os.environ["LDAP_URL"],
             "-D", os.environ["LDAP_ADMIN_DN"], "-w", os.environ["LDAP_ADMIN_PASSWORD"],
             "-b", os.environ["LDAP_BASE_DN"], "(uid=jane)"],
            check=True,
        )

        step("the environment jane's server received from the hook")
        environment = hub.server_environment("jane")
        print(json.dumps({key: environment[key] for key in ("NB_USER", "NB_UID")}, indent=2))

        step("a failing hook: the API response carries the hook's message")
        failed = hub.spawn("eve", {"CERT": "/C=DK/CN="})
        print(f"HTTP {failed.status_code}: {failed.json().get('message')}")
        return 0
    except Exception as error:  # noqa: BLE001 - the demo prints the hub's log on any failure
        print(f"the demo failed: {error}\n--- jupyterhub log ---\n{hub.log()}", file=sys.stderr)
        return 1
    finally:
        hub.stop()


if __name__ == "__main__":
    sys.exit(main())
