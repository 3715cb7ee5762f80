"""The session server over real WebSocket framing: create, join, relay, rejoin, end."""

from __future__ import annotations

import trio

from protocol import AgentExchange, OrderedTerminalEvent, sharer, viewer
from protocol.source import AmbientAgent, User
from tests.actors.netkit import running_servers


def exchange_event(n: int) -> OrderedTerminalEvent:
    return OrderedTerminalEvent(n, AgentExchange("t-1", n, f"exchange {n}").to_event())


async def test_a_viewer_joins_and_receives_events_in_order(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share(source_type=User(), source_task_id="t-1")
        owner.send(exchange_event(0))
        assert (await owner.expect(sharer.EventsProcessedAck)).latest_processed_event_no == 0
        client, joined = await servers.join("viewer-a", created)
        assert isinstance(joined, viewer.JoinedSuccessfully)
        assert joined.source_task_id == "t-1"
        assert joined.latest_event_no == 0
        assert (await client.expect(OrderedTerminalEvent)).event_no == 0
        for n in (1, 2, 3):
            owner.send(exchange_event(n))
        assert [(await client.expect(OrderedTerminalEvent)).event_no for _ in range(3)] == [1, 2, 3]


async def test_a_legacy_ambient_share_gets_its_task_id_from_the_variant(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        _, created = await servers.share(source_type=AmbientAgent("t-7"))
        _, joined = await servers.join("viewer-a", created)
        assert isinstance(joined, viewer.JoinedSuccessfully)
        assert joined.source_task_id == "t-7"
        assert joined.source_type.value == "AmbientAgent"
