"""One client cannot hold every connection a server has room for.

A client is the host address a connection comes from; loopback has a whole
/8, so the greedy client here is 127.0.0.2 and everyone else 127.0.0.1.
"""

from __future__ import annotations

from contextlib import ExitStack

import structlog

from actors.runtime.limits import ConnectionLimits
from protocol import Channel, UserId, sharer, viewer

from .outside import exchange, in_thread, join_url, open_client
from .rawws import RawClient, upgrade_request
from .scene import scene

CAP = 8
SHARE = 3
GREEDY = ("127.0.0.2", 0)


def hold_connections(base: str, clients: ExitStack) -> None:
    """From 127.0.0.2: share, then join its own session, holding every link."""
    ws = clients.enter_context(open_client(f"{base}/sessions/create", source_address=GREEDY))
    init = sharer.Initialize(sharer.InitPayload(UserId("greedy")))
    created = exchange(ws, init, Channel.SHARER_DOWN)
    assert isinstance(created, sharer.SessionInitialized), created
    for n in range(SHARE - 1):
        seat = clients.enter_context(open_client(join_url(base, created), source_address=GREEDY))
        join = viewer.Initialize(viewer.ViewerInitPayload(UserId(f"v{n}")))
        joined = exchange(seat, join, Channel.VIEWER_DOWN)
        assert isinstance(joined, viewer.JoinedSuccessfully), joined


async def test_a_client_holds_at_most_its_share_of_connections() -> None:
    limits = ConnectionLimits(max_connections=CAP, max_client_connections=SHARE)
    async with scene(limits) as s:
        with ExitStack() as clients, structlog.testing.capture_logs() as logs:
            base = s.session_base
            await in_thread(lambda: hold_connections(base, clients))
            # Its next connections are refused, though the server has room for more.
            for _ in range(CAP - SHARE):
                refused = await RawClient.connect(s.session_port, source=GREEDY[0])
                await refused.send(upgrade_request("/sessions/create"))
                status, body = await refused.response()
                assert status == 503
                assert b"too many connections from your address" in body
                await refused.aclose()
            # Another client is still served while the greedy one holds its links.
            await s.still_serving()
            await in_thread(clients.close)
    full = [entry for entry in logs if entry["event"] == "client_connections_full"]
    assert len(full) == 1
    assert full[0]["peer"].startswith("127.0.0.2:")
