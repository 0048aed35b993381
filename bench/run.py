"""The benchmark: ldap-hooks 0.1.2, this project's Python package and its Rust host,
against one throwaway slapd, in one run. scripts/bench.sh runs it inside
throwaway-slapd; docs/benchmarks.md explains the figures and records a run.

Usage: run.py LEGACY_PYTHON [CALLS]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DRIVER = HERE / "driver.py"
SLAPD_LOG = Path(os.environ["LDAP_SLAPD_DIRECTORY"]) / "slapd.log"


def slapd_operations() -> int:
    """Count the operations slapd has completed: each ends with one RESULT line."""
    return SLAPD_LOG.read_text(errors="replace").count(" RESULT ")


def driver(python: str, *arguments: str, environment=None) -> dict:
    with tempfile.TemporaryDirectory(prefix="ldap-hooks-bench-") as folder:
        # ldap-hooks 0.1.2 writes a debug log into the working directory.
        output = subprocess.run(
            [python, str(DRIVER), *arguments],
            cwd=folder,
            capture_output=True,
            text=True,
            env={**os.environ, **(environment or {})},
            check=False,
        )
    if output.returncode != 0:
        raise SystemExit(f"{python} {' '.join(arguments)} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def percentiles(micros):
    ordered = sorted(micros)
    return ordered[len(ordered) // 2] / 1000, ordered[int(len(ordered) * 0.9)] / 1000


def stall_text(stall: dict) -> str:
    return f"{stall['median_ms']:.1f} ms (median; longest of the run {stall['max_ms']:.1f} ms)"


def measured(python: str, prefix: str, calls: int) -> dict:
    before = slapd_operations()
    result = driver(python, "latency", prefix, str(calls))
    total = slapd_operations() - before
    # The two warm-up spawns are new entries; slapd's count covers both phases.
    result["slapd_operations_per_call"] = total / (2 * calls + 2)
    return result


def main() -> None:
    legacy_python = sys.argv[1]
    ours_python = sys.executable
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    print(f"ldap-hooks benchmark: {calls} calls per measurement, slapd at {os.environ['LDAP_URL']}\n", flush=True)

    results = {"legacy": measured(legacy_python, "legacy", calls), "python": measured(ours_python, "python", calls)}

    cargo = subprocess.run(
        ["cargo", "bench", "-q", "--locked", "-p", "ldap-hooks", "--bench", "hook"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_CALLS": str(calls)},
        check=False,
    )
    if cargo.returncode != 0:
        raise SystemExit(f"cargo bench failed:\n{cargo.stderr[-3000:]}")
    rust = json.loads(cargo.stdout.strip().splitlines()[-1])
    results["rust"], results["floor"] = rust["rust"], rust["floor"]

    rounds = max(10, calls // 10)
    concurrency = {
        "legacy": driver(legacy_python, "concurrent", "legacy-c", str(rounds)),
        "python": driver(ours_python, "concurrent", "python-c", str(rounds)),
    }

    with tempfile.TemporaryDirectory(prefix="ldap-hooks-bench-cache-") as cache:
        cold = driver(ours_python, "coldstart", "python-cold", environment={"LDAP_HOOKS_CACHE_DIR": cache})
        warm = driver(ours_python, "coldstart", "python-warm", environment={"LDAP_HOOKS_CACHE_DIR": cache})
    legacy_start = driver(legacy_python, "coldstart", "legacy-cold")

    print(f"{'':22}{'new p50':>10}{'new p90':>10}{'old p50':>10}{'old p90':>10}{'seq new/s':>11}{'seq old/s':>11}{'ops new':>9}{'ops old':>9}")
    for name, label in (("legacy", "ldap-hooks 0.1.2"), ("python", "Python package"), ("rust", "Rust host"), ("floor", "ldap3 floor")):
        row = results[name]
        new50, new90 = percentiles(row["new"]["micros"])
        old50, old90 = percentiles(row["existing"]["micros"])
        throughput_new = row["new"].get("throughput") or 1e6 / statistics.mean(row["new"]["micros"])
        throughput_old = row["existing"].get("throughput") or 1e6 / statistics.mean(row["existing"]["micros"])
        ops_new = row["new"].get("operations")
        ops_old = row["existing"].get("operations")
        ops = lambda value: "-" if value is None else f"{value:.2f}"  # noqa: E731
        print(f"{label:22}{new50:>8.2f}ms{new90:>8.2f}ms{old50:>8.2f}ms{old90:>8.2f}ms{throughput_new:>11.0f}{throughput_old:>11.0f}{ops(ops_new):>9}{ops(ops_old):>9}")
    for name in ("legacy", "python"):
        print(f"slapd-counted operations per call ({name}): {results[name]['slapd_operations_per_call']:.1f}")

    print()
    for name, label in (("legacy", "ldap-hooks 0.1.2"), ("python", "Python package")):
        together, alone = concurrency[name], results[name]
        print(
            f"{label}: {together['throughput']:.0f} spawns/s with 20 concurrent spawns on one event loop; "
            f"longest event-loop stall per round {stall_text(together['stall'])} (idle loop: "
            f"{stall_text(together['idle_stall'])}); per 20 sequential spawns {stall_text(alone['stall'])} "
            f"(idle loop: {stall_text(alone['idle_stall'])})"
        )
    print(
        f"cold start of the Python package: import {cold['import_ms']:.0f} ms; first spawn {cold['first_spawn_ms']:.0f} ms "
        f"without the compile cache, {warm['first_spawn_ms']:.0f} ms with it (import {warm['import_ms']:.0f} ms); "
        f"ldap-hooks 0.1.2: import {legacy_start['import_ms']:.0f} ms, first spawn {legacy_start['first_spawn_ms']:.0f} ms"
    )

    new_ratio = percentiles(results["legacy"]["new"]["micros"])[0] / percentiles(results["python"]["new"]["micros"])[0]
    old_ratio = percentiles(results["legacy"]["existing"]["micros"])[0] / percentiles(results["python"]["existing"]["micros"])[0]
    rust_new = percentiles(results["rust"]["new"]["micros"])[0] / percentiles(results["floor"]["new"]["micros"])[0]
    rust_old = percentiles(results["rust"]["existing"]["micros"])[0] / percentiles(results["floor"]["existing"]["micros"])[0]
    # The stall a spawn adds: the longest lateness of the loop's timer per round of
    # spawns (median over the rounds), less the same figure of the idle loop in the
    # same process.
    stall = max(
        concurrency["python"]["stall"]["median_ms"] - concurrency["python"]["idle_stall"]["median_ms"],
        results["python"]["stall"]["median_ms"] - results["python"]["idle_stall"]["median_ms"],
    )
    targets = [
        ("Python package vs 0.1.2, new entries (p50)", f"{new_ratio:.1f}x faster", new_ratio >= 5, "at least 5x"),
        ("Python package vs 0.1.2, existing entries (p50)", f"{old_ratio:.1f}x faster", old_ratio >= 10, "at least 10x"),
        ("longest event-loop stall per round beyond the idle loop's", f"{stall:.2f} ms", stall <= 2, "at most 2 ms"),
        ("Rust host vs ldap3 floor, new entries (p50)", f"{rust_new:.2f}x", rust_new <= 1.3, "at most 1.3x"),
        ("Rust host vs ldap3 floor, existing entries (p50)", f"{rust_old:.2f}x", rust_old <= 1.3, "at most 1.3x"),
        ("LDAP operations per new entry (Python, Rust)", f"{results['python']['new']['operations']:.2f}, {results['rust']['new']['operations']:.2f}",
         max(results["python"]["new"]["operations"], results["rust"]["new"]["operations"]) <= 4, "at most 4"),
        ("LDAP operations per existing entry (Python, Rust)", f"{results['python']['existing']['operations']:.2f}, {results['rust']['existing']['operations']:.2f}",
         max(results["python"]["existing"]["operations"], results["rust"]["existing"]["operations"]) <= 1, "at most 1"),
        ("first spawn after a restart, warm compile cache", f"{warm['first_spawn_ms']:.0f} ms", warm["first_spawn_ms"] <= 50, "at most 50 ms"),
    ]
    print("\ntargets:")
    for label, value, met, target in targets:
        print(f"  {'met ' if met else 'MISSED'}  {label}: {value} (target {target})")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\nthe benchmark took {time.perf_counter() - started:.0f} s")
