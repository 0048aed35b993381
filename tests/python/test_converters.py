"""The converters that carry values between Python and the components. Every
parameter and result type of the hook and rule components must cross the same way
as with wasmtime-py's own conversion, in both directions. No server is needed."""

import ctypes
import random

import pytest
import wasmtime
from wasmtime import _ffi as ffi
from wasmtime.component import Record, Variant
from wasmtime.component import _types as wit

from ldap_hooks import converters
from ldap_hooks.directory import Directory
from ldap_hooks.runtime import HOOK_INTERFACE, RULES_INTERFACE, Components, Worker
from ldap_hooks.settings import Connection

# The workers here never connect: only the component types are read.
UNUSED_SERVER = Connection(url="ldap://127.0.0.1:9", host="127.0.0.1", port=9, use_ssl=False, user="")

TEXTS = ["", "a", "Jane Doe", "ø,+=\"\\<>;#", "名前", "x" * 300, "\u0000nul", "emoji \U0001F600"]


def sample(valtype: wit.ValType, rng: random.Random, depth: int = 0):
    """A random value of `valtype` in wasmtime-py's Python shape."""
    if isinstance(valtype, wit.Bool):
        return rng.choice([True, False])
    if isinstance(valtype, (wit.U8, wit.U16, wit.U32, wit.U64)):
        return rng.choice([0, 1, 255])
    if isinstance(valtype, (wit.S8, wit.S16, wit.S32, wit.S64)):
        return rng.choice([-1, 0, 127])
    if isinstance(valtype, wit.String):
        return rng.choice(TEXTS)
    if isinstance(valtype, wit.EnumType):
        return rng.choice(valtype.names)
    if isinstance(valtype, wit.ListType):
        return [sample(valtype.element, rng, depth + 1) for _ in range(rng.randint(0, 3 if depth < 3 else 0))]
    if isinstance(valtype, wit.TupleType):
        return tuple(sample(item, rng, depth + 1) for item in valtype.elements)
    if isinstance(valtype, wit.RecordType):
        value = Record()
        for name, field in valtype.fields:
            setattr(value, name, sample(field, rng, depth + 1))
        return value
    if isinstance(valtype, wit.VariantLikeType):
        name, payload_type = rng.choice(valtype._cases())
        payload = None if payload_type is None else sample(payload_type, rng, depth + 1)
        return Variant(name, payload) if valtype._tagged() else payload
    raise AssertionError(f"no sample for {valtype}")


def function_types():
    """(label, wasmtime-py value type) of every parameter and result of both components."""
    components = Components.load()
    worker = Worker(components, Directory(UNUSED_SERVER))
    sandbox, functions = worker._instantiate_hook()
    rules_sandbox, parse = worker._instantiate_rules()
    found = []
    for label, export, store in [(f"{HOOK_INTERFACE}#{name}", function, sandbox.store)
                                 for name, function in functions.items()] + [
                                     (f"{RULES_INTERFACE}#parse", parse, rules_sandbox.store)]:
        described = export._func.type(store)
        for name, valtype in described.params:
            found.append((f"{label}({name})", valtype))
        if described.result is not None:
            found.append((f"{label} result", described.result))
    return found


TYPES = function_types()


@pytest.mark.parametrize("label,valtype", TYPES, ids=[label for label, _ in TYPES])
def test_values_cross_like_wasmtime_py(label, valtype):
    converter = converters.build(valtype)
    rng = random.Random(label)
    store = wasmtime.Store()
    for _ in range(40):
        value = sample(valtype, rng)
        # Lowered here, lifted by wasmtime-py.
        slot = ffi.wasmtime_component_val_t()
        converter.lower(value, slot)
        assert valtype.convert_from_c(slot) == value
        # Lowered by wasmtime-py, lifted here.
        slot = ffi.wasmtime_component_val_t()
        valtype.convert_to_c(store, value, ctypes.pointer(slot))
        assert converter.lift(slot) == value


def test_lower_wrong_nested_value_fails_cleanly():
    _, valtype = next((label, valtype) for label, valtype in TYPES if label.endswith("#run-configured(context)"))
    converter = converters.build(valtype)
    value = sample(valtype, random.Random(1))
    value.__dict__["user-attributes"] = [("name", "value"), ("name", 42)]
    slot = ffi.wasmtime_component_val_t()
    with pytest.raises(TypeError, match="expected str"):
        converter.lower(value, slot)
    # The slot owns nothing afterwards, and the converter still works.
    assert slot.kind == ffi.WASMTIME_COMPONENT_BOOL.value
    value.__dict__["user-attributes"] = [("name", "value")]
    converter.lower(value, slot)
    assert converter.lift(slot) == value


def test_lower_value_outside_every_case_fails():
    _, valtype = next((label, valtype) for label, valtype in TYPES
                      if label.endswith("directory@0.1.0#search") or label.endswith("#configure result"))
    converter = converters.build(valtype)
    slot = ffi.wasmtime_component_val_t()
    with pytest.raises(ValueError, match="not valid"):
        converter.lower("neither", slot)
    assert slot.kind == ffi.WASMTIME_COMPONENT_BOOL.value


def test_variants_tuples_flags_round_trip():
    # The hook's WIT has no variant or flags type, so these converters are composed here.
    text = converters._string()
    number = converters._scalar(ffi.WASMTIME_COMPONENT_U32.value, "u32", int)
    pair = converters._tuple([text, number])
    variant = converters._variant_like("variant", [("named", text), ("numbered", number), ("empty", None),
                                                   ("both", pair), ("other", text)])
    listed = converters._list(variant, is_bytes=False)
    value = [Variant("named", "cn=x"), Variant("numbered", 7), Variant("empty"), Variant("both", ("a", 1)),
             Variant("other", "")]
    slot = ffi.wasmtime_component_val_t()
    listed.lower(value, slot)
    assert listed.lift(slot) == value
    with pytest.raises(ValueError, match="not a case"):
        listed.lower([Variant("missing", "x")], slot)
    flags = converters._flags()
    flags.lower({"read", "write"}, slot)
    assert flags.lift(slot) == {"read", "write"}


def test_worker_exports_use_converters():
    worker = Worker(Components.load(), Directory(UNUSED_SERVER))
    _, functions = worker._instantiate_hook()
    assert all(isinstance(function, converters.Export) for function in functions.values())
    assert all(function._signature is not None for function in functions.values())
