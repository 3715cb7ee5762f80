"""Mapping between frozen dataclasses and the JSON shapes serde gives their Rust twins.

A dataclass's annotations are its schema: this module reads them once and
does all the field-by-field work, so that no message needs codec code of its
own and every decode error names the JSON path where it happened.

Serde conventions followed: enums are externally tagged (a unit variant is a
bare string, a struct variant a single-key object around its fields, a
newtype variant a single-key object around its one value); every field is
emitted, `None` as null; unknown fields are ignored; a missing field takes
its default or is an error; bytes travel as arrays of integers.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, NoReturn, TypeAlias

from .errors import ProtocolError
from .secrets import Secret

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

_NONE_TYPE = type(None)


class Shape(enum.Enum):
    """How a variant sits on the wire."""

    UNIT = "unit"
    """`"Tag"`."""
    STRUCT = "struct"
    """`{"Tag": {...fields}}`; a fieldless one is `{"Tag": {}}`, kept open for new fields."""
    NEWTYPE = "newtype"
    """`{"Tag": value}`, the value being the one field's encoding."""


@dataclasses.dataclass(frozen=True, slots=True)
class WireSpec:
    """Per-class wire details, for the few classes that differ from the defaults.

    By default the tag is the class name and the shape is UNIT for a class with
    no fields and no extras, STRUCT otherwise.
    """

    tag: str | None = None
    shape: Shape | None = None
    extras: Mapping[str, JsonValue] = dataclasses.field(default_factory=dict)
    """Fields real peers require but the simulation does not model: emitted as
    these constants, ignored when decoding."""
    accepts_bare: bool = False
    """A STRUCT variant that also decodes from its bare name (a legacy unit form)."""


_PLAIN = WireSpec()


def wire_spec(cls: type) -> WireSpec:
    """The class's own wire details, or the defaults when it declares none."""
    spec = getattr(cls, "wire", _PLAIN)
    assert isinstance(spec, WireSpec), f"{cls.__name__}.wire must be a WireSpec"
    return spec


def variant_tag(cls: type) -> str:
    """The name a variant goes by on the wire (the class name unless renamed)."""
    return wire_spec(cls).tag or cls.__name__


def _shape(cls: type) -> Shape:
    spec = wire_spec(cls)
    if spec.shape is not None:
        return spec.shape
    return Shape.STRUCT if _fields(cls) or spec.extras else Shape.UNIT


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    hint: Any
    required: bool


