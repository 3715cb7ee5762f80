"""Bare trio-websocket, the baseline the transport is measured against.

The same library over the same kind of byte stream as `actors.transport`, with
nothing on top: no codec, no trace, no actors, no writer task.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio
import trio.testing
import trio_websocket
from trio_websocket import WebSocketConnection

from actors.runtime.transport import Mode

Pair = tuple[WebSocketConnection, WebSocketConnection]


async def stream_frames(mode: Mode, frames: list[str]) -> float:
    """Seconds to move `frames` from one end of one connection to the other."""
    async with _pairs(mode) as pairs:
        client, server = await pairs.open()
        start = time.perf_counter()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_send_all, client, frames)
            await _receive(server, len(frames))
        return time.perf_counter() - start


async def relay_frames(mode: Mode, frames: list[str], viewers: int) -> float:
    """Seconds to send `frames` up one connection and copy each down `viewers` others."""
    async with _pairs(mode) as pairs:
        up_client, up_server = await pairs.open()
        downs = [await pairs.open() for _ in range(viewers)]
        start = time.perf_counter()

        async def relay() -> None:
            for _ in frames:
                text = await up_server.get_message()
                for down_server, _client in downs:
                    await down_server.send_message(text)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(relay)
            for _server, down_client in downs:
                nursery.start_soon(_receive, down_client, len(frames))
            await _send_all(up_client, frames)
        return time.perf_counter() - start


async def _send_all(ws: WebSocketConnection, frames: list[str]) -> None:
    for text in frames:
        await ws.send_message(text)


async def _receive(ws: WebSocketConnection, count: int) -> None:
    for _ in range(count):
        await ws.get_message()


class _Pairs:
    """Opens connected (client, server) pairs over memory streams or TCP loopback."""

    def __init__(self, nursery: trio.Nursery, listener: trio.SocketListener | None) -> None:
        self._nursery = nursery
        self._listener = listener
        self.streams: list[trio.abc.Stream] = []

    async def open(self) -> Pair:
        client_stream: trio.abc.Stream
        server_stream: trio.abc.Stream
        if self._listener is None:
            client_stream, server_stream = trio.testing.memory_stream_pair()
        else:
            port = self._listener.socket.getsockname()[1]
            client_stream = await trio.open_tcp_stream("127.0.0.1", port)
            server_stream = await self._listener.accept()
        self.streams += [client_stream, server_stream]
        return await self._handshake(client_stream, server_stream)

    async def _handshake(
        self, client_stream: trio.abc.Stream, server_stream: trio.abc.Stream
    ) -> Pair:
        accepted: list[WebSocketConnection] = []
        ready = trio.Event()

        async def accept() -> None:
            request = await trio_websocket.wrap_server_stream(self._nursery, server_stream)
            accepted.append(await request.accept())
            ready.set()

        self._nursery.start_soon(accept)
        client = await trio_websocket.wrap_client_stream(
            self._nursery,
            client_stream,  # type: ignore[arg-type]  # any trio stream works; the hint is narrower
            "raw",
            "/",
        )
        await ready.wait()
        return client, accepted[0]


@asynccontextmanager
async def _pairs(mode: Mode) -> AsyncIterator[_Pairs]:
    """Pairs for the block; afterwards every stream and the listener are closed."""
    async with trio.open_nursery() as nursery:
        listener = None
        if mode is Mode.TCP:
            (listener,) = await trio.open_tcp_listeners(0, host="127.0.0.1")
        pairs = _Pairs(nursery, listener)
        try:
            yield pairs
        finally:
            with trio.CancelScope(shield=True):
                for stream in pairs.streams:
                    await trio.aclose_forcefully(stream)
                if listener is not None:
                    await trio.aclose_forcefully(listener)
            nursery.cancel_scope.cancel()
