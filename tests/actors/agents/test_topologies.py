"""The design brief's table: what each of the eight topologies shows under each profile."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import trio

from actors.hosts.agents import AppendExchange, Location, ShareByUser
from actors.rules.discovery import STATUS_POLL_INTERVAL_S
from actors.rules.names import ORCHESTRATOR, UNKNOWN_AGENT
from actors.rules.profiles import Profile
from actors.world import open_world

from .kit import (
    LOCAL,
    REMOTE,
    panes,
    references,
    settle,
    snapshot,
    spawn,
    start_orchestrator,
    task_id,
)

L, C, F = Profile.LEGACY, Profile.CURRENT, Profile.FOLLOWUPS


@dataclass(frozen=True)
class Sees:
    """What the viewer ends up with: the bar, its panes or the child's root, the names."""

    bar: bool
    panes: str | None = None  # every child pane's state, parent links only
    root: str = "loaded"
    names: str | None = None  # how the sibling and the parent render, child links only


PARENT_LINK = {
    # 1 local-local, 3 local-remote, 5 remote-local, 7 remote-remote
    (L, LOCAL, LOCAL): Sees(bar=False),
    (L, LOCAL, REMOTE): Sees(bar=False),
    (L, REMOTE, LOCAL): Sees(bar=True, panes="loading"),
    (L, REMOTE, REMOTE): Sees(bar=True, panes="loaded"),
    **{
        (p, h, c): Sees(bar=True, panes="loaded")
        for p in (C, F)
        for h in Location
        for c in Location
    },
}
CHILD_LINK = {
    # 2 local-local, 4 local-remote, 6 remote-local, 8 remote-remote
    (L, LOCAL, LOCAL): Sees(bar=False, names=ORCHESTRATOR),
    (L, LOCAL, REMOTE): Sees(bar=False, names=UNKNOWN_AGENT),
    (L, REMOTE, LOCAL): Sees(bar=False, root="loading"),
    (L, REMOTE, REMOTE): Sees(bar=False, names=UNKNOWN_AGENT),
    **{(C, h, c): Sees(bar=False, names=UNKNOWN_AGENT) for h in Location for c in Location},
    **{(F, h, c): Sees(bar=False, names="resolved") for h in Location for c in Location},
}


@pytest.mark.parametrize(("profile", "host", "child"), list(PARENT_LINK))
async def test_parent_link(
    profile: Profile, host: Location, child: Location, autojump_clock: trio.abc.Clock
) -> None:
    expected = PARENT_LINK[(profile, host, child)]
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host)
        await spawn(orchestrator, ("researcher", child), ("writer", child))
        await world.open_viewer("v", "orch")
        await settle(STATUS_POLL_INTERVAL_S * 2 + 1)
        shot = await snapshot(world, "v")
        assert shot.root.value == expected.root
        assert shot.pill_bar_visible is expected.bar
        if expected.panes is not None:
            assert panes(shot) == {"researcher": expected.panes, "writer": expected.panes}


@pytest.mark.parametrize(("profile", "host", "child"), list(CHILD_LINK))
async def test_child_link(
    profile: Profile, host: Location, child: Location, autojump_clock: trio.abc.Clock
) -> None:
    expected = CHILD_LINK[(profile, host, child)]
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host, title="Planner")
        await spawn(orchestrator, ("researcher", child), ("writer", child))
        if not (await world.describe("researcher")).sharing:
            await world.agent("researcher").ref.tell(ShareByUser())  # legacy: shared by hand
        parent, sibling = task_id(world, "orch"), task_id(world, "writer")
        await world.agent("researcher").ref.tell(AppendExchange("over to you", (sibling, parent)))
        await settle()
        await world.open_viewer("v", "researcher")
        await settle(STATUS_POLL_INTERVAL_S * 2 + 1)
        shot = await snapshot(world, "v")
        assert shot.root.value == expected.root
        assert shot.pill_bar_visible is expected.bar
        if expected.names == "resolved":
            assert references(shot) == {sibling: "writer", parent: "Planner"}
        elif expected.names is not None:
            assert references(shot) == {sibling: expected.names, parent: expected.names}
        else:
            assert references(shot) == {}
