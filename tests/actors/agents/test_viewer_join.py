"""How a viewer reaches a session: a share link, or a run's web page that waits for a session."""

from __future__ import annotations

import pytest
import trio

from actors.hosts.agents import SpawnChild
from actors.rules.pill_bar import PaneState
from actors.rules.profiles import Profile
from actors.rules.view import ViewScope
from actors.runtime.conditions import Latency, NetworkConditions
from actors.viewers.viewer import PENDING_SESSION_POLL_S, OpenBy, Viewer, ViewerLink
from actors.world import WorldError, open_world

from .kit import LOCAL, REMOTE, settle, snapshot, spawn, start_orchestrator, task_id


@pytest.mark.parametrize("profile", Profile)
async def test_share_links_open_parent_and_child_views(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await spawn(orchestrator, ("cloud", REMOTE))
        parent = await world.open_viewer("parent", "orch")
        child = await world.open_viewer("child", "cloud")
        await settle()
        assert parent.link.open_by is OpenBy.SHARE_LINK
        assert child.link.open_by is OpenBy.RUN  # a cloud child is opened from its run page
        for name, scope in (("parent", ViewScope.PARENT), ("child", ViewScope.CHILD)):
            shot = await snapshot(world, name)
            assert (shot.scope, shot.root) == (scope, PaneState.LOADED)
        assert parent.root is not None
        assert parent.root.session_id == (await world.describe("orch")).session_id


async def test_an_unshared_local_agent_has_no_link_to_open(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        await start_orchestrator(world, LOCAL, share=False)
        with pytest.raises(WorldError, match="orch is not sharing"):
            await world.open_viewer("v", "orch")


async def test_a_run_page_shows_loading_until_the_run_has_a_session(
    autojump_clock: trio.abc.Clock,
) -> None:
    # With latency, the child's share takes a few round trips to be linked to its run.
    conditions = NetworkConditions(latency=Latency(base=0.5))
    async with open_world(Profile.CURRENT.switches(), conditions=conditions) as world:
        orchestrator = await world.start_orchestrator("orch", REMOTE)
        await settle(5)
        await orchestrator.ref.tell(SpawnChild("worker", LOCAL))
        await settle(2)
        assert (await world.describe("worker")).session_id is None
        await world.open_viewer("v", "worker", open_by=OpenBy.RUN)
        # Frames land on half seconds; looking a quarter second off never ties with one.
        await settle(1.25)
        assert (await snapshot(world, "v")).root is PaneState.LOADING
        await settle(PENDING_SESSION_POLL_S * 2)
        assert (await snapshot(world, "v")).root is PaneState.LOADED


async def test_a_run_the_viewer_may_not_see_is_unavailable(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        await start_orchestrator(world, REMOTE)
        link = ViewerLink(OpenBy.RUN, task_id=task_id(world, "orch"))
        stranger = Viewer(
            "stranger",
            world.simulation.network,
            link,
            world.switches,
            user="eve",
            task_token=world.task_token("user:eve"),
        )
        world.viewers["stranger"] = stranger
        await world.simulation.stage.start(stranger)
        await settle(PENDING_SESSION_POLL_S * 3)
        assert (await snapshot(world, "stranger")).root is PaneState.UNAVAILABLE
        assert world.task_requests("eve", "get_run") == 1
