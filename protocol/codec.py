"""JSON text in and out: one encoder for every message, one decoder told the channel.

The channel decides which tags are known. A tag the channel does not know
decodes to `UnknownMessage`, so a newer peer cannot break an older receiver;
anything else that does not fit is a ProtocolError naming the JSON path.
"""

from __future__ import annotations

import typing

from . import sharer, tasks, viewer
from ._fields import decode_variant, dumps, encode_variant, loads, split_tagged
from .message import AnyMessage, Channel, Message, UnknownMessage

_CHANNEL_TYPES: dict[Channel, object] = {
    Channel.SHARER_UP: sharer.Upstream,
    Channel.SHARER_DOWN: sharer.Downstream,
    Channel.VIEWER_UP: viewer.Upstream,
    Channel.VIEWER_DOWN: viewer.Downstream,
    Channel.TASKS: tasks.TaskMessage,
}

_BY_TAG: dict[Channel, dict[str, type[Message]]] = {
    channel: {cls.message_type: cls for cls in typing.get_args(union)}
    for channel, union in _CHANNEL_TYPES.items()
}


def message_types(channel: Channel) -> tuple[type[Message], ...]:
    """Every message class a channel knows, in declaration order."""
    return tuple(_BY_TAG[channel].values())


def encode(message: AnyMessage) -> str:
    """Canonical JSON for a frame; secrets are written in full, as the wire needs them."""
    if isinstance(message, UnknownMessage):
        return message.raw
    return dumps(encode_variant(message))


def decode(channel: Channel, text: str) -> AnyMessage:
    """Decode one frame received on `channel`."""
    value = loads(text)
    tag, body = split_tagged(value, "$", "a message (a tag string or a single-key object)")
    cls = _BY_TAG[channel].get(tag)
    if cls is None:
        return UnknownMessage(channel, tag, dumps(value))
    message: Message = decode_variant(cls, body, f"$.{tag}")
    return message
