"""Mapping between frozen dataclasses and the JSON shapes serde gives their Rust twins.

A dataclass's annotations are its schema: this module reads them once and
does all the field-by-field work, so that no message needs codec code of its
own and every decode error names the JSON path where it happened.

Serde conventions followed: enums are externally tagged (a unit variant is a
bare string, a struct variant a single-key object around its fields, a
newtype variant a single-key object around its one value); a unit variant
may also come as a single-key object around null, as serde_json reads it;
every field is emitted, `None` as null; unknown fields are ignored; a missing
field takes its default or is an error; bytes travel as arrays of integers.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeAlias, TypeVar

from ._refined import Refinement
from .errors import ProtocolError
from .secrets import Secret

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

_NONE_TYPE = type(None)
T = TypeVar("T")


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
    these constants; when decoding, only their presence is checked (see `required`)."""
    required: frozenset[str] = frozenset()
    """Fields and extras the crate requires although the simulation has a value
    for them: encoding always writes them, and a frame without one is refused."""
    accepts_bare: bool = False
    """A STRUCT variant that also decodes from its bare name or from null (its legacy
    unit form)."""


_PLAIN = WireSpec()


def per_class(build: Callable[[type], T]) -> Callable[[type], T]:
    """`build(cls)`, computed once per class (`functools.cache` does not type-check on classes)."""
    memo: dict[type, T] = {}

    def once(cls: type) -> T:
        try:
            return memo[cls]
        except KeyError:
            memo[cls] = value = build(cls)
            return value

    return once


def wire_spec(cls: type) -> WireSpec:
    """The class's own wire details, or the defaults when it declares none."""
    spec = getattr(cls, "wire", _PLAIN)
    assert isinstance(spec, WireSpec), f"{cls.__name__}.wire must be a WireSpec"
    return spec


def variant_tag(cls: type) -> str:
    """The name a variant goes by on the wire (the class name unless renamed)."""
    return wire_spec(cls).tag or cls.__name__


@per_class
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


