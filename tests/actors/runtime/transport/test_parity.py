"""The same exchange over in-memory streams and over TCP loopback traces the same messages."""

from __future__ import annotations

import trio

from actors.runtime.transport import Mode
from protocol import AgentExchange, OrderedTerminalEvent, UserId, sharer, viewer
from protocol.source import User
from tests.actors.netkit import Client, Servers, running_servers

SERVER = "session-server"

#: Every message of the exchange, as (from, to, channel, type), in trace order.
EXPECTED = [
    # the sharer creates a session and sends its first event
    ("sharer", SERVER, "sharer-up", "Initialize"),
    (SERVER, "sharer", "sharer-down", "SessionInitialized"),
    ("sharer", SERVER, "sharer-up", "OrderedTerminalEvent"),
    (SERVER, "sharer", "sharer-down", "EventsProcessedAck"),
    # a viewer joins and catches up
    ("viewer", SERVER, "viewer-up", "Initialize"),
    (SERVER, "viewer", "viewer-down", "JoinedSuccessfully"),
    (SERVER, "viewer", "viewer-down", "OrderedTerminalEvent"),
    # a live event is acknowledged and relayed
    ("sharer", SERVER, "sharer-up", "OrderedTerminalEvent"),
    (SERVER, "sharer", "sharer-down", "EventsProcessedAck"),
    (SERVER, "viewer", "viewer-down", "OrderedTerminalEvent"),
    # the viewer leaves; an event it misses is only acknowledged
    ("sharer", SERVER, "sharer-up", "OrderedTerminalEvent"),
    (SERVER, "sharer", "sharer-down", "EventsProcessedAck"),
    # the viewer rejoins and gets what it missed
    ("viewer", SERVER, "viewer-up", "Initialize"),
    (SERVER, "viewer", "viewer-down", "RejoinedSuccessfully"),
    (SERVER, "viewer", "viewer-down", "OrderedTerminalEvent"),
]


def event(n: int) -> OrderedTerminalEvent:
    return OrderedTerminalEvent(n, AgentExchange("t-1", n, f"exchange {n}").to_event())


async def acknowledged(owner: Client, n: int) -> None:
    owner.send(event(n))
    assert (await owner.expect(sharer.EventsProcessedAck)).latest_processed_event_no == n


async def exchange(servers: Servers) -> list[int]:
    """Share, join, relay, leave, rejoin; each step waits for all it causes.

    Waiting keeps the order of trace records independent of how fast each
    transport is. Returns the event numbers the viewer received.
    """
    owner, created = await servers.share("sharer", source_type=User(), source_task_id="t-1")
    await acknowledged(owner, 0)
    watcher, joined = await servers.join("viewer", created)
    assert isinstance(joined, viewer.JoinedSuccessfully)
    seen = [(await watcher.expect(OrderedTerminalEvent)).event_no]
    await acknowledged(owner, 1)
    seen.append((await watcher.expect(OrderedTerminalEvent)).event_no)
    await watcher.link.close()
    await acknowledged(owner, 2)
    route = f"/sessions/join/{created.session_id}?pwd={created.session_secret.reveal()}"
    watcher = await servers.connect("viewer", SERVER, route)
    payload = viewer.ViewerInitPayload(
        UserId("viewer"),
        viewer_id=joined.viewer_id,
        last_received_event_no=seen[-1],
        rejoin_token=joined.rejoin_token,
    )
    watcher.send(viewer.Initialize(payload))
    await watcher.expect(viewer.RejoinedSuccessfully)
    seen.append((await watcher.expect(OrderedTerminalEvent)).event_no)
    return seen


async def test_the_exchange_traces_the_same_messages_in_either_mode(
    mode: Mode, clock: trio.abc.Clock
) -> None:
    with trio.fail_after(300):
        async with running_servers(mode=mode) as servers:
            assert await exchange(servers) == [0, 1, 2]
            records = list(servers.simulation.trace)
    assert [(r.src, r.dst, r.channel, r.type) for r in records] == EXPECTED
    event_numbers = [r.ids["event_no"] for r in records if r.type == "OrderedTerminalEvent"]
    assert event_numbers == ["0", "0", "1", "1", "2", "2"]
