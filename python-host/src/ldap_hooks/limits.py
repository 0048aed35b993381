"""The sandbox limits of component calls."""

from dataclasses import dataclass

#: Fuel per component call, unless configured; the binary has the same default.
DEFAULT_FUEL = 1_000_000_000
#: Linear memory per component instance in MiB, unless configured.
DEFAULT_MEMORY_MB = 256


@dataclass(frozen=True)
class Limits:
    """The sandbox limits of every component call."""

    fuel: int = DEFAULT_FUEL
    memory_bytes: int = DEFAULT_MEMORY_MB * 1024 * 1024
    log_stderr: bool = False
