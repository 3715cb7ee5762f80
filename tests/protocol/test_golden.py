"""Frames as the real crate writes them decode as expected, and ours carry what it requires."""

from __future__ import annotations

import json

import pytest

from protocol import (
    AmbientAgent,
    Channel,
    FeatureSupport,
    InitPayload,
    JoinedSuccessfully,
    LegacySessionSourceType,
    Lifetime,
    OrderedTerminalEvent,
    Ping,
    Role,
    SessionReconnected,
    UserId,
    decode,
    encode,
    events,
    sharer,
    viewer,
)
from tests.protocol.frames import joined_successfully, sharer_initialize


def test_a_current_sharer_initialize_decodes() -> None:
    message = decode(Channel.SHARER_UP, json.dumps(sharer_initialize()))
    assert message == sharer.Initialize(
        InitPayload(
            user_id=UserId("anon-1", None),
            lifetime=Lifetime.EPHEMERAL,
            source_type=AmbientAgent("T1"),
            source_task_id="T1",
            feature_support=FeatureSupport(
                supports_agent_view=True, supports_full_role_for_real=True
            ),
        )
    )


def test_an_old_sharer_initialize_takes_defaults() -> None:
    frame = sharer_initialize(
        lifetime=..., source_type=..., source_task_id=..., feature_support=...
    )
    message = decode(Channel.SHARER_UP, json.dumps(frame))
    assert message == sharer.Initialize(InitPayload(user_id=UserId("anon-1")))


#: Fields the simulation adds to the real sharer Initialize (a real server ignores them).
SIMULATION_ADDITIONS = {"link_role"}


def test_our_initialize_has_exactly_the_fields_of_the_real_one() -> None:
    ours = json.loads(encode(sharer.Initialize(InitPayload(UserId("anon-1")))))
    real = sharer_initialize()["Initialize"].keys()
    assert ours["Initialize"].keys() == real | SIMULATION_ADDITIONS


def test_firebase_token_travels_under_its_wire_name() -> None:
    ours = json.loads(encode(sharer.Initialize(InitPayload(UserId("anon-1", "tok")))))
    assert ours["Initialize"]["user_id"] == {"anonymous_id": "anon-1", "firebase_id_token": "tok"}


def test_a_real_joined_successfully_decodes_and_its_extra_fields_are_ignored() -> None:
    message = decode(Channel.VIEWER_DOWN, json.dumps(joined_successfully()))
    assert message == JoinedSuccessfully(
        viewer_id="viewer-7",
        viewer_firebase_uid="uid-viewer",
        source_type=LegacySessionSourceType.AMBIENT_AGENT,
        detailed_source_type=AmbientAgent("T1"),
        source_task_id="T1",
        latest_event_no=41,
        role=Role.READER,
    )


def test_our_joined_successfully_has_the_real_fields_plus_role_and_rejoin_token() -> None:
    ours = json.loads(encode(JoinedSuccessfully(viewer_id="v")))["JoinedSuccessfully"]
    additions = {"role", "rejoin_token"}
    assert ours.keys() == joined_successfully()["JoinedSuccessfully"].keys() | additions


def test_our_rejoin_carries_a_participant_list_and_no_source_fields() -> None:
    ours = json.loads(encode(viewer.RejoinedSuccessfully()))
    assert list(ours) == ["RejoinedSuccessfully"]
    assert ours["RejoinedSuccessfully"].keys() == {"participant_list"}


def test_a_real_session_reconnected_decodes() -> None:
    participant_list = joined_successfully()["JoinedSuccessfully"]["participant_list"]
    frame = {
        "SessionReconnected": {"last_received_event_no": 12, "participant_list": participant_list}
    }
    assert decode(Channel.SHARER_DOWN, json.dumps(frame)) == SessionReconnected(12)


def test_a_real_viewer_rejoin_decodes() -> None:
    frame = {
        "Initialize": {
            "viewer_id": "viewer-7",
            "user_id": {"anonymous_id": "anon-2", "firebase_id_token": "tok"},
            "last_received_event_no": 41,
            "latest_block_id": "block-9",
            "telemetry_context": {"anything": ["opaque"]},
            "feature_support": {
                "supports_agent_view": True,
                "supports_full_role": True,
                "supports_full_role_for_real": False,
            },
        }
    }
    message = decode(Channel.VIEWER_UP, json.dumps(frame))
    assert isinstance(message, viewer.Initialize)
    assert message.payload.viewer_id == "viewer-7"
    assert message.payload.last_received_event_no == 41
    assert message.payload.latest_block_id == "block-9"
    assert message.payload.feature_support.supports_full_role_for_real is False


