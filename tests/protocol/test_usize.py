"""The crate's `usize` fields (event numbers, acks, window sizes) hold 0 to 2^64 - 1.

serde_json refuses a negative number, one past the range (it reads it as a
float), and `-0`, which it also reads as a float.
"""

from __future__ import annotations

import json
import math

import pytest

from protocol import (
    Channel,
    Execution,
    Message,
    OrderedTerminalEvent,
    ProtocolError,
    RunRecord,
    RunReply,
    RunState,
    SessionReconnected,
    WindowSize,
    decode,
    encode,
    events,
    sharer,
)
from tests.protocol.frames import (
    JsonObject,
    joined_successfully,
    session_initialized,
    session_reconnected,
)

U64_MAX = 2**64 - 1
EVENT_NO = "$.OrderedTerminalEvent.event_no"
WINDOW = "$.OrderedTerminalEvent.event_type.Resize.window_size"
ACK = "$.EventsProcessedAck.latest_processed_event_no"


def _event(event_no: object) -> JsonObject:
    return {
        "OrderedTerminalEvent": {"event_no": event_no, "event_type": "AgentConversationReplayEnded"}
    }


def _resize(num_rows: object, num_cols: object) -> JsonObject:
    window_size = {"num_rows": num_rows, "num_cols": num_cols}
    return {
        "OrderedTerminalEvent": {
            "event_no": 3,
            "event_type": {"Resize": {"window_size": window_size}},
        }
    }


def _ack(number: object) -> JsonObject:
    return {"EventsProcessedAck": {"latest_processed_event_no": number}}


def _viewer_rejoin(last_received_event_no: object) -> JsonObject:
    user = {"anonymous_id": "anon-2", "firebase_id_token": None}
    body = {
        "viewer_id": "viewer-7",
        "user_id": user,
        "last_received_event_no": last_received_event_no,
    }
    return {"Initialize": body}


OUT_OF_RANGE = [
    (Channel.SHARER_UP, _event(-1), EVENT_NO),
    (Channel.VIEWER_DOWN, _event(2**64), EVENT_NO),
    (Channel.VIEWER_DOWN, _event(2**70), EVENT_NO),
    (Channel.VIEWER_DOWN, _event(1e2), EVENT_NO),
    (Channel.SHARER_DOWN, _ack(-1), ACK),
    (Channel.SHARER_DOWN, _ack(2**64), ACK),
    (Channel.SHARER_UP, _resize(-1, 80), f"{WINDOW}.num_rows"),
    (Channel.VIEWER_DOWN, _resize(2**64, 80), f"{WINDOW}.num_rows"),
    (Channel.VIEWER_DOWN, _resize(24, -80), f"{WINDOW}.num_cols"),
    (
        Channel.SHARER_DOWN,
        session_reconnected(last_received_event_no=-1),
        "$.SessionReconnected.last_received_event_no",
    ),
    (
        Channel.VIEWER_DOWN,
        joined_successfully(latest_event_no=2**64),
        "$.JoinedSuccessfully.latest_event_no",
    ),
    (Channel.VIEWER_UP, _viewer_rejoin(-5), "$.Initialize.last_received_event_no"),
]


def _case_id(value: object) -> str | None:
    return json.dumps(value)[:60] if isinstance(value, dict) else None


@pytest.mark.parametrize(("channel", "frame", "path"), OUT_OF_RANGE, ids=_case_id)
def test_a_number_outside_the_range_is_an_error_at_its_field(
    channel: Channel, frame: JsonObject, path: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(channel, json.dumps(frame))
    assert caught.value.path == path


def test_the_error_says_what_range_fits() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(Channel.SHARER_DOWN, json.dumps(_ack(-1)))
    assert str(caught.value) == f"at {ACK}: expected an integer from 0 to {U64_MAX}, got -1"


IN_RANGE = [
    (
        Channel.SHARER_UP,
        _event(U64_MAX),
        OrderedTerminalEvent(U64_MAX, events.AgentConversationReplayEnded()),
    ),
    (Channel.SHARER_DOWN, _ack(0), sharer.EventsProcessedAck(0)),
    (Channel.SHARER_DOWN, _ack(U64_MAX), sharer.EventsProcessedAck(U64_MAX)),
    (
        Channel.VIEWER_DOWN,
        _resize(0, U64_MAX),
        OrderedTerminalEvent(3, events.Resize(WindowSize(0, U64_MAX))),
    ),
    (
        Channel.SHARER_DOWN,
        session_reconnected(last_received_event_no=U64_MAX),
        SessionReconnected(U64_MAX),
    ),
]


@pytest.mark.parametrize(("channel", "frame", "expected"), IN_RANGE, ids=_case_id)
def test_the_ends_of_the_range_decode(
    channel: Channel, frame: JsonObject, expected: Message
) -> None:
    assert decode(channel, json.dumps(frame)) == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"OrderedTerminalEvent":{"event_no":-0,"event_type":"AgentConversationReplayEnded"}}',
        '{"OrderedTerminalEvent":{"event_no": -0 ,"event_type":"AgentConversationReplayEnded"}}',
        '{"OrderedTerminalEvent":{"event_type":"AgentConversationReplayEnded","event_no":-0}}',
    ],
)
def test_negative_zero_is_a_float_to_serde_json_and_no_event_number(text: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(Channel.VIEWER_DOWN, text)
    assert caught.value.path == EVENT_NO


def test_negative_zero_inside_text_is_left_alone() -> None:
    frame = session_initialized(sharer_id="sharer-0", sharer_firebase_uid="-0")
    message = decode(Channel.SHARER_DOWN, json.dumps(frame))
    assert isinstance(message, sharer.SessionInitialized)
    assert (message.sharer_id, message.sharer_firebase_uid) == ("sharer-0", "-0")


def test_negative_zero_still_fills_a_float_field() -> None:
    frame = encode(RunReply(1, RunRecord("t-1", "Plan", RunState.QUEUED, Execution.LOCAL)))
    message = decode(Channel.TASKS, frame.replace('"created_at":0.0', '"created_at":-0'))
    assert isinstance(message, RunReply)
    assert math.copysign(1.0, message.run.created_at) == -1.0
