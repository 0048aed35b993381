"""Calls between Python and components with converters built once per function.

wasmtime-py lowers and lifts component values generically: on every call it reads
the function's type from wasmtime again, one ctypes call per record field, list
element type and variant case, and then walks the value. For the hook's records
this costs more than the hook's own work and more than most LDAP round trips.

This module reads a function's type once and builds a converter per WIT type: a
pair of closures that write a Python value into a ``wasmtime_component_val_t`` and
read one back, with field names, case tables and sub-converters fixed. Values have
the same Python shapes as in wasmtime-py (``Record`` objects, ``Variant`` for tagged
variants, plain values for untagged options and results), and ownership follows
wasmtime-py too: lifting a value takes it over and frees what wasmtime allocated.

Resource, future, stream and error-context types have no converter here; a
function that uses one goes through wasmtime-py's own conversion.
"""

import ctypes
import itertools
import threading
from ctypes import byref, memmove, string_at
from typing import Any, Callable, Dict, List, Optional, Tuple

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime.component import Func, LinkerInstance, Record, Variant
from wasmtime.component import _types as wit
from wasmtime.component._enter import catch_exceptions, enter_wasm

Lower = Callable[[Any, Any], None]
Lift = Callable[[Any], Any]

_VAL = ffi.wasmtime_component_val_t

_BOOL = ffi.WASMTIME_COMPONENT_BOOL.value
_CHAR = ffi.WASMTIME_COMPONENT_CHAR.value
_STRING = ffi.WASMTIME_COMPONENT_STRING.value
_LIST = ffi.WASMTIME_COMPONENT_LIST.value
_RECORD = ffi.WASMTIME_COMPONENT_RECORD.value
_TUPLE = ffi.WASMTIME_COMPONENT_TUPLE.value
_VARIANT = ffi.WASMTIME_COMPONENT_VARIANT.value
_ENUM = ffi.WASMTIME_COMPONENT_ENUM.value
_OPTION = ffi.WASMTIME_COMPONENT_OPTION.value
_RESULT = ffi.WASMTIME_COMPONENT_RESULT.value
_FLAGS = ffi.WASMTIME_COMPONENT_FLAGS.value

#: Scalar types: the kind, the union field and the Python type a value must have.
_SCALARS = (
    (wit.Bool, ffi.WASMTIME_COMPONENT_BOOL.value, "boolean", bool),
    (wit.S8, ffi.WASMTIME_COMPONENT_S8.value, "s8", int),
    (wit.U8, ffi.WASMTIME_COMPONENT_U8.value, "u8", int),
    (wit.S16, ffi.WASMTIME_COMPONENT_S16.value, "s16", int),
    (wit.U16, ffi.WASMTIME_COMPONENT_U16.value, "u16", int),
    (wit.S32, ffi.WASMTIME_COMPONENT_S32.value, "s32", int),
    (wit.U32, ffi.WASMTIME_COMPONENT_U32.value, "u32", int),
    (wit.S64, ffi.WASMTIME_COMPONENT_S64.value, "s64", int),
    (wit.U64, ffi.WASMTIME_COMPONENT_U64.value, "u64", int),
    (wit.F32, ffi.WASMTIME_COMPONENT_F32.value, "f32", float),
    (wit.F64, ffi.WASMTIME_COMPONENT_F64.value, "f64", float),
)


class Unsupported(TypeError):
    """A type that these converters do not handle."""


class Converter:
    """The conversion of one WIT type: `lower(value, slot)` fills an empty slot, and
    `lift(slot)` returns the Python value and frees the slot's contents.

    `classes` are the Python types the values have, which decide how an untagged
    option or result is lowered, as in wasmtime-py."""

    __slots__ = ("lower", "lift", "classes")

    def __init__(self, lower: Lower, lift: Lift, classes: Tuple[type, ...]):
        self.lower = lower
        self.lift = lift
        self.classes = classes


def _write_name(vector: Any, text: str) -> None:
    """Fill an empty wasm_byte_vec_t with `text` as UTF-8."""
    data = text.encode("utf-8")
    size = len(data)
    ffi.wasm_byte_vec_new_uninitialized(byref(vector), size)
    if size:
        memmove(vector.data, data, size)


def _take_name(vector: Any) -> str:
    """Read a wasm_byte_vec_t as UTF-8 text and free it."""
    size = vector.size
    text = string_at(vector.data, size).decode("utf-8") if size else ""
    ffi.wasm_byte_vec_delete(byref(vector))
    return text


def _clear(slot: Any) -> None:
    """Mark a slot as owning nothing, so that freeing its parent skips it."""
    slot.kind = _BOOL
    slot.of.boolean = False