@pytest.mark.parametrize(
    ("channel", "frame", "expected"),
    [
        (
            Channel.SHARER_UP,
            {
                "OrderedTerminalEvent": {
                    "event_no": 7,
                    "event_type": {"PtyBytesRead": {"bytes": [104, 105]}},
                }
            },
            OrderedTerminalEvent(7, events.PtyBytesRead(b"hi")),
        ),
        (
            Channel.VIEWER_DOWN,
            {"OrderedTerminalEvent": {"event_no": 8, "event_type": "AgentConversationReplayEnded"}},
            OrderedTerminalEvent(8, events.AgentConversationReplayEnded()),
        ),
        (
            Channel.VIEWER_DOWN,
            {"OrderedTerminalEvent": {"event_no": 9, "event_type": "AmbientSetupPhaseEnded"}},
            OrderedTerminalEvent(9, events.AmbientSetupPhaseEnded()),
        ),
        (
            Channel.VIEWER_DOWN,
            {"OrderedTerminalEvent": {"event_no": 9, "event_type": "CloudModeSetupPhaseEnded"}},
            OrderedTerminalEvent(9, events.CloudModeSetupPhaseEnded()),
        ),
        (
            Channel.VIEWER_DOWN,
            {
                "OrderedTerminalEvent": {
                    "event_no": 10,
                    "event_type": {
                        "CommandExecutionStarted": {
                            "participant_id": "sharer-1",
                            "ai_metadata": {"tool_call_id": "call-1"},
                        }
                    },
                }
            },
            OrderedTerminalEvent(
                10, events.CommandExecutionStarted("sharer-1", events.AiCommandMetadata("call-1"))
            ),
        ),
        (
            Channel.VIEWER_DOWN,
            {
                "OrderedTerminalEvent": {
                    "event_no": 11,
                    "event_type": {"AgentResponseEvent": {"response_event": "CgNhYmM="}},
                }
            },
            OrderedTerminalEvent(11, events.AgentResponseEvent("CgNhYmM=")),
        ),
        (
            Channel.SHARER_UP,
            {"EndSession": {"reason": "InactivityLimitReached"}},
            sharer.EndSession(sharer.SharerEndReason.INACTIVITY_LIMIT_REACHED),
        ),
        (Channel.VIEWER_UP, {"Ping": {"data": [1, 2]}}, Ping(b"\x01\x02")),
        (
            Channel.SHARER_DOWN,
            {
                "FailedToInitializeSession": {
                    "reason": {"NoUserQuotaRemaining": {"quota_type": "BytesUsed"}}
                }
            },
            sharer.FailedToInitializeSession(
                sharer.NoUserQuotaRemaining(sharer.QuotaType.BYTES_USED)
            ),
        ),
        (
            Channel.SHARER_DOWN,
            {"FailedToInitializeSession": {"reason": "UserNotFound"}},
            sharer.FailedToInitializeSession(sharer.UserNotFound()),
        ),
        (
            Channel.SHARER_DOWN,
            {"SessionTerminated": {"reason": {"InternalServerError": {"details": "boom"}}}},
            sharer.SessionTerminated(sharer.InternalServerError("boom")),
        ),
        (
            Channel.SHARER_DOWN,
            {"FailedToReconnect": {"reason": "WrongReconnectionToken"}},
            sharer.FailedToReconnect(sharer.ReconnectFailureReason.WRONG_RECONNECTION_TOKEN),
        ),
        (
            Channel.SHARER_DOWN,
            {"EventsProcessedAck": {"latest_processed_event_no": 40}},
            sharer.EventsProcessedAck(40),
        ),
        (
            Channel.VIEWER_DOWN,
            {"FailedToJoin": {"reason": "MaxNumberOfParticipantsReached"}},
            viewer.FailedToJoin(viewer.JoinFailureReason.MAX_NUMBER_OF_PARTICIPANTS_REACHED),
        ),
        (
            Channel.VIEWER_DOWN,
            {"SessionEnded": {"reason": "EndedBySharer"}},
            viewer.SessionEnded(viewer.SessionEndedReason.ENDED_BY_SHARER),
        ),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else None,
)
def test_real_frames_decode_and_re_encode_to_the_same_value(
    channel: Channel, frame: dict[str, object], expected: object
) -> None:
    message = decode(channel, json.dumps(frame))
    assert message == expected
    reencoded = json.loads(encode(message))
    assert _without_defaults(reencoded) == _without_defaults(frame)


def _without_defaults(value: object) -> object:
    """Drop null and false values, which the crate also emits for defaulted fields."""
    if isinstance(value, dict):
        return {
            k: _without_defaults(v) for k, v in value.items() if v is not None and v is not False
        }
    return value


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        (
            sharer.FailedToInitializeSession(sharer.ScrollbackTooLarge()),
            {"FailedToInitializeSession": {"reason": {"ScrollbackTooLarge": {}}}},
        ),
        (
            sharer.SessionTerminated(sharer.QuotaExhausted()),
            {"SessionTerminated": {"reason": {"NoUserQuotaRemaining": {}}}},
        ),
        (
            sharer.SessionTerminated(sharer.ExceededSizeLimit()),
            {"SessionTerminated": {"reason": "ExceededSizeLimit"}},
        ),
    ],
    ids=["scrollback-too-large", "terminated-no-quota", "terminated-size"],
)
def test_empty_struct_variants_keep_their_braces(message: object, wire: object) -> None:
    assert isinstance(message, sharer.FailedToInitializeSession | sharer.SessionTerminated)
    assert json.loads(encode(message)) == wire
    assert decode(Channel.SHARER_DOWN, json.dumps(wire)) == message


def test_bytes_travel_as_integer_arrays() -> None:
    text = encode(OrderedTerminalEvent(1, events.PtyBytesRead(b"\x00\xff")))
    assert json.loads(text)["OrderedTerminalEvent"]["event_type"] == {
        "PtyBytesRead": {"bytes": [0, 255]}
    }


def test_encoding_is_compact_and_key_sorted() -> None:
    assert (
        encode(sharer.EventsProcessedAck(3))
        == '{"EventsProcessedAck":{"latest_processed_event_no":3}}'
    )
    assert encode(SessionReconnected(None)).startswith(
        '{"SessionReconnected":{"last_received_event_no":null,"participant_list":'
    )
