"""Frames that do not fit are ProtocolErrors that say where and what was expected."""

from __future__ import annotations

import json

import pytest

from protocol import Channel, ProtocolError, decode
from tests.protocol.frames import SESSION_ID, sharer_initialize


def _error(channel: Channel, text: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        decode(channel, text)
    return caught.value


def test_wrong_type_message_names_path_expectation_and_value() -> None:
    error = _error(Channel.VIEWER_DOWN, '{"JoinedSuccessfully":{"viewer_id":12}}')
    assert str(error) == "at $.JoinedSuccessfully.viewer_id: expected a string, got 12"
    assert error.path == "$.JoinedSuccessfully.viewer_id"
    assert error.expected == "a string"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("channel", "frame", "path", "expected"),
    [
        (
            Channel.VIEWER_DOWN,
            {"FailedToJoin": {"reason": "Bogus"}},
            "$.FailedToJoin.reason",
            "one of",
        ),
        (
            Channel.SHARER_DOWN,
            {"SessionTerminated": {"reason": {"StorageGone": {}}}},
            "$.SessionTerminated.reason",
            "one of",
        ),
        (
            Channel.SHARER_DOWN,
            {"FailedToInitializeSession": {"reason": "ScrollbackTooLarge"}},
            "$.FailedToInitializeSession.reason.ScrollbackTooLarge",
            "a payload",
        ),
        (
            Channel.VIEWER_DOWN,
            {"OrderedTerminalEvent": {"event_no": 1, "event_type": {"Telepathy": {}}}},
            "$.OrderedTerminalEvent.event_type",
            "one of",
        ),
        (
            Channel.SHARER_DOWN,
            {
                "SessionInitialized": {
                    "session_id": SESSION_ID,
                    "reconnect_token": "r",
                    "sharer_id": "p",
                }
            },
            "$.SessionInitialized.session_secret",
            "a string",
        ),
        (
            Channel.SHARER_UP,
            {
                "OrderedTerminalEvent": {
                    "event_no": True,
                    "event_type": "AgentConversationReplayEnded",
                }
            },
            "$.OrderedTerminalEvent.event_no",
            "an integer",
        ),
        (
            Channel.TASKS,
            {"GetRun": {"request_id": False, "task_id": "t"}},
            "$.GetRun.request_id",
            "an integer",
        ),
        (
            Channel.SHARER_DOWN,
            {"SessionReconnected": {"last_received_event_no": 1.5}},
            "$.SessionReconnected.last_received_event_no",
            "an integer from 0 to 18446744073709551615 or null",
        ),
        (
            Channel.SHARER_UP,
            sharer_initialize(lifetime=None),
            "$.Initialize.lifetime",
            'one of "Ephemeral", "Lingering"',
        ),
        (Channel.SHARER_UP, sharer_initialize(user_id=...), "$.Initialize.user_id", "an object"),
        (Channel.SHARER_UP, {"Ping": {"data": [1, 256]}}, "$.Ping.data[1]", "a byte"),
        (Channel.SHARER_UP, {"Ping": {"data": "AQI="}}, "$.Ping.data", "an array of bytes"),
        (Channel.VIEWER_UP, {"Initialize": []}, "$.Initialize", "an object"),
        (
            Channel.TASKS,
            {"RunsListed": {"request_id": 1, "runs": {}}},
            "$.RunsListed.runs",
            "an array",
        ),
    ],
    ids=lambda value: json.dumps(value)[:40] if isinstance(value, dict) else None,
)
def test_error_names_the_path_and_the_expectation(
    channel: Channel, frame: object, path: str, expected: str
) -> None:
    error = _error(channel, json.dumps(frame))
    assert error.path == path
    assert error.expected.startswith(expected)


def test_missing_field_says_so() -> None:
    error = _error(Channel.VIEWER_DOWN, '{"JoinedSuccessfully":{}}')
    assert str(error) == (
        "at $.JoinedSuccessfully.viewer_id: expected a string, got nothing (the field is missing)"
    )


@pytest.mark.parametrize(
    "text", ["{nope", "", '{"Ping":{"data":[]}} trailing', "NaN", '{"Ping":{"data":[Infinity]}}']
)
def test_invalid_json_is_an_error_at_the_root(text: str) -> None:
    error = _error(Channel.SHARER_UP, text)
    assert error.path == "$"
    assert error.expected == "valid JSON"


@pytest.mark.parametrize("text", ["[]", "12", "null", '{"Ping":{},"Pong":{}}', "{}"])
def test_a_frame_must_be_one_tagged_message(text: str) -> None:
    error = _error(Channel.SHARER_UP, text)
    assert error.path == "$"
    assert error.expected.startswith("a message")


def test_unknown_fields_are_ignored_at_every_level() -> None:
    frame = sharer_initialize(brand_new_field={"x": 1})
    frame["Initialize"]["user_id"]["also_new"] = True
    frame["Initialize"]["source_type"]["AmbientAgent"]["extra"] = [1]
    message = decode(Channel.SHARER_UP, json.dumps(frame))
    assert message.message_type == "Initialize"


def test_a_number_too_large_for_a_float_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="out of range"):
        decode(Channel.VIEWER_DOWN, '{"SomethingNew": 1e400}')
