"""One viewer connection's bookkeeping: events exactly once and in order, across a rejoin."""

from __future__ import annotations

import trio

from actors.hosts.agents import AppendExchange
from actors.rules.profiles import Profile
from actors.runtime.actor import Actor
from actors.viewers.session_view import ExchangeReceived, SessionView
from actors.world import open_world
from protocol import AgentExchange, OrderedTerminalEvent

from .kit import REMOTE, captured_logs, events_named, settle, spawn, start_orchestrator, tell


def event(event_no: int) -> OrderedTerminalEvent:
    return OrderedTerminalEvent(
        event_no, AgentExchange("t-1", event_no, f"step {event_no}").to_event()
    )


async def test_a_repeated_event_is_dropped_and_a_gap_is_noted(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        view = SessionView(Actor("v"), world.simulation.network, "root", "/sessions/join/s", "bob")
        outcomes = [view.handle_frame(event(n)) for n in (0, 1, 1, 3)]
        assert [type(o) for o in outcomes] == [
            ExchangeReceived,
            ExchangeReceived,
            type(None),
            ExchangeReceived,
        ]
        assert [e.exchange_no for e in view.transcript] == [0, 1, 3]
        assert view.sequence_errors == ["event 1 again after 1", "event 3 where 2 was due"]


async def test_a_rejoin_receives_exactly_the_missed_events(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("worker", REMOTE))
        viewer = await world.open_viewer("v", "orch")
        await settle()
        with captured_logs() as logs:
            for link in world.simulation.network.links_between("v", "session-server"):
                await link.drop()
            for n in range(3):
                await tell(world, "orch", AppendExchange(f"while away {n}"))
            await settle(10)
        assert {e["view"] for e in events_named(logs, "view_rejoined")} >= {"root"}
        assert viewer.root is not None
        texts = [e.text for e in viewer.root.transcript]
        assert texts[-3:] == ["while away 0", "while away 1", "while away 2"]
        assert len(texts) == len(set(texts))
        for view in [viewer.root, *viewer.panes.values()]:
            assert view.sequence_errors == []