@functools.cache
def _fields(cls: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        _Field(
            f.name,
            hints[f.name],
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    )


def _union_members(tp: Any) -> tuple[Any, ...] | None:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return typing.get_args(tp)
    return None


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


# -- descriptions for error messages ---------------------------------------------------------

_SCALAR_NAMES: dict[Any, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    bytes: "an array of bytes",
}


def _one_of(names: typing.Iterable[str]) -> str:
    return "one of " + ", ".join(json.dumps(name) for name in names)


def describe(tp: Any) -> str:
    """What a value of this type looks like on the wire, in words."""
    members = _union_members(tp)
    if members is not None:
        options = [m for m in members if m is not _NONE_TYPE]
        text = describe(options[0]) if len(options) == 1 else _one_of(map(variant_tag, options))
        return f"{text} or null" if len(options) < len(members) else text
    if tp in _SCALAR_NAMES:
        return _SCALAR_NAMES[tp]
    if isinstance(tp, type) and issubclass(tp, Secret):
        return "a string"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _one_of(member.value for member in tp)
    if typing.get_origin(tp) is tuple:
        return "an array"
    return "an object"


def render(value: object) -> str:
    """A short picture of a received value; containers are summarised, not dumped."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(path: str, tp: Any, value: object) -> NoReturn:
    raise ProtocolError(path, describe(tp), render(value))


# -- JSON text ---------------------------------------------------------------------------------


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str) -> JsonValue:
    """Parse one frame; anything that is not strict JSON is a ProtocolError at `$`."""
    try:
        value: JsonValue = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float
        )
    except json.JSONDecodeError as exc:
        raise ProtocolError("$", "valid JSON", f"{exc.msg} at column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("$", "valid JSON", str(exc) or type(exc).__name__) from None
    return value


def _finite_float(text: str) -> float:
    """Numbers too large for a float (`1e400`) become inf, which JSON cannot carry back."""
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"number {text} is out of range")
    return number


def dumps(value: JsonValue) -> str:
    """Canonical text: compact, sorted keys, ASCII only (safe in line-oriented traces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


# -- decoding ----------------------------------------------------------------------------------


class _Bare(enum.Enum):
    """Marks a variant that arrived as a bare string, i.e. with no payload at all."""

    BARE = enum.auto()


BARE = _Bare.BARE


def split_tagged(value: object, path: str, expected: str) -> tuple[str, object]:
    """Split an externally tagged value into its tag and its payload (BARE for a bare name)."""
    if isinstance(value, str):
        return value, BARE
    if isinstance(value, dict) and len(value) == 1:
        ((tag, body),) = value.items()
        return tag, body
    raise ProtocolError(path, expected, render(value))


def decode_value(tp: Any, value: object, path: str) -> Any:
    """Decode `value` found at `path` as an instance of the type form `tp`."""
    shown = tp
    members = _union_members(tp)
    if members is not None:
        options = tuple(m for m in members if m is not _NONE_TYPE)
        if value is None and len(options) < len(members):
            return None
        if len(options) > 1:
            return _decode_tagged(tp, options, value, path)
        tp = options[0]
    if tp is bool:
        return value if isinstance(value, bool) else _fail(path, shown, value)
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return value if ok else _fail(path, shown, value)
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        _fail(path, shown, value)
    if tp is str:
        return value if isinstance(value, str) else _fail(path, shown, value)
    if tp is bytes:
        return _decode_bytes(value, path)
    if typing.get_origin(tp) is tuple:
        if not isinstance(value, list):
            _fail(path, shown, value)
        item = typing.get_args(tp)[0]
        return tuple(decode_value(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if isinstance(tp, type) and issubclass(tp, Secret):
        return tp(value) if isinstance(value, str) else _fail(path, shown, value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if member.value == value and isinstance(value, str):
                return member
        _fail(path, shown, value)
    if _is_dataclass_type(tp):
        return decode_struct(tp, value, path)
    raise TypeError(f"no wire mapping for {tp!r}")


def _decode_bytes(value: object, path: str) -> bytes:
    if not isinstance(value, list):
        _fail(path, bytes, value)
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 255:
            raise ProtocolError(f"{path}[{i}]", "a byte (an integer from 0 to 255)", render(item))
    return bytes(value)


def _decode_tagged(tp: Any, options: tuple[Any, ...], value: object, path: str) -> Any:
    tag, body = split_tagged(value, path, describe(tp))
    for cls in options:
        if variant_tag(cls) == tag:
            return decode_variant(cls, body, f"{path}.{tag}")
    raise ProtocolError(path, describe(tp), render(tag))


def decode_variant(cls: type, body: object, path: str) -> Any:
    """Decode the payload of variant `cls` (BARE when it came as a bare name) found at `path`."""
    shape = _shape(cls)
    if shape is Shape.UNIT:
        if body is not BARE:
            raise ProtocolError(
                path, f"no payload ({cls.__name__} is a unit variant)", render(body)
            )
        return cls()
    if body is BARE:
        if wire_spec(cls).accepts_bare:
            return cls()
        raise ProtocolError(path, f"a payload ({cls.__name__} is not a unit variant)", "none")
    if shape is Shape.NEWTYPE:
        (only,) = _fields(cls)
        return cls(**{only.name: decode_value(only.hint, body, path)})
    return decode_struct(cls, body, path)


def decode_struct(cls: type, value: object, path: str) -> Any:
    """A JSON object as dataclass `cls`: missing fields take defaults, unknown ones are ignored."""
    if not isinstance(value, dict):
        raise ProtocolError(path, "an object", render(value))
    kwargs: dict[str, Any] = {}
    for field in _fields(cls):
        where = f"{path}.{field.name}"
        if field.name in value:
            kwargs[field.name] = decode_value(field.hint, value[field.name], where)
        elif field.required:
            raise ProtocolError(where, describe(field.hint), "nothing (the field is missing)")
    return cls(**kwargs)


# -- encoding ----------------------------------------------------------------------------------


def encode_value(tp: Any, value: object) -> JsonValue:
    """Encode `value`, declared as the type form `tp`, as a JSON value."""
    members = _union_members(tp)
    if members is not None:
        if value is None:
            return None
        options = [m for m in members if m is not _NONE_TYPE]
        if len(options) > 1:
            return encode_variant(value)
        tp = options[0]
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, enum.Enum):
        wire: str = value.value
        return wire
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, tuple):
        item = typing.get_args(tp)[0]
        return [encode_value(item, v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode_struct(value)
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"no wire mapping for {value!r}")


def encode_struct(value: object) -> dict[str, JsonValue]:
    """A dataclass as a JSON object: its extras, then every field (None as null)."""
    cls: type = type(value)
    out: dict[str, JsonValue] = dict(wire_spec(cls).extras)
    for field in _fields(cls):
        out[field.name] = encode_value(field.hint, getattr(value, field.name))
    return out


def encode_variant(value: object) -> JsonValue:
    """A dataclass instance as the externally tagged variant it stands for."""
    cls: type = type(value)
    tag = variant_tag(cls)
    shape = _shape(cls)
    if shape is Shape.UNIT:
        return tag
    if shape is Shape.NEWTYPE:
        (only,) = _fields(cls)
        return {tag: encode_value(only.hint, getattr(value, only.name))}
    return {tag: encode_struct(value)}
