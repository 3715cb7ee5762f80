"""Hypothesis strategies for protocol messages, channel by channel."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any

from hypothesis import strategies as st

from protocol import Channel, RunRecord, UnknownMessage, decode, message_types
from protocol._refined import Unsigned, UuidText

_finite = st.floats(allow_nan=False, allow_infinity=False)

_timestamps = {"created_at": _finite, "started_at": st.none() | _finite, "updated_at": _finite}

# JSON has no NaN or infinity, so the task server's timestamps must be finite; every other
# field is inferred from its annotation.
st.register_type_strategy(
    RunRecord,
    st.builds(
        RunRecord,
        **({f.name: ... for f in dataclasses.fields(RunRecord)} | _timestamps),
    ),
)


def _refined(hint: Any) -> st.SearchStrategy[Any] | None:
    """Values that fit a refined wire type (hypothesis would draw from its base type), or None."""
    if typing.get_origin(hint) is typing.Annotated:
        for rule in typing.get_args(hint)[1:]:
            if isinstance(rule, Unsigned):
                return st.integers(0, rule.maximum)
            if isinstance(rule, UuidText):
                return st.uuids().map(str)
    is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    members = typing.get_args(hint) if is_union else ()
    options = [(_refined(member), member) for member in members]
    if all(strategy is None for strategy, _ in options):
        return None
    return st.one_of([st.from_type(m) if s is None else s for s, m in options])


def _dataclasses_in(hint: Any, found: dict[type, bool]) -> None:
    """Every dataclass a value of type `hint` may hold, `hint` itself included.

    Classes are added after the ones they hold, so registering them in order
    never lets a strategy resolve a field before its own class is registered.
    """
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if hint not in found:
            found[hint] = False
            for inner in typing.get_type_hints(hint, include_extras=True).values():
                _dataclasses_in(inner, found)
            del found[hint]
            found[hint] = True
    else:
        for arg in typing.get_args(hint):
            _dataclasses_in(arg, found)


def _register_refined_fields() -> None:
    """Teach hypothesis the ranges of refined fields in every message (`usize`, `Uuid`)."""
    found: dict[type, bool] = {}
    for channel in Channel:
        for cls in message_types(channel):
            _dataclasses_in(cls, found)
    held: type
    for held in found:
        hints = typing.get_type_hints(held, include_extras=True)
        refined = {name: s for name, hint in hints.items() if (s := _refined(hint)) is not None}
        if refined:
            inferred = {f.name: ... for f in dataclasses.fields(held)}
            finite = _timestamps if held is RunRecord else {}
            st.register_type_strategy(held, st.builds(held, **(inferred | refined | finite)))


_register_refined_fields()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _finite | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def unknown_messages(channel: Channel) -> st.SearchStrategy[UnknownMessage]:
    """Frames from a newer peer: a tag this channel does not know, with any payload."""
    known = {cls.message_type for cls in message_types(channel)}
    tags = st.text(min_size=1).filter(lambda tag: tag not in known)
    frames = st.one_of(
        tags.map(json.dumps),
        st.builds(lambda tag, body: json.dumps({tag: body}), tags, json_values),
    )
    return frames.map(lambda text: _as_unknown(channel, text))


def _as_unknown(channel: Channel, text: str) -> UnknownMessage:
    message = decode(channel, text)
    assert isinstance(message, UnknownMessage)
    return message
