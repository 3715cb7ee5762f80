"""The frames the README shows for outside clients decode as the messages it says they are."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from protocol import Channel, ProtocolError, UnknownMessage, decode, message_types

README = Path(__file__).resolve().parents[3] / "README.md"

#: Every message a client sends the servers; the README must show each one.
CLIENT_MESSAGES = {
    "Initialize",
    "Reconnect",
    "OrderedTerminalEvent",
    "EndSession",
    "UpdateSourceTaskId",
    "Ping",
    "CreateRun",
    "TransitionRun",
    "UpdateAgentTask",
    "GetRun",
    "ListRuns",
    "GetAgentNames",
    "SubscribeChildren",
    "UnsubscribeChildren",
    "SendAgentPrompt",
    "RequestRole",
    "RespondToRoleRequest",
}

_MESSAGE_TAGS = {cls.message_type for channel in Channel for cls in message_types(channel)}


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Talking to the servers") : text.index("## Architecture")]


def shown_frames() -> list[str]:
    """Whole-message frames in the README's 'Talking to the servers' section."""
    section = _section()
    found = re.findall(r'`(?:→ )?(\{"[^`]*\})`', section)
    found += re.findall(r"^→ (\{.*\})$", section, flags=re.MULTILINE)
    frames = []
    for candidate in found:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue  # an elided example such as {"SessionReconnected":{…}}
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _MESSAGE_TAGS:
            frames.append(candidate)
    return frames


def decodes_somewhere(frame: str) -> bool:
    for channel in Channel:
        try:
            message = decode(channel, frame)
        except ProtocolError:
            continue
        if not isinstance(message, UnknownMessage):
            return True
    return False


def test_every_frame_the_readme_shows_decodes() -> None:
    frames = shown_frames()
    assert [f for f in frames if not decodes_somewhere(f)] == []


def test_the_readme_shows_every_client_message() -> None:
    shown = {next(iter(json.loads(frame))) for frame in shown_frames()}
    assert sorted(CLIENT_MESSAGES - shown) == []


@pytest.mark.parametrize(
    ("opening", "closing", "channel"),
    [
        ("A sharer (", "A viewer:", Channel.SHARER_UP),
        ("A viewer:", "### Task server", Channel.VIEWER_UP),
    ],
    ids=["sharer", "viewer"],
)
def test_each_example_exchange_sends_what_its_role_sends(
    opening: str, closing: str, channel: Channel
) -> None:
    """`Initialize` exists on both routes; a sharer's must not pass only as a viewer's."""
    section = _section()
    example = section[section.index(opening) : section.index(closing)]
    sent = re.findall(r"^→ (\{.*\})$", example, flags=re.MULTILINE)
    assert sent
    for frame in sent:
        assert not isinstance(decode(channel, frame), UnknownMessage)
