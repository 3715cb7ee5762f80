"""Idle connections: a client that answers pings stays, one that does not is closed."""

from __future__ import annotations

import time

from actors.runtime.limits import ConnectionLimits
from actors.runtime.transport import CloseCode
from protocol import Channel, Ping, Pong

from .outside import exchange, in_thread, open_client
from .rawws import PING, RawClient
from .scene import eventually, scene


async def test_a_client_that_never_answers_pings_is_closed_with_1011() -> None:
    limits = ConnectionLimits(ping_interval=0.2, ping_timeout=0.2, close_timeout=0.5)
    async with scene(limits) as s:
        baseline = s.open_connections()
        mute = await RawClient.connect(s.session_port)
        await mute.open("/sessions/create")
        frames, close = await mute.until_closed()
        assert frames
        assert {frame.opcode for frame in frames} == {PING}
        assert close is not None
        assert close.close_code == CloseCode.INTERNAL_ERROR
        assert close.close_reason == "no pong within the keepalive timeout"
        # It never answers the close either: the server hangs up on its own.
        await mute.read_until_hang_up()
        await mute.aclose()
        await eventually(lambda: s.open_connections() == baseline, "the mute client released")
        await s.still_serving()


async def test_an_idle_client_that_answers_pings_stays_connected() -> None:
    interval = 0.2
    async with scene(ConnectionLimits(ping_interval=interval, ping_timeout=10.0)) as s:

        def idle_then_ping() -> object:
            with open_client(f"{s.session_base}/sessions/create") as ws:
                # Idle through many keepalive rounds; the library answers each ping.
                time.sleep(10 * interval)
                return exchange(ws, Ping(b"hi"), Channel.SHARER_DOWN)

        assert await in_thread(idle_then_ping) == Pong(b"hi")
        await s.still_serving()
