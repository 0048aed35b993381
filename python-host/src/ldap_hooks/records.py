"""WIT records for wasmtime-py: objects whose attribute names are the kebab-case
field names of the WIT types."""

from typing import Any

from wasmtime.component import Record


def record(**fields: Any) -> Record:
    """Build a record from Python keyword arguments, turning `base_dn` into `base-dn`."""
    value = Record()
    for name, field in fields.items():
        setattr(value, name.replace("_", "-"), field)
    return value


def field(value: Any, name: str) -> Any:
    """Read the field `name` (in snake case) of a record returned by a component."""
    return getattr(value, name.replace("_", "-"))
