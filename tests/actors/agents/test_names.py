"""How links render agent ids in transcripts and name each child's parent (see test_topologies)."""

from __future__ import annotations

import pytest
import trio

from actors.hosts.agents import AppendExchange, Location, ShareByUser
from actors.rules.names import ORCHESTRATOR, UNKNOWN_AGENT
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


@pytest.mark.parametrize(
    ("profile", "sidecar", "shown"),
    [
        (Profile.LEGACY, False, ORCHESTRATOR),
        (Profile.LEGACY, True, UNKNOWN_AGENT),
        (Profile.CURRENT, True, UNKNOWN_AGENT),
        (Profile.CURRENT, False, ORCHESTRATOR),
    ],
)
async def test_the_parent_placeholder_follows_from_a_child_share_without_a_task_id(
    profile: Profile, sidecar: bool, shown: str, autojump_clock: trio.abc.Clock
) -> None:
    """Gap 2 is a consequence: no sidecar, no run id for the child-link's conversation."""
    switches = profile.switches().with_overrides({"sidecar_source_task_id": sidecar})
    async with open_world(switches) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await spawn(orchestrator, ("researcher", LOCAL), ("writer", LOCAL))
        if not (await world.describe("researcher")).sharing:
            await world.agent("researcher").ref.tell(ShareByUser())
        parent, sibling = task_id(world, "orch"), task_id(world, "writer")
        await world.agent("researcher").ref.tell(AppendExchange("over to you", (sibling, parent)))
        await settle()
        await world.open_viewer("v", "researcher")
        await settle(10)
        assert references(await snapshot(world, "v")) == {sibling: shown, parent: shown}


@pytest.mark.parametrize("profile", Profile)
async def test_each_child_pane_names_the_orchestrator_as_its_parent(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("researcher", REMOTE), ("writer", LOCAL))
        await world.open_viewer("v", "orch")
        await settle(10)
        shot = await snapshot(world, "v")
        assert {pane.name: pane.parent for pane in shot.panes} == {
            "researcher": ORCHESTRATOR,
            "writer": ORCHESTRATOR,
        }