@per_class
def _fields(cls: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    required = wire_spec(cls).required
    return tuple(
        _Field(
            f.name,
            hints[f.name],
            f.name in required
            or (f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING),
        )
        for f in dataclasses.fields(cls)
    )


@per_class
def _required_extras(cls: type) -> tuple[tuple[str, str], ...]:
    """(name, what it holds) of each extra a frame must carry."""
    spec = wire_spec(cls)
    field_names = {f.name for f in dataclasses.fields(cls)}
    unknown = spec.required - field_names - spec.extras.keys()
    assert not unknown, f"{cls.__name__}.wire requires unknown fields {sorted(unknown)}"
    return tuple(
        (name, _describe_json(spec.extras[name]))
        for name in spec.extras
        if name in spec.required and name not in field_names
    )


def _refinement(tp: Any) -> tuple[Any, Refinement] | None:
    """The base type and the rule of an `Annotated` wire type, or None for any other type."""
    if typing.get_origin(tp) is not typing.Annotated:
        return None
    base, *metadata = typing.get_args(tp)
    rules = [m for m in metadata if isinstance(m, Refinement)]
    assert len(rules) == 1, f"{tp!r} needs exactly one Refinement"
    return base, rules[0]


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
    refined = _refinement(tp)
    if refined is not None:
        return refined[1].description
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


def _describe_json(value: JsonValue) -> str:
    """What a JSON value of the same kind as `value` is called in an error."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return describe(type(value))


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


def _finite_float(text: str) -> float:
    """Numbers too large for a float (`1e400`) become inf, which JSON cannot carry back."""
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"number {text} is out of range")
    return number


def _signed_int(text: str) -> int | float:
    """serde_json reads the integer `-0` as the float -0.0, so no integer field takes it."""
    return -0.0 if text == "-0" else int(text)


# Built once: `json.loads` and `json.dumps` build a new one per call when given options.
_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
_JSON_DECODER_SIGNED_ZERO = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_signed_int
)
"""The same but minding `-0`; used only on text that contains "-0" (often inside a string),
as its Python call per integer makes it slower."""
_JSON_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False)


def loads(text: str) -> JsonValue:
    """Parse one frame; anything that is not strict JSON is a ProtocolError at `$`."""
    try:
        if text.startswith("\ufeff"):
            json.loads(text)  # raises the same error `json.loads` gives a byte-order mark
        decoder = _JSON_DECODER_SIGNED_ZERO if "-0" in text else _JSON_DECODER
        value: JsonValue = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError("$", "valid JSON", f"{exc.msg} at column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("$", "valid JSON", str(exc) or type(exc).__name__) from None
    return value


def dumps(value: JsonValue) -> str:
    """Canonical text: compact, sorted keys, ASCII only (safe in line-oriented traces)."""
    return _JSON_ENCODER.encode(value)


# -- decoding ----------------------------------------------------------------------------------
#
# Each type form is turned once into a decoding function (`_decoder`), so decoding a
# frame walks precomputed plans instead of reflecting on annotations every time.

Decoder: TypeAlias = Callable[[object, str], Any]
Encoder: TypeAlias = Callable[[Any], JsonValue]


class _Bare(enum.Enum):
    """Marks a variant that arrived as a bare string, i.e. with no payload at all."""

    BARE = enum.auto()


BARE = _Bare.BARE
_ABSENT = object()


def split_tagged(value: object, path: str, expected: str) -> tuple[str, object]:
    """Split an externally tagged value into its tag and its payload (BARE for a bare name)."""
    if isinstance(value, str):
        return value, BARE
    if isinstance(value, dict) and len(value) == 1:
        ((tag, body),) = value.items()
        return tag, body
    raise ProtocolError(path, expected, render(value))


@functools.cache
def _decoder(tp: Any) -> Decoder:
    members = _union_members(tp)
    if members is None:
        return _plain_decoder(tp, tp)
    options = tuple(m for m in members if m is not _NONE_TYPE)
    inner = _tagged_decoder(tp, options) if len(options) > 1 else _plain_decoder(options[0], tp)
    if len(options) == len(members):
        return inner

    def nullable(value: object, path: str) -> Any:
        return None if value is None else inner(value, path)

    return nullable


def _plain_decoder(tp: Any, shown: Any) -> Decoder:
    """The decoder of a type that is not a union; errors describe it as `shown`."""
    refined = _refinement(tp)
    if refined is not None:
        return _refined_decoder(*refined, shown)
    if tp is bool:
        return lambda value, path: value if isinstance(value, bool) else _fail(path, shown, value)
    if tp is int:
        return lambda value, path: (
            value
            if isinstance(value, int) and not isinstance(value, bool)
            else _fail(path, shown, value)
        )
    if tp is float:
        return lambda value, path: (
            float(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else _fail(path, shown, value)
        )
    if tp is str:
        return lambda value, path: value if isinstance(value, str) else _fail(path, shown, value)
    if tp is bytes:
        return _decode_bytes
    if typing.get_origin(tp) is tuple:
        return _tuple_decoder(typing.get_args(tp)[0], shown)
    if isinstance(tp, type) and issubclass(tp, Secret):
        secret = tp
        return lambda value, path: (
            secret(value) if isinstance(value, str) else _fail(path, shown, value)
        )
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_decoder(tp, shown)
    if _is_dataclass_type(tp):
        cls: type = tp
        return lambda value, path: decode_struct(cls, value, path)

    def unmapped(value: object, path: str) -> NoReturn:
        raise TypeError(f"no wire mapping for {tp!r}")

    return unmapped


def _refined_decoder(base: Any, rule: Refinement, shown: Any) -> Decoder:
    decode_base = _plain_decoder(base, shown)
    refine = rule.refine

    def decode_refined(value: object, path: str) -> Any:
        try:
            return refine(decode_base(value, path))
        except ValueError:
            _fail(path, shown, value)

    return decode_refined


def _tuple_decoder(item_type: Any, shown: Any) -> Decoder:
    def decode_tuple(value: object, path: str) -> tuple[Any, ...]:
        if not isinstance(value, list):
            _fail(path, shown, value)
        item = _decoder(item_type)
        return tuple(item(v, f"{path}[{i}]") for i, v in enumerate(value))

    return decode_tuple


def _enum_decoder(tp: type[enum.Enum], shown: Any) -> Decoder:
    """Members are unit variants: a bare name, or a single-key object around null."""
    by_value = {member.value: member for member in tp}

    def decode_enum(value: object, path: str) -> enum.Enum:
        name = value
        if isinstance(value, dict) and len(value) == 1:
            ((name, body),) = value.items()
            if body is not None:
                _fail(path, shown, value)
        member = by_value.get(name) if isinstance(name, str) else None
        return member if member is not None else _fail(path, shown, value)

    return decode_enum


def _tagged_decoder(tp: Any, options: tuple[Any, ...]) -> Decoder:
    by_tag: dict[str, type] = {}
    for cls in options:
        by_tag.setdefault(variant_tag(cls), cls)

    def decode_tagged(value: object, path: str) -> Any:
        if isinstance(value, str):
            tag, body = value, BARE
        elif isinstance(value, dict) and len(value) == 1:
            ((tag, body),) = value.items()
        else:
            raise ProtocolError(path, describe(tp), render(value))
        cls = by_tag.get(tag)
        if cls is None:
            raise ProtocolError(path, describe(tp), render(tag))
        return decode_variant(cls, body, f"{path}.{tag}")

    return decode_tagged


def _decode_bytes(value: object, path: str) -> bytes:
    if not isinstance(value, list):
        _fail(path, bytes, value)
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 255:
            raise ProtocolError(f"{path}[{i}]", "a byte (an integer from 0 to 255)", render(item))
    return bytes(value)


def decode_variant(cls: type, body: object, path: str) -> Any:
    """Decode the payload of variant `cls` (BARE when it came as a bare name) found at `path`."""
    shape = _shape(cls)
    if shape is Shape.UNIT:
        if body is not BARE and body is not None:
            raise ProtocolError(
                path, f"no payload or null ({cls.__name__} is a unit variant)", render(body)
            )
        return cls()
    if wire_spec(cls).accepts_bare and (body is BARE or body is None):
        return cls()
    if body is BARE:
        raise ProtocolError(path, f"a payload ({cls.__name__} is not a unit variant)", "none")
    if shape is Shape.NEWTYPE:
        name, decode, _, _ = _decode_plan(cls)[0]
        return cls(**{name: decode(body, path)})
    return decode_struct(cls, body, path)


@per_class
def _decode_plan(cls: type) -> tuple[tuple[str, Decoder, bool, Any], ...]:
    """(name, decoder, required, hint) per field; built on first use, so types may nest."""
    return tuple((f.name, _decoder(f.hint), f.required, f.hint) for f in _fields(cls))


def decode_struct(cls: type, value: object, path: str) -> Any:
    """A JSON object as dataclass `cls`: missing fields take defaults, unknown ones are ignored."""
    if not isinstance(value, dict):
        raise ProtocolError(path, "an object", render(value))
    kwargs: dict[str, Any] = {}
    for name, decode, required, hint in _decode_plan(cls):
        raw = value.get(name, _ABSENT)
        if raw is not _ABSENT:
            kwargs[name] = decode(raw, f"{path}.{name}")
        elif required:
            raise ProtocolError(f"{path}.{name}", describe(hint), _MISSING)
    for name, holds in _required_extras(cls):
        if name not in value:
            raise ProtocolError(f"{path}.{name}", holds, _MISSING)
    return cls(**kwargs)


_MISSING = "nothing (the field is missing)"


# -- encoding ----------------------------------------------------------------------------------


def encode_value(tp: Any, value: object) -> JsonValue:
    """Encode `value`, declared as the type form `tp`, as a JSON value."""
    return _encoder(tp)(value)


@functools.cache
def _encoder(tp: Any) -> Encoder:
    """How a value declared as `tp` is encoded; a type it cannot tell goes by the value's own."""
    members = _union_members(tp)
    if members is not None:
        options = [m for m in members if m is not _NONE_TYPE]
        inner = encode_variant if len(options) > 1 else _encoder(options[0])
        return lambda value: None if value is None else inner(value)
    if tp in (str, int, float, bool):
        return _same
    refined = _refinement(tp)
    if refined is not None:
        return _encoder(refined[0])
    if isinstance(tp, type) and issubclass(tp, Secret):
        return _reveal
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_value
    if tp is bytes:
        return list
    if typing.get_origin(tp) is tuple:
        item = typing.get_args(tp)[0]
        return lambda value: [encode_value(item, v) for v in value]
    if _is_dataclass_type(tp):
        return encode_struct
    return lambda value: _encode_by_value(tp, value)


def _same(value: JsonValue) -> JsonValue:
    return value


def _reveal(value: Secret) -> str:
    return value.reveal()


def _enum_value(value: enum.Enum) -> str:
    wire: str = value.value
    return wire


def _encode_by_value(tp: Any, value: object) -> JsonValue:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, enum.Enum):
        return _enum_value(value)
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


@per_class
def _encode_plan(cls: type) -> tuple[Mapping[str, JsonValue], tuple[tuple[str, Encoder], ...]]:
    return wire_spec(cls).extras, tuple((f.name, _encoder(f.hint)) for f in _fields(cls))


def encode_struct(value: object) -> dict[str, JsonValue]:
    """A dataclass as a JSON object: its extras, then every field (None as null)."""
    extras, plan = _encode_plan(type(value))
    out: dict[str, JsonValue] = dict(extras)
    for name, encode in plan:
        out[name] = encode(getattr(value, name))
    return out


def encode_variant(value: object) -> JsonValue:
    """A dataclass instance as the externally tagged variant it stands for."""
    cls: type = type(value)
    tag = variant_tag(cls)
    shape = _shape(cls)
    if shape is Shape.UNIT:
        return tag
    if shape is Shape.NEWTYPE:
        _, plan = _encode_plan(cls)
        ((name, encode),) = plan
        return {tag: encode(getattr(value, name))}
    return {tag: encode_struct(value)}
