"""Both servers over real sockets on 127.0.0.1: the same rules as in memory."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from actors.runtime.simulation import virtual_clock
from actors.runtime.transport import Mode
from protocol import (
    CreateRun,
    Execution,
    OrderedTerminalEvent,
    RunReply,
    TaskError,
    sharer,
    viewer,
)
from tests.actors.netkit import exchange_event, join_route, running_servers


@pytest.fixture
def tcp_clock() -> trio.testing.MockClock:
    """The clock every run is on: over real sockets it also waits for what is in flight."""
    return virtual_clock()


async def test_a_share_join_and_relay_over_tcp(tcp_clock: trio.testing.MockClock) -> None:
    async with running_servers(mode=Mode.TCP) as servers:
        assert servers.sessions.address.startswith("ws://127.0.0.1:")
        assert servers.tasks.address.startswith("ws://127.0.0.1:")
        owner, created = await servers.share(lifetime=sharer.Lifetime.LINGERING)
        client, reply = await servers.join("viewer-a", created)
        assert isinstance(reply, viewer.JoinedSuccessfully)
        for n in range(5):
            owner.send(exchange_event(n))
        received = [(await client.expect(OrderedTerminalEvent)).event_no for _ in range(5)]
        assert received == list(range(5))
        owner.send(sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
        assert isinstance(await client.receive(), viewer.SessionEnded)
        assert (await client.closed()).code == 1000


async def test_reconnects_over_tcp(tcp_clock: trio.testing.MockClock) -> None:
    async with running_servers(mode=Mode.TCP) as servers:
        owner, created = await servers.share()
        client, first = await servers.join("viewer-a", created)
        assert isinstance(first, viewer.JoinedSuccessfully)
        owner.send(exchange_event(0))
        await owner.expect(sharer.EventsProcessedAck)
        await owner.link.drop()
        again, reply = await servers.reconnect(created)
        assert reply == sharer.SessionReconnected(0)
        await client.expect(OrderedTerminalEvent)
        await client.link.drop()
        again.send(exchange_event(1))
        await again.expect(sharer.EventsProcessedAck)
        rejoined, reply = await servers.join(
            "viewer-a",
            created,
            viewer_id=first.viewer_id,
            last_received_event_no=0,
            rejoin_token=first.rejoin_token,
        )
        assert reply == viewer.RejoinedSuccessfully()
        assert (await rejoined.expect(OrderedTerminalEvent)).event_no == 1


async def test_bad_frames_over_tcp_cost_only_their_link(tcp_clock: trio.testing.MockClock) -> None:
    async with running_servers(mode=Mode.TCP) as servers:
        owner, created = await servers.share()
        watcher, _ = await servers.join("watcher", created)
        rogue = await servers.connect("rogue", "session-server", join_route(created))
        rogue.send_raw("not json")
        assert isinstance(await rogue.receive(), viewer.FailedToJoin)
        assert (await rogue.closed()).code == 1007
        tasks = await servers.tasks_client("alice")
        tasks.send_raw("{")
        assert isinstance(await tasks.receive(), TaskError)
        tasks.send(CreateRun(1, "Plan", Execution.LOCAL))
        assert isinstance(await tasks.receive(), RunReply)
        owner.send(exchange_event(0))
        assert (await watcher.expect(OrderedTerminalEvent)).event_no == 0
