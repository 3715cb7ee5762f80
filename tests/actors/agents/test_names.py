"""How a parent link renders agent ids in transcripts; child links are in test_topologies."""

from __future__ import annotations

import pytest
import trio

from actors.hosts.agents import AppendExchange, Location
from actors.rules.names import UNKNOWN_AGENT
from actors.rules.profiles import Profile
from actors.world import open_world

from .kit import LOCAL, REMOTE, references, settle, snapshot, spawn, start_orchestrator, task_id


@pytest.mark.parametrize(
    ("profile", "host", "resolves"),
    [
        (Profile.LEGACY, REMOTE, False),  # B1: child run ids were never indexed
        (Profile.CURRENT, LOCAL, True),
        (Profile.CURRENT, REMOTE, True),
        (Profile.FOLLOWUPS, LOCAL, True),
        (Profile.FOLLOWUPS, REMOTE, True),
    ],
)
async def test_a_parent_link_resolves_its_children_by_name(
    profile: Profile, host: Location, resolves: bool, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host)
        await spawn(orchestrator, ("researcher", LOCAL), ("writer", REMOTE))
        await world.open_viewer("v", "orch")
        researcher, writer = task_id(world, "researcher"), task_id(world, "writer")
        await world.agent("writer").ref.tell(AppendExchange("done", (researcher,)))
        await orchestrator.ref.tell(AppendExchange("status?", (researcher, writer)))
        await settle(10)
        shown = references(await snapshot(world, "v"))
        if resolves:
            assert shown == {researcher: "researcher", writer: "writer"}
        else:
            assert shown == {researcher: UNKNOWN_AGENT, writer: UNKNOWN_AGENT}
