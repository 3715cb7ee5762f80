"""serde_json reads a unit variant from `{"Tag": null}` as well as from `"Tag"`.

A struct variant, even one with no fields or only defaulted ones, needs an
object; `SessionSourceType`'s legacy unit forms take null like any unit variant.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from protocol import (
    AmbientAgent,
    Channel,
    FeatureSupport,
    InitPayload,
    JoinedSuccessfully,
    LegacySessionSourceType,
    Message,
    OrderedTerminalEvent,
    ProtocolError,
    User,
    UserId,
    decode,
    events,
    sharer,
    viewer,
)
from tests.protocol.frames import JsonObject, joined_successfully, sharer_initialize


def _initialize(**changes: Any) -> sharer.Initialize:
    """The decoded `sharer_initialize()` frame, with `changes` applied to its payload."""
    payload = InitPayload(
        user_id=UserId("anon-1"),
        source_type=AmbientAgent("T1"),
        source_task_id="T1",
        feature_support=FeatureSupport(supports_agent_view=True, supports_full_role_for_real=True),
    )
    return sharer.Initialize(dataclasses.replace(payload, **changes))


def _joined(**changes: Any) -> JoinedSuccessfully:
    """The decoded `joined_successfully()` frame, with `changes` applied."""
    joined = JoinedSuccessfully(
        viewer_id="viewer-7",
        viewer_firebase_uid="uid-viewer",
        source_type=LegacySessionSourceType.AMBIENT_AGENT,
        detailed_source_type=AmbientAgent("T1"),
        source_task_id="T1",
        latest_event_no=41,
    )
    return dataclasses.replace(joined, **changes)


ACCEPTED = [
    (
        Channel.SHARER_UP,
        sharer_initialize(source_type={"AmbientAgent": None}),
        _initialize(source_type=AmbientAgent(None)),
    ),
    (
        Channel.SHARER_UP,
        sharer_initialize(source_type={"User": None}),
        _initialize(source_type=User()),
    ),
    (
        Channel.VIEWER_DOWN,
        joined_successfully(detailed_source_type={"AmbientAgent": None}),
        _joined(detailed_source_type=AmbientAgent(None)),
    ),
    (
        Channel.VIEWER_DOWN,
        joined_successfully(source_type={"User": None}, detailed_source_type={"User": None}),
        _joined(source_type=LegacySessionSourceType.USER, detailed_source_type=User()),
    ),
    (
        Channel.VIEWER_DOWN,
        joined_successfully(source_type={"AmbientAgent": None}),
        _joined(),
    ),
    (
        Channel.SHARER_DOWN,
        {"FailedToInitializeSession": {"reason": {"UserNotFound": None}}},
        sharer.FailedToInitializeSession(sharer.UserNotFound()),
    ),
    (
        Channel.SHARER_DOWN,
        {"SessionTerminated": {"reason": {"ExceededSizeLimit": None}}},
        sharer.SessionTerminated(sharer.ExceededSizeLimit()),
    ),
    (
        Channel.VIEWER_DOWN,
        {"FailedToJoin": {"reason": {"SessionNotFound": None}}},
        viewer.FailedToJoin(viewer.JoinFailureReason.SESSION_NOT_FOUND),
    ),
    (
        Channel.SHARER_UP,
        {"EndSession": {"reason": {"EndedBySharer": None}}},
        sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER),
    ),
    (
        Channel.VIEWER_DOWN,
        {
            "OrderedTerminalEvent": {
                "event_no": 5,
                "event_type": {"AgentConversationReplayEnded": None},
            }
        },
        OrderedTerminalEvent(5, events.AgentConversationReplayEnded()),
    ),
]


def _case_id(value: object) -> str | None:
    return json.dumps(value)[:60] if isinstance(value, dict) else None


@pytest.mark.parametrize(("channel", "frame", "expected"), ACCEPTED, ids=_case_id)
def test_a_unit_variant_with_null_content_decodes(
    channel: Channel, frame: JsonObject, expected: Message
) -> None:
    assert decode(channel, json.dumps(frame)) == expected


REFUSED = [
    (
        {"FailedToInitializeSession": {"reason": {"ScrollbackTooLarge": None}}},
        "$.FailedToInitializeSession.reason.ScrollbackTooLarge",
    ),
    (
        {"SessionTerminated": {"reason": {"NoUserQuotaRemaining": None}}},
        "$.SessionTerminated.reason.NoUserQuotaRemaining",
    ),
    (
        {"FailedToInitializeSession": {"reason": {"NoUserQuotaRemaining": None}}},
        "$.FailedToInitializeSession.reason.NoUserQuotaRemaining",
    ),
    (
        {"FailedToInitializeSession": {"reason": {"UserNotFound": {}}}},
        "$.FailedToInitializeSession.reason.UserNotFound",
    ),
    ({"FailedToReconnect": {"reason": {"WrongPassword": 0}}}, "$.FailedToReconnect.reason"),
]


@pytest.mark.parametrize(("frame", "path"), REFUSED, ids=_case_id)
def test_other_content_is_an_error_at_the_variant(frame: JsonObject, path: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(Channel.SHARER_DOWN, json.dumps(frame))
    assert caught.value.path == path