def build(valtype: wit.ValType) -> Converter:
    """Build the converter of `valtype`; raises Unsupported for types without one."""
    for python_type, kind, member, checked in _SCALARS:
        if isinstance(valtype, python_type):
            return _scalar(kind, member, checked)
    if isinstance(valtype, wit.Char):
        return _char()
    if isinstance(valtype, wit.String):
        return _string()
    if isinstance(valtype, wit.EnumType):
        return _enum()
    if isinstance(valtype, wit.ListType):
        element = valtype.element
        return _list(build(element), isinstance(element, wit.U8))
    if isinstance(valtype, wit.RecordType):
        return _record([(name, build(field)) for name, field in valtype.fields])
    if isinstance(valtype, wit.TupleType):
        return _tuple([build(item) for item in valtype.elements])
    if isinstance(valtype, wit.FlagsType):
        return _flags()
    if isinstance(valtype, wit.OptionType):
        return _variant_like("option", [("none", None), ("some", build(valtype.payload))])
    if isinstance(valtype, wit.ResultType):
        ok, err = valtype.ok, valtype.err
        return _variant_like("result", [("ok", build(ok) if ok is not None else None),
                                        ("err", build(err) if err is not None else None)])
    if isinstance(valtype, wit.VariantType):
        cases = [(name, build(payload) if payload is not None else None) for name, payload in valtype.cases]
        return _variant_like("variant", cases)
    raise Unsupported(f"no converter for {type(valtype).__name__}")


def _scalar(kind: int, member: str, checked: type) -> Converter:
    def lower(value: Any, slot: Any) -> None:
        if not isinstance(value, checked):
            raise TypeError(f"expected {checked.__name__}, got {type(value).__name__}")
        setattr(slot.of, member, value)
        slot.kind = kind

    def lift(slot: Any) -> Any:
        return checked(getattr(slot.of, member))

    return Converter(lower, lift, (checked,))


def _char() -> Converter:
    def lower(value: Any, slot: Any) -> None:
        if not isinstance(value, str) or len(value) != 1:
            raise TypeError("expected a string of one character")
        slot.of.character = ord(value)
        slot.kind = _CHAR

    def lift(slot: Any) -> Any:
        return chr(slot.of.character)

    return Converter(lower, lift, (str,))


def _text(member: str, kind: int, label: str) -> Converter:
    """Build the converter of strings and enums, which both cross as UTF-8 names."""

    def lower(value: Any, slot: Any) -> None:
        if not isinstance(value, str):
            raise TypeError(f"expected str{label}, got {type(value).__name__}")
        _write_name(getattr(slot.of, member), value)
        slot.kind = kind

    def lift(slot: Any) -> Any:
        return _take_name(getattr(slot.of, member))

    return Converter(lower, lift, (str,))


def _string() -> Converter:
    return _text("string", _STRING, "")


def _enum() -> Converter:
    return _text("enumeration", _ENUM, " for an enum")


def _list(element: Converter, is_bytes: bool) -> Converter:
    lower_element, lift_element = element.lower, element.lift
    expected = bytes if is_bytes else list

    def lower(value: Any, slot: Any) -> None:
        if not isinstance(value, expected):
            raise TypeError(f"expected {expected.__name__}, got {type(value).__name__}")
        raw = slot.of.list
        size = len(value)
        ffi.wasmtime_component_vallist_new_uninit(byref(raw), size)
        data = raw.data
        done = 0
        try:
            for item in value:
                lower_element(item, data[done])
                done += 1
        except BaseException:
            for index in range(done, size):
                _clear(data[index])
            ffi.wasmtime_component_vallist_delete(byref(raw))
            _clear(slot)
            raise
        slot.kind = _LIST

    def lift(slot: Any) -> Any:
        raw = slot.of.list
        data = raw.data
        try:
            items = []
            for index in range(raw.size):
                item = data[index]
                items.append(lift_element(item))
                _clear(item)
        finally:
            ffi.wasmtime_component_vallist_delete(byref(raw))
        return bytes(items) if is_bytes else items

    return Converter(lower, lift, (expected,))


def _record(fields: List[Tuple[str, Converter]]) -> Converter:
    plan = [(name, converter.lower, converter.lift) for name, converter in fields]
    size = len(plan)

    def lower(value: Any, slot: Any) -> None:
        raw = slot.of.record
        ffi.wasmtime_component_valrecord_new_uninit(byref(raw), size)
        data = raw.data
        done = 0
        try:
            for name, lower_field, _ in plan:
                entry = data[done]
                lower_field(getattr(value, name), entry.val)
                _write_name(entry.name, name)
                done += 1
        except BaseException:
            for index in range(done, size):
                _clear(data[index].val)
                data[index].name.size = 0
                data[index].name.data = None
            ffi.wasmtime_component_valrecord_delete(byref(raw))
            _clear(slot)
            raise
        slot.kind = _RECORD

    def lift(slot: Any) -> Any:
        raw = slot.of.record
        data = raw.data
        result = Record()
        try:
            for index in range(min(raw.size, size)):
                name, _, lift_field = plan[index]
                entry = data[index]
                setattr(result, name, lift_field(entry.val))
                _clear(entry.val)
        finally:
            ffi.wasmtime_component_valrecord_delete(byref(raw))
        return result

    return Converter(lower, lift, (Record,))


