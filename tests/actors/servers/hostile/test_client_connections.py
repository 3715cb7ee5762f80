"""One client cannot hold every connection a server has room for.

A client is the network a connection comes from, and all of loopback is one
client: a local user binding 127.0.0.2, 127.0.0.3, ... gains no further
share. Over loopback every connection is that one client, so that others
are still let in is shown in memory, where a client is its name.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest
import structlog
import trio
import trio_websocket

from actors.runtime.limits import ConnectionLimits
from protocol import Channel, UserId, sharer, viewer
from tests.actors.netkit import event_numbers, running_servers, send_events

from .outside import exchange, in_thread, join_url, open_client
from .rawws import RawClient, upgrade_request
from .scene import scene

CAP = 12
#: What the loopback client may hold: the scene's sharer and viewer, and three more.
SHARE = 5
#: The greedy local user's addresses: one per connection, all of them loopback.
GREEDY = [f"127.0.0.{n}" for n in range(2, 2 + CAP)]


def hold_connections(base: str, clients: ExitStack) -> None:
    """Share, then join its own session, each from another loopback address, holding every link."""
    ws = clients.enter_context(
        open_client(f"{base}/sessions/create", source_address=(GREEDY[0], 0))
    )
    init = sharer.Initialize(sharer.InitPayload(UserId("greedy")))
    created = exchange(ws, init, Channel.SHARER_DOWN)
    assert isinstance(created, sharer.SessionInitialized), created
    for n in range(1, SHARE - 2):
        seat = clients.enter_context(
            open_client(join_url(base, created), source_address=(GREEDY[n], 0))
        )
        join = viewer.Initialize(viewer.ViewerInitPayload(UserId(f"v{n}")))
        joined = exchange(seat, join, Channel.VIEWER_DOWN)
        assert isinstance(joined, viewer.JoinedSuccessfully), joined


async def test_every_loopback_address_shares_one_clients_connections() -> None:
    limits = ConnectionLimits(max_connections=CAP, max_client_connections=SHARE)
    async with scene(limits) as s:
        with ExitStack() as clients, structlog.testing.capture_logs() as logs:
            base = s.session_base
            await in_thread(lambda: hold_connections(base, clients))
            # Further loopback addresses are refused, though the server has room for more.
            for host in GREEDY[SHARE:]:
                refused = await RawClient.connect(s.session_port, source=host)
                await refused.send(upgrade_request("/sessions/create"))
                status, body = await refused.response()
                assert status == 503
                assert b"too many connections from your address" in body
                await refused.aclose()
            # The links accepted before carry on.
            await send_events(s.owner, s.events)
            assert await event_numbers(s.watcher, 1) == [s.events]
            s.events += 1
            await in_thread(clients.close)
        # With the greedy links gone, a newcomer is let in again.
        await s.still_serving()
    full = [entry for entry in logs if entry["event"] == "client_connections_full"]
    assert len(full) == 1
    assert full[0]["peer"].startswith("127.0.0.")


async def test_a_client_at_its_share_leaves_room_for_others() -> None:
    limits = ConnectionLimits(max_connections=8, max_client_connections=2)
    async with running_servers(connection_limits=limits) as servers:
        for _ in range(2):
            await servers.connect("greedy", "session-server", "/sessions/create")
        network = servers.simulation.network
        with pytest.RaisesGroup(trio_websocket.ConnectionRejected, flatten_subgroups=True):
            async with trio.open_nursery() as refused:
                await network.connect("greedy", "session-server", "/sessions/create", refused)
        _, created = await servers.share("someone-else")
        assert created.session_id
