"""A link that never says who it is (no Initialize, Reconnect or join) does not keep its place."""

from __future__ import annotations

import trio

from actors.runtime.limits import ConnectionLimits
from actors.runtime.transport import CloseCode

from .rawws import GUARD_S, RawClient
from .scene import eventually, scene


async def test_a_link_that_never_identifies_itself_is_closed_with_1008() -> None:
    limits = ConnectionLimits(identify_timeout=1.0)
    async with scene(limits) as s:
        baseline = s.open_connections()
        silent = []
        for route in ("/sessions/create", f"/sessions/join/{s.created.session_id}?pwd=x"):
            client = await RawClient.connect(s.session_port)
            await client.open(route)
            silent.append(client)
        started = trio.current_time()
        for client in silent:
            _, close = await client.until_closed()
            assert close is not None
            assert close.close_code == CloseCode.POLICY_VIOLATION
            assert "identif" in close.close_reason
            await client.aclose()
        assert trio.current_time() - started < GUARD_S / 2
        await eventually(lambda: s.open_connections() == baseline, "the silent links released")
        # The sharer and viewer that identified themselves long ago are still served.
        await s.still_serving()