def _tuple(items: List[Converter]) -> Converter:
    lowers = [item.lower for item in items]
    lifts = [item.lift for item in items]
    size = len(items)

    def lower(value: Any, slot: Any) -> None:
        if not isinstance(value, tuple) or len(value) != size:
            raise TypeError(f"expected a tuple of {size} items")
        raw = slot.of.tuple
        ffi.wasmtime_component_valtuple_new_uninit(byref(raw), size)
        data = raw.data
        done = 0
        try:
            for lower_item, item in zip(lowers, value):
                lower_item(item, data[done])
                done += 1
        except BaseException:
            for index in range(done, size):
                _clear(data[index])
            ffi.wasmtime_component_valtuple_delete(byref(raw))
            _clear(slot)
            raise
        slot.kind = _TUPLE

    def lift(slot: Any) -> Any:
        raw = slot.of.tuple
        data = raw.data
        try:
            values = []
            for index in range(min(raw.size, size)):
                item = data[index]
                values.append(lifts[index](item))
                _clear(item)
        finally:
            ffi.wasmtime_component_valtuple_delete(byref(raw))
        return tuple(values)

    return Converter(lower, lift, (tuple,))


def _flags() -> Converter:
    def lower(value: Any, slot: Any) -> None:
        if not isinstance(value, set) or not all(isinstance(item, str) for item in value):
            raise TypeError("expected a set of strings for flags")
        raw = slot.of.flags
        ffi.wasmtime_component_valflags_new_uninit(byref(raw), len(value))
        for index, item in enumerate(value):
            _write_name(raw.data[index], item)
        slot.kind = _FLAGS

    def lift(slot: Any) -> Any:
        raw = slot.of.flags
        names = set()
        for index in range(raw.size):
            vector = raw.data[index]
            names.add(string_at(vector.data, vector.size).decode("utf-8") if vector.size else "")
        ffi.wasmtime_component_valflags_delete(byref(raw))
        return names

    return Converter(lower, lift, (set,))


def _variant_like(shape: str, cases: List[Tuple[str, Optional[Converter]]]) -> Converter:
    """Options, results and variants. As in wasmtime-py, a value is a `Variant` when
    two cases could hold values of the same Python type, else the bare payload."""
    seen: set = set()
    tagged = False
    for _, converter in cases:
        classes = set(converter.classes) if converter is not None else {object}
        if classes & seen:
            tagged = True
        seen |= classes
    by_name = {name: converter for name, converter in cases}

    def box(converter: Converter, payload: Any) -> Any:
        slot = _VAL()
        converter.lower(payload, slot)
        return ffi.wasmtime_component_val_new(byref(slot))

    def choose(value: Any) -> Tuple[str, Any]:
        """Return the case name and its boxed payload (None without one)."""
        if tagged:
            if not isinstance(value, Variant):
                raise TypeError(f"expected a Variant, got {type(value).__name__}")
            if value.tag not in by_name:
                raise ValueError(f"{value.tag} is not a case of this {shape}")
            converter = by_name[value.tag]
            return value.tag, (box(converter, value.payload) if converter is not None else None)
        for name, converter in cases:
            if converter is None:
                if value is None:
                    return name, None
            elif isinstance(value, converter.classes):
                return name, box(converter, value)
        raise ValueError(f"a {type(value).__name__} is not valid for this {shape}")

    def unbox(name: str, pointer: Any) -> Any:
        converter = by_name.get(name)
        if converter is None or not pointer:
            payload = None
        else:
            slot = pointer[0]
            payload = converter.lift(slot)
            _clear(slot)
        if pointer:
            ffi.wasmtime_component_val_free(pointer)
        if tagged:
            return Variant(name, payload)
        return payload

    if shape == "option":
        def lower(value: Any, slot: Any) -> None:
            _, pointer = choose(value)
            slot.of.option = pointer
            slot.kind = _OPTION

        def lift(slot: Any) -> Any:
            pointer = slot.of.option
            return unbox("some" if pointer else "none", pointer)
    elif shape == "result":
        def lower(value: Any, slot: Any) -> None:
            name, pointer = choose(value)
            slot.of.result.is_ok = name == "ok"
            slot.of.result.val = pointer
            slot.kind = _RESULT

        def lift(slot: Any) -> Any:
            raw = slot.of.result
            return unbox("ok" if raw.is_ok else "err", raw.val)
    else:
        def lower(value: Any, slot: Any) -> None:
            name, pointer = choose(value)
            try:
                _write_name(slot.of.variant.discriminant, name)
            except BaseException:
                if pointer:
                    ffi.wasmtime_component_val_free(pointer)
                raise
            slot.of.variant.val = pointer
            slot.kind = _VARIANT

        def lift(slot: Any) -> Any:
            raw = slot.of.variant
            name = _take_name(raw.discriminant)
            return unbox(name, raw.val)

    classes: Tuple[type, ...] = (Variant,) if tagged else tuple(seen)
    return Converter(lower, lift, classes)


