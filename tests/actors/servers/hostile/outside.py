"""A client from outside the simulation: the `websockets` library, as a third party would use it.

Its sync client blocks, so each call runs in a worker thread under the
library's own timeouts (a thread cannot be cancelled from Trio).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import TypeVar

import trio
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from actors.runtime.transport import CloseCode
from protocol import (
    AnyMessage,
    Channel,
    OrderedTerminalEvent,
    UserId,
    decode,
    encode,
    sharer,
    viewer,
)
from protocol.events import PtyBytesRead

from .rawws import GUARD_S

T = TypeVar("T")


async def in_thread(fn: Callable[[], T]) -> T:
    return await trio.to_thread.run_sync(fn)


def open_client(url: str, **options: object) -> AbstractContextManager[ClientConnection]:
    """Connect with timeouts that only a hang can reach, and no keepalive unless asked.

    Use it in a `with` block (or an `ExitStack`), as the library wants.
    """
    settings: dict[str, object] = {
        "open_timeout": GUARD_S,
        "close_timeout": GUARD_S,
        "ping_interval": None,
        "proxy": None,
        "compression": None,
    }
    settings.update(options)
    connection: AbstractContextManager[ClientConnection] = connect(url, **settings)  # type: ignore[call-overload]
    return connection


def exchange(ws: ClientConnection, message: AnyMessage, channel: Channel) -> object:
    ws.send(encode(message))
    return decode(channel, _text(ws.recv(timeout=GUARD_S)))


def receive(ws: ClientConnection, channel: Channel) -> object:
    return decode(channel, _text(ws.recv(timeout=GUARD_S)))


def _text(data: str | bytes) -> str:
    assert isinstance(data, str), f"expected a text frame, got {data!r}"
    return data


def close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes; the code it closed with."""
    try:
        while True:
            ws.recv(timeout=GUARD_S)
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code


def share(
    base: str, clients: ExitStack, name: str = "outside-sharer"
) -> tuple[ClientConnection, sharer.SessionInitialized]:
    """Create a lingering session from outside; `base` is `ws://HOST:PORT`.

    The sharer's connection closes with `clients`.
    """
    ws = clients.enter_context(open_client(f"{base}/sessions/create"))
    init = sharer.Initialize(sharer.InitPayload(UserId(name), lifetime=sharer.Lifetime.LINGERING))
    created = exchange(ws, init, Channel.SHARER_DOWN)
    assert isinstance(created, sharer.SessionInitialized), created
    return ws, created


def send_events(ws: ClientConnection, numbers: range) -> None:
    """Send events and read their acks, so the server holds them all."""
    for n in numbers:
        ws.send(encode(event(n)))
    for n in numbers:
        ack = receive(ws, Channel.SHARER_DOWN)
        assert ack == sharer.EventsProcessedAck(n), ack


def event(n: int, size: int = 16) -> OrderedTerminalEvent:
    """Event `n` carrying `size` bytes of terminal output."""
    return OrderedTerminalEvent(n, PtyBytesRead(bytes(size)))


def join_url(base: str, created: sharer.SessionInitialized) -> str:
    return f"{base}/sessions/join/{created.session_id}?pwd={created.session_secret.reveal()}"


#: A newcomer that rejoins more often than this is taken to be going round in circles.
MAX_REJOINS = 100


def join_and_read(base: str, created: sharer.SessionInitialized, count: int) -> list[int]:
    """Join as a newcomer and read the first `count` events: proof the server still serves.

    As a well-made client does, it rejoins from its last event whenever the
    server closes with 1013 because it fell behind (a long history can do that).
    """
    numbers: list[int] = []
    payload = viewer.ViewerInitPayload(UserId("newcomer"))
    for _ in range(MAX_REJOINS):
        with open_client(join_url(base, created)) as ws:
            answer = exchange(ws, viewer.Initialize(payload), Channel.VIEWER_DOWN)
            if isinstance(answer, viewer.JoinedSuccessfully):
                payload = viewer.ViewerInitPayload(
                    UserId("newcomer"), viewer_id=answer.viewer_id, rejoin_token=answer.rejoin_token
                )
            else:
                assert answer == viewer.RejoinedSuccessfully(), answer
            try:
                while len(numbers) < count:
                    message = receive(ws, Channel.VIEWER_DOWN)
                    assert isinstance(message, OrderedTerminalEvent), message
                    numbers.append(message.event_no)
                return numbers
            except ConnectionClosed as closed:
                code = None if closed.rcvd is None else closed.rcvd.code
                if code != CloseCode.TRY_AGAIN_LATER:
                    raise
            last = numbers[-1] if numbers else None
            payload = dataclasses.replace(payload, last_received_event_no=last)
    raise AssertionError(f"still behind after {MAX_REJOINS} rejoins: {len(numbers)} events")
