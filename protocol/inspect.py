"""Decoding captured frames for people: backs `sharesim decode`."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from typing import TextIO

from .codec import decode, encode
from .errors import ProtocolError
from .events import AgentExchange, AgentResponseEvent
from .message import AnyMessage, Channel, UnknownMessage
from .secrets import Secret


def decode_lines(
    lines: Iterable[str], channel: Channel, *, as_json: bool, out: TextIO, err: TextIO
) -> int:
    """Decode one frame per non-blank line and print each on one line; return the failures.

    A bad line is reported as `line N: <reason>` on `err` and the rest still
    decode, so one broken frame does not hide the others.
    """
    failures = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            message = decode(channel, line)
        except ProtocolError as exc:
            failures += 1
            print(f"line {number}: {exc}", file=err)
            continue
        print(encode(message) if as_json else render_message(message), file=out)
    return failures


def render_message(message: AnyMessage) -> str:
    """One readable line: the tag, then `field=value` pairs; secrets stay masked."""
    if isinstance(message, UnknownMessage):
        return f"{message.tag} (unknown on {message.channel.value}, ignored)"
    fields = _show_fields(message, " ")
    return f"{message.message_type} {fields}" if fields else message.message_type


def _show_fields(value: object, separator: str) -> str:
    assert dataclasses.is_dataclass(value)
    return separator.join(
        f"{f.name}={_show(getattr(value, f.name))}" for f in dataclasses.fields(value) if f.repr
    )


def _show(value: object) -> str:
    if isinstance(value, Secret):
        return str(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, AgentResponseEvent):
        value = _exchange_or_event(value)
    if dataclasses.is_dataclass(value):
        fields = _show_fields(value, ", ")
        return f"{type(value).__name__}({fields})" if fields else type(value).__name__
    return repr(value)


def _exchange_or_event(event: AgentResponseEvent) -> object:
    """Our agent exchanges are shown decoded; real or malformed payloads as they came."""
    try:
        return AgentExchange.from_event(event) or event
    except ProtocolError:
        return event
