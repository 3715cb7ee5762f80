"""A child that orchestrates: it spawns, shares and stops its own children as the
orchestrator does for its own, one level down, and its runs hang under its run."""

from __future__ import annotations

import trio

from actors.hosts.agents import ChildAgent, Location, ShareByUser, SpawnChild, StopSharing
from actors.rules.profiles import Profile
from actors.world import World, open_world
from protocol.source import AmbientAgent, User

from .kit import LOCAL, REMOTE, captured_logs, events_named, settle, spawn, start_orchestrator, tell
from .kit import task_id as run_of


async def spawn_under(world: World, parent: str, name: str, location: Location) -> None:
    """`run_agents` on a child: `name` becomes `parent`'s child."""
    await world.agent(parent).ref.tell(SpawnChild(name, location))
    await settle()


async def sharing(world: World, agent: str) -> bool:
    return (await world.describe(agent)).sharing


async def test_a_childs_children_are_runs_under_the_childs_run(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("lead", REMOTE))
        await spawn_under(world, "lead", "scout", LOCAL)
        await spawn_under(world, "lead", "scribe", REMOTE)
        rows = {row.task_id: row for row in world.tasks.store.rows()}
        assert rows[run_of(world, "lead")].parent_run_id == run_of(world, "orch")
        for grandchild in ("scout", "scribe"):
            assert rows[run_of(world, grandchild)].parent_run_id == run_of(world, "lead")
        assert set(orchestrator.children) == {run_of(world, "lead")}
        assert (await world.describe("lead")).children == (
            run_of(world, "scout"),
            run_of(world, "scribe"),
        )


async def test_a_local_grandchild_inherits_its_hosts_share_kind_with_its_own_task_id(
    autojump_clock: trio.abc.Clock,
) -> None:
    """On a cloud driver the inherited share is AmbientAgent; on the user's client, User."""
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("lead", REMOTE))
        await spawn_under(world, "lead", "scout", LOCAL)
        scout = world.agent("scout")
        assert scout.share is not None
        assert scout.share.source.source_type == AmbientAgent(run_of(world, "scout"))
        row = next(r for r in world.tasks.store.rows() if r.task_id == run_of(world, "scout"))
        assert row.session_id == scout.share.session_id  # the driver reported it

    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await spawn(orchestrator, ("lead", LOCAL))
        await spawn_under(world, "lead", "scout", LOCAL)
        scout = world.agent("scout")
        assert scout.share is not None
        assert scout.share.source.source_type == User()
        assert scout.share.source.source_task_id == run_of(world, "scout")


async def test_the_catch_up_reaches_grandchildren_through_each_childs_own_share(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Only direct children are caught up by a share; each child's share, once
    established, catches up its own children (client notes 1.6, 4.3)."""
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL, share=False)
        await spawn(orchestrator, ("lead", LOCAL))
        await spawn_under(world, "lead", "scout", LOCAL)
        assert not await sharing(world, "scout")
        with captured_logs() as logs:
            await tell(world, "orch", ShareByUser())
        caught_up = events_named(logs, "catch_up_share")
        assert [(e["actor"], e["child"]) for e in caught_up] == [
            ("orch", run_of(world, "lead")),
            ("orch/lead", run_of(world, "scout")),
        ]
        assert await sharing(world, "lead")
        assert await sharing(world, "scout")


async def test_stopping_the_orchestrators_share_stops_inherited_shares_down_the_chain(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await spawn(orchestrator, ("lead", LOCAL), ("cloud", REMOTE))
        await spawn_under(world, "lead", "scout", LOCAL)
        await spawn_under(world, "cloud", "far", LOCAL)
        for agent in ("lead", "scout", "cloud", "far"):
            assert await sharing(world, agent), agent
        await tell(world, "orch", StopSharing())
        assert not await sharing(world, "lead")
        assert not await sharing(world, "scout")
        assert await sharing(world, "cloud")  # shares on its own, in the cloud
        assert await sharing(world, "far")  # inherited from the cloud child, not from orch


async def test_a_child_whose_launch_failed_spawns_nothing(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await orchestrator.ref.tell(SpawnChild("broken", LOCAL, launch_fails=True))
        await settle()
        with captured_logs() as logs:
            await spawn_under(world, "broken", "orphan", LOCAL)
        assert [e["reason"] for e in events_named(logs, "spawn_refused")] == ["never ran"]
        broken = world.agent("broken")
        assert isinstance(broken, ChildAgent)
        assert broken.children == {}
