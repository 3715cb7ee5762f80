"""A viewer works out its scope from what it opened, as the client does: nothing tells it.

The client has no scope flag. It joins a session, reads the run id the share
carries, lists that run's children and shows a pill bar when there are some;
the conversation it shows says, from its first response, whether it has a
parent. So a viewer that opens a child's session by its bare route is a child
view however it was started, and the link of a child that orchestrates opens a
view of that child's own orchestration.
"""

from __future__ import annotations

import trio

from actors.hosts.agents import SpawnChild
from actors.rules.pill_bar import PaneState
from actors.rules.profiles import Profile
from actors.rules.view import ViewScope
from actors.rules.viewer_client import DONE, ClientKind
from actors.viewers.person import CopyLink, SelectPill
from actors.viewers.viewer import OpenBy, Viewer, ViewerLink
from actors.world import World, open_world

from .kit import REMOTE, settle, snapshot, spawn, start_orchestrator, task_id


async def _open_route(world: World, name: str, agent: str) -> Viewer:
    """A viewer started on `agent`'s join route by hand, without the world's help."""
    route = (await world.describe(agent)).join_route
    assert route is not None
    viewer = Viewer(
        name,
        world.simulation.network,
        ViewerLink(OpenBy.SHARE_LINK, route=route),
        world.switches,
        user="bob",
        task_token=world.task_token("user:bob"),
    )
    world.viewers[name] = viewer
    await world.simulation.stage.start(viewer)
    await settle()
    return viewer


async def test_a_bare_route_gives_the_scope_of_the_session_it_opens(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("researcher", REMOTE), ("writer", REMOTE))
        await settle(5)
        parent = await _open_route(world, "parent", "orch")
        child = await _open_route(world, "child", "researcher")
        await settle(5)
        assert parent.scope is ViewScope.PARENT
        assert child.scope is ViewScope.CHILD
        parent_shot, child_shot = await snapshot(world, "parent"), await snapshot(world, "child")
        assert (parent_shot.scope, parent_shot.pill_bar_visible) == (ViewScope.PARENT, True)
        assert (child_shot.scope, child_shot.pill_bar_visible) == (ViewScope.CHILD, False)
        assert child_shot.root is PaneState.LOADED


async def test_a_childs_link_is_a_child_view_before_and_after_a_handoff(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("researcher", REMOTE))
        await settle(5)
        await world.open_viewer("v", "researcher", open_by=OpenBy.RUN, client=ClientKind.WEB)
        await settle(10)
        assert world.viewers["v"].scope is ViewScope.CHILD
        desktop = await world.handoff("v", ClientKind.NATIVE)
        await settle(5)
        assert desktop.link == ViewerLink(OpenBy.SHARE_LINK, route=desktop.link.route)
        assert desktop.scope is ViewScope.CHILD
        assert (await snapshot(world, "v")).pill_bar_visible is False


async def test_the_link_of_a_child_that_orchestrates_opens_its_orchestration(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Built on the child's run, the view lists the child's own children: a pill bar
    whose pills the person can select, and a copy of the view's link opens the same."""
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("lead", REMOTE))
        await world.agent("lead").ref.tell(SpawnChild("scout", REMOTE))
        await settle(5)
        watcher = await world.open_viewer("watcher", "lead")
        await settle(10)
        assert watcher.scope is ViewScope.PARENT
        shot = await snapshot(world, "watcher")
        assert [pill.label for pill in shot.pills] == ["Orchestrator", "scout"]
        await watcher.ref.tell(SelectPill(task_id(world, "scout")))
        await settle()
        observation = await world.observe("watcher")
        assert observation.client is not None
        assert observation.client.selected == task_id(world, "scout")
        assert observation.client.actions[-1].result == DONE
        await watcher.ref.tell(SelectPill(None))
        await settle()
        copied = await watcher.ref.ask(CopyLink(), sender="test")
        assert copied is not None
        assert copied.scope is ViewScope.PARENT
