"""One process of the stress test: runs HOOKS concurrent spawns on one event loop and
prints one JSON line per spawn. Usage: stress_worker.py URL PASSWORD PROCESS HOOKS METHOD"""

import asyncio
import json
import sys

import scenarios
from conftest import Spawner, User
from ldap_hooks import LDAP, LdapHookError, setup_ldap_entry_hook


async def main() -> None:
    url, password, process, hooks, method = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    LDAP.url = url
    LDAP.user = "cn=admin,dc=example,dc=org"
    LDAP.password = password
    LDAP.base_dn = "dc=example,dc=org"
    scenarios.allocation(LDAP)
    LDAP.allocation_method = method
    LDAP.worker_threads = hooks
    # The race is between connections, so threads are enough; a child process per
    # thread would start a hundred interpreters across the stress processes.
    LDAP.worker_processes = False

    spawners = [
        Spawner(User(f"p{process}u{index}"), user_options={"CERT": f"/C=DK/CN=User p{process}u{index}"})
        for index in range(hooks)
    ]
    results = await asyncio.gather(*(setup_ldap_entry_hook(spawner) for spawner in spawners), return_exceptions=True)
    for spawner, result in zip(spawners, results):
        if isinstance(result, LdapHookError):
            print(json.dumps({"user": spawner.user.name, "error": str(result)}))
        elif isinstance(result, BaseException):
            print(json.dumps({"user": spawner.user.name, "error": repr(result)}))
        else:
            print(json.dumps({"user": spawner.user.name, "uidNumber": spawner.environment["NB_UID"]}))


if __name__ == "__main__":
    asyncio.run(main())
