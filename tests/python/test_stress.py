"""Concurrent allocation through the Python host: four processes, each running 25
spawns at once on one event loop, against one slapd. Every spawn must succeed with
its own number. The test prints its figures; it asserts no timing."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import COUNTER_START

PROCESSES = 4
HOOKS_PER_PROCESS = 25
WORKER = Path(__file__).resolve().with_name("stress_worker.py")


@pytest.mark.parametrize("method", ["compare-and-swap", "increment"])
def test_stress_four_processes(slapd, method):
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [sys.executable, str(WORKER), slapd.url, slapd.admin_password, str(index), str(HOOKS_PER_PROCESS), method],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=WORKER.parent,
        )
        for index in range(PROCESSES)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    elapsed = time.monotonic() - started

    results = [json.loads(line) for stdout, _ in outputs for line in stdout.splitlines()]
    failures = [result for result in results if "error" in result]
    numbers = sorted(int(result["uidNumber"]) for result in results if "uidNumber" in result)
    total = PROCESSES * HOOKS_PER_PROCESS
    print(
        f"\nstress ({method}): {PROCESSES} processes x {HOOKS_PER_PROCESS} concurrent spawns: "
        f"{len(numbers)} entries, {len(set(numbers))} distinct numbers, {len(failures)} failures "
        f"in {elapsed:.2f} s ({len(numbers) / elapsed:.0f} entries/s)"
    )

    for process, (_, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr
    assert failures == []
    assert numbers == list(range(COUNTER_START + 1, COUNTER_START + total + 1))
    assert slapd.counter() == COUNTER_START + total
    assert len(slapd.search("(objectClass=posixAccount)")) == total
