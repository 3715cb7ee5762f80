"""Hypothesis strategies for protocol messages, channel by channel."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import strategies as st

from protocol import Channel, RunRecord, UnknownMessage, decode, message_types

_finite = st.floats(allow_nan=False, allow_infinity=False)

_timestamps = {"created_at": _finite, "updated_at": _finite}

# JSON has no NaN or infinity, so the task server's timestamps must be finite; every other
# field is inferred from its annotation.
st.register_type_strategy(
    RunRecord,
    st.builds(
        RunRecord,
        **({f.name: ... for f in dataclasses.fields(RunRecord)} | _timestamps),
    ),
)

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
