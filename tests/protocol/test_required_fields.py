"""Fields the crate requires although the simulation has a value for them.

A field of the crate's types without `#[serde(default)]` that is not an
`Option` must be present, or serde refuses the whole frame; our encoder always
writes these fields, and our decoder refuses a frame without one.
"""

from __future__ import annotations

import json

import pytest

from protocol import Channel, Ping, Pong, ProtocolError, decode, encode
from tests.protocol.frames import (
    JsonObject,
    joined_successfully,
    session_initialized,
    session_reconnected,
    sharer_initialize,
)

JOINED = "$.JoinedSuccessfully"

MISSING = [
    (
        Channel.VIEWER_DOWN,
        joined_successfully(viewer_firebase_uid=...),
        f"{JOINED}.viewer_firebase_uid",
    ),
    (Channel.VIEWER_DOWN, joined_successfully(scrollback=...), f"{JOINED}.scrollback"),
    (Channel.VIEWER_DOWN, joined_successfully(participant_list=...), f"{JOINED}.participant_list"),
    (Channel.SHARER_UP, sharer_initialize(scrollback=...), "$.Initialize.scrollback"),
    (
        Channel.SHARER_DOWN,
        session_initialized(sharer_firebase_uid=...),
        "$.SessionInitialized.sharer_firebase_uid",
    ),
    (
        Channel.SHARER_DOWN,
        session_reconnected(participant_list=...),
        "$.SessionReconnected.participant_list",
    ),
    (Channel.SHARER_UP, {"Ping": {}}, "$.Ping.data"),
    (Channel.VIEWER_UP, {"Ping": {}}, "$.Ping.data"),
    (Channel.SHARER_DOWN, {"Pong": {}}, "$.Pong.data"),
    (Channel.VIEWER_DOWN, {"Pong": {}}, "$.Pong.data"),
    # A `String` field takes no null either.
    (
        Channel.VIEWER_DOWN,
        joined_successfully(viewer_firebase_uid=None),
        f"{JOINED}.viewer_firebase_uid",
    ),
    (
        Channel.SHARER_DOWN,
        session_initialized(sharer_firebase_uid=None),
        "$.SessionInitialized.sharer_firebase_uid",
    ),
]


def _case_id(value: object) -> str | None:
    return json.dumps(value)[:60] if isinstance(value, dict) else None


@pytest.mark.parametrize(("channel", "frame", "path"), MISSING, ids=_case_id)
def test_a_frame_without_a_required_field_is_an_error_at_that_field(
    channel: Channel, frame: JsonObject, path: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(channel, json.dumps(frame))
    assert caught.value.path == path


def test_a_missing_opaque_field_says_what_it_should_hold() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(Channel.VIEWER_DOWN, json.dumps(joined_successfully(scrollback=...)))
    assert str(caught.value) == (
        f"at {JOINED}.scrollback: expected an object, got nothing (the field is missing)"
    )


def test_the_real_frames_with_every_field_decode() -> None:
    for channel, frame in [
        (Channel.VIEWER_DOWN, joined_successfully()),
        (Channel.SHARER_UP, sharer_initialize()),
        (Channel.SHARER_DOWN, session_initialized()),
        (Channel.SHARER_DOWN, session_reconnected()),
    ]:
        assert decode(channel, json.dumps(frame)).message_type == next(iter(frame))


@pytest.mark.parametrize("heartbeat", [Ping(), Pong()], ids=["ping", "pong"])
def test_an_empty_heartbeat_still_carries_its_data(heartbeat: Ping | Pong) -> None:
    assert json.loads(encode(heartbeat)) == {heartbeat.message_type: {"data": []}}
