"""SessionSourceType on the wire: what old and new peers send, and the canonical form we emit."""

from __future__ import annotations

import json

import pytest

from protocol import (
    AmbientAgent,
    Channel,
    InitPayload,
    JoinedSuccessfully,
    LegacySessionSourceType,
    ProtocolError,
    SessionSourceType,
    User,
    UserId,
    decode,
    encode,
    sharer,
)
from tests.protocol.frames import joined_successfully, sharer_initialize

ACCEPTED = [
    ("User", User()),
    ("AmbientAgent", AmbientAgent(None)),
    ({"AmbientAgent": {}}, AmbientAgent(None)),
    ({"AmbientAgent": {"task_id": None}}, AmbientAgent(None)),
    ({"AmbientAgent": {"task_id": "T"}}, AmbientAgent("T")),
]


@pytest.mark.parametrize(("wire", "expected"), ACCEPTED, ids=[json.dumps(w) for w, _ in ACCEPTED])
def test_sharer_initialize_accepts_every_documented_shape(
    wire: object, expected: SessionSourceType
) -> None:
    message = decode(Channel.SHARER_UP, json.dumps(sharer_initialize(source_type=wire)))
    assert isinstance(message, sharer.Initialize)
    assert message.payload.source_type == expected


@pytest.mark.parametrize(("wire", "expected"), ACCEPTED, ids=[json.dumps(w) for w, _ in ACCEPTED])
def test_joined_successfully_accepts_every_documented_shape(
    wire: object, expected: SessionSourceType
) -> None:
    message = decode(
        Channel.VIEWER_DOWN, json.dumps(joined_successfully(detailed_source_type=wire))
    )
    assert isinstance(message, JoinedSuccessfully)
    assert message.detailed_source_type == expected


@pytest.mark.parametrize(
    "wire",
    ["Foo", {"User": {}}, {"Foo": {"task_id": "T"}}, 5, None, ["AmbientAgent"]],
    ids=json.dumps,
)
def test_other_shapes_are_errors_naming_the_field(wire: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(Channel.SHARER_UP, json.dumps(sharer_initialize(source_type=wire)))
    assert caught.value.path.startswith("$.Initialize.source_type")


def test_a_task_id_of_the_wrong_type_names_the_nested_path() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(
            Channel.SHARER_UP,
            json.dumps(sharer_initialize(source_type={"AmbientAgent": {"task_id": 7}})),
        )
    assert caught.value.path == "$.Initialize.source_type.AmbientAgent.task_id"


def _encoded_source_type(source_type: SessionSourceType) -> object:
    frame = encode(sharer.Initialize(InitPayload(UserId("a"), source_type=source_type)))
    return json.loads(frame)["Initialize"]["source_type"]


@pytest.mark.parametrize(
    ("source_type", "wire"),
    [
        (User(), "User"),
        (AmbientAgent("t-1"), {"AmbientAgent": {"task_id": "t-1"}}),
        (AmbientAgent(None), {"AmbientAgent": {"task_id": None}}),
    ],
    ids=["user-bare", "ambient-with-id", "ambient-null-id-written"],
)
def test_canonical_encodings(source_type: SessionSourceType, wire: object) -> None:
    assert _encoded_source_type(source_type) == wire


def test_missing_source_fields_default_to_user_and_none() -> None:
    message = decode(
        Channel.SHARER_UP, json.dumps(sharer_initialize(source_type=..., source_task_id=...))
    )
    assert isinstance(message, sharer.Initialize)
    assert message.payload.source_type == User()
    assert message.payload.source_task_id is None


def test_an_old_server_join_without_source_fields_defaults() -> None:
    frame = joined_successfully(source_type=..., detailed_source_type=..., source_task_id=...)
    message = decode(Channel.VIEWER_DOWN, json.dumps(frame))
    assert isinstance(message, JoinedSuccessfully)
    assert message.source_type is LegacySessionSourceType.USER
    assert message.detailed_source_type == User()
    assert message.source_task_id is None


@pytest.mark.parametrize(
    ("detailed", "task_id", "excerpt"),
    [
        (
            AmbientAgent("T1"),
            "T1",
            {
                "source_type": "AmbientAgent",
                "detailed_source_type": {"AmbientAgent": {"task_id": "T1"}},
                "source_task_id": "T1",
            },
        ),
        (
            User(),
            "T1",
            {"source_type": "User", "detailed_source_type": "User", "source_task_id": "T1"},
        ),
    ],
    ids=["orchestrator-share", "user-share-with-task"],
)
def test_joined_carries_the_legacy_projection_next_to_the_detailed_type(
    detailed: SessionSourceType, task_id: str, excerpt: dict[str, object]
) -> None:
    message = JoinedSuccessfully(
        viewer_id="v1",
        source_type=LegacySessionSourceType.of(detailed),
        detailed_source_type=detailed,
        source_task_id=task_id,
    )
    body = json.loads(encode(message))["JoinedSuccessfully"]
    assert {key: body[key] for key in excerpt} == excerpt


def test_legacy_source_type_rejects_the_detailed_shape() -> None:
    frame = joined_successfully(source_type={"AmbientAgent": {"task_id": "T1"}})
    with pytest.raises(ProtocolError) as caught:
        decode(Channel.VIEWER_DOWN, json.dumps(frame))
    assert caught.value.path == "$.JoinedSuccessfully.source_type"
