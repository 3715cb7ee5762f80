"""A top-level tag the channel does not know is passed on as UnknownMessage, not an error."""

from __future__ import annotations

import json

import pytest

from protocol import Channel, UnknownMessage, decode, encode
from tests.protocol.frames import joined_successfully


def test_unknown_tag_becomes_unknown_message_with_canonical_raw() -> None:
    message = decode(Channel.VIEWER_DOWN, '{ "ParticipantListUpdated" : {"sharer": {}} }')
    assert message == UnknownMessage(
        Channel.VIEWER_DOWN, "ParticipantListUpdated", '{"ParticipantListUpdated":{"sharer":{}}}'
    )
    assert message.message_type == "ParticipantListUpdated"
    assert message.key_ids() == {}
    assert encode(message) == message.raw


def test_a_bare_unknown_tag_is_unknown_too() -> None:
    message = decode(Channel.SHARER_DOWN, '"SomethingNew"')
    assert isinstance(message, UnknownMessage)
    assert message.tag == "SomethingNew"


@pytest.mark.parametrize(
    ("channel", "frame"),
    [
        (Channel.SHARER_UP, joined_successfully()),
        (Channel.VIEWER_UP, {"EndSession": {"reason": "EndedBySharer"}}),
        (Channel.TASKS, {"Ping": {"data": []}}),
    ],
    ids=["viewer-down-tag-on-sharer-up", "sharer-tag-on-viewer-up", "ping-on-tasks"],
)
def test_a_tag_from_another_channel_is_unknown_here(
    channel: Channel, frame: dict[str, object]
) -> None:
    message = decode(channel, json.dumps(frame))
    assert isinstance(message, UnknownMessage)
    assert message.channel is channel


def test_unknown_message_repr_leaves_out_the_raw_frame() -> None:
    message = decode(
        Channel.VIEWER_UP,
        '{"Reauthenticated":{"user_id":{"anonymous_id":"a","firebase_id_token":"tok-9"}}}',
    )
    assert isinstance(message, UnknownMessage)
    assert "tok-9" not in repr(message)
    assert "tok-9" in message.raw