class Signature:
    """The converters of a function's parameters and result."""

    __slots__ = ("lowers", "lifts", "lower_result", "lift_result")

    def __init__(self, function_type: wit.FuncType):
        params = [build(valtype) for _, valtype in function_type.params]
        result = function_type.result
        result_converter = build(result) if result is not None else None
        self.lowers = [item.lower for item in params]
        self.lifts = [item.lift for item in params]
        self.lower_result = result_converter.lower if result_converter else None
        self.lift_result = result_converter.lift if result_converter else None


class Export:
    """A component export, called like a wasmtime-py `Func`: `export(store, *args)`."""

    def __init__(self, func: Func, store: wasmtime.Store):
        self._func = func
        try:
            self._signature: Optional[Signature] = Signature(func.type(store))
        except Unsupported:
            self._signature = None

    def __call__(self, store: wasmtime.Store, *params: Any) -> Any:
        signature = self._signature
        if signature is None:
            return self._func(store, *params)
        count = len(signature.lowers)
        if len(params) != count:
            raise TypeError(f"wrong number of parameters: given {len(params)}, expected {count}")
        slots = (_VAL * count)()
        lowered = 0
        try:
            for lower, value in zip(signature.lowers, params):
                lower(value, slots[lowered])
                lowered += 1
            result = _VAL()
            has_result = signature.lift_result is not None
            context = store._context()
            func = byref(self._func._func)
            enter_wasm(lambda: ffi.wasmtime_component_func_call(
                func, context, slots, count, byref(result) if has_result else None, 1 if has_result else 0))
            return signature.lift_result(result) if has_result else None
        finally:
            for index in range(lowered):
                ffi.wasmtime_component_val_delete(byref(slots[index]))


HostFunction = Callable[..., Any]

_host_lock = threading.Lock()
_host_functions: Dict[int, List[Any]] = {}
_host_ids = itertools.count(1)


def _host_call(store: Any, entry: List[Any], function_type: Any, args: Any, count: int, results: Any,
               result_count: int) -> None:
    function, signature = entry
    if signature is None:
        with wit.FuncType._from_ptr(function_type, owner=store) as described:
            try:
                signature = entry[1] = Signature(described)
            except Unsupported:
                signature = entry[1] = False
    if signature is False:
        with wit.FuncType._from_ptr(function_type, owner=store) as described:
            values = [valtype.convert_from_c(args[index])
                      for (_, valtype), index in zip(described.params, range(count))]
            result = function(store, *values)
            if described.result is not None:
                described.result.convert_to_c(store, result, results)
        return
    if count != len(signature.lifts):
        raise TypeError(f"the host function got {count} arguments, expected {len(signature.lifts)}")
    values = [lift(args[index]) for index, lift in enumerate(signature.lifts)]
    result = function(store, *values)
    if signature.lower_result is not None and result_count:
        signature.lower_result(result, results[0])


@ffi.wasmtime_component_func_callback_t
def _callback(identifier, context, function_type, args, count, results, result_count):  # type: ignore
    entry = _host_functions[identifier or 0]
    return catch_exceptions(
        context, lambda store: _host_call(store, entry, function_type, args, count, results, result_count))


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _forget(identifier):  # type: ignore
    with _host_lock:
        _host_functions.pop(identifier or 0, None)


def add_func(instance: LinkerInstance, name: str, function: HostFunction) -> None:
    """Define the import `name` in `instance` as `function(store, *args)`, like
    wasmtime-py's `LinkerInstance.add_func` but with converters built once."""
    instance._assert_not_locked()
    encoded = name.encode("utf-8")
    with _host_lock:
        identifier = next(_host_ids)
        _host_functions[identifier] = [function, None]
    error = ffi.wasmtime_component_linker_instance_add_func(
        instance.ptr(), ctypes.create_string_buffer(encoded), len(encoded), _callback, identifier, _forget)
    if error:
        with _host_lock:
            _host_functions.pop(identifier, None)
        raise wasmtime.WasmtimeError._from_ptr(error)
