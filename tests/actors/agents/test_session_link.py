"""A local share's session is linked to its run: once, by the owner, with both ids."""

from __future__ import annotations

from collections import Counter

import pytest
import trio

from actors.hosts.agents import ShareByUser, StopSharing
from actors.rules.profiles import Profile
from actors.world import World, open_world

from .kit import (
    LOCAL,
    REMOTE,
    captured_logs,
    events_named,
    panes,
    sent,
    settle,
    snapshot,
    spawn,
    start_orchestrator,
    task_id,
    tell,
)


def link_reports(world: World) -> list[tuple[str, str, str]]:
    """(sender, task_id, session_id) of every UpdateAgentTask the task server received."""
    return [
        (r.src, r.ids.get("task_id", ""), r.ids.get("session_id", ""))
        for r in sent(world, "UpdateAgentTask", to="task-server")
    ]


def session_of(world: World, task: str) -> str | None:
    return next(r.session_id for r in world.tasks.store.rows() if r.task_id == task)


@pytest.mark.parametrize("profile", Profile)
async def test_a_local_share_links_each_session_once_with_both_ids(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL, share=False)
        await spawn(orchestrator, ("early", LOCAL))
        await tell(world, "orch", ShareByUser())
        await spawn(orchestrator, ("late", LOCAL))
        await world.open_viewer("v", "orch")
        await settle(30)
        reports = link_reports(world)
        if profile is Profile.LEGACY:
            assert reports == []
            assert world.task_requests("alice", "update_agent_task") == 0
            return
        expected = {
            (f"orch{suffix}", task_id(world, agent), (await world.describe(agent)).session_id)
            for agent, suffix in (("orch", ""), ("early", "/early"), ("late", "/late"))
        }
        assert set(reports) == expected
        assert all(n == 1 for n in Counter(reports).values())
        for _, task, session in reports:
            assert session_of(world, task) == session


async def test_a_share_started_again_links_its_new_session(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        await start_orchestrator(world, LOCAL)
        first = (await world.describe("orch")).session_id
        await tell(world, "orch", StopSharing())
        await tell(world, "orch", ShareByUser())
        second = (await world.describe("orch")).session_id
        orch = task_id(world, "orch")
        assert link_reports(world) == [("orch", orch, first), ("orch", orch, second)]
        assert session_of(world, orch) == second


async def test_no_link_is_reported_without_a_task_id(autojump_clock: trio.abc.Clock) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        await world.start_orchestrator("orch", LOCAL, first_response_after=5)
        with captured_logs() as logs:
            await tell(world, "orch", ShareByUser())
            await settle(10)
        skipped = events_named(logs, "session_link_skipped")
        assert [e["reason"] for e in skipped] == ["missing_task_id"]
        assert link_reports(world) == []
        assert session_of(world, task_id(world, "orch")) is None


@pytest.mark.parametrize("profile", Profile)
async def test_viewers_never_update_tasks(profile: Profile, autojump_clock: trio.abc.Clock) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("driver_side", LOCAL), ("cloud", REMOTE))
        await world.open_viewer("parent", "orch")
        await world.open_viewer("child", "cloud")
        await settle(60)
        assert world.task_requests("bob", "update_agent_task") == 0
        assert world.task_requests("bob", "transition_run") == 0
        assert {sender for sender, _, _ in link_reports(world)} <= {
            "orch",
            "orch/driver_side",
            "orch/cloud",
        }


@pytest.mark.parametrize("profile", Profile)
async def test_a_child_local_to_a_cloud_driver_loads_only_once_its_session_is_linked(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("worker", LOCAL))
        await world.open_viewer("parent", "orch")
        await world.open_viewer("child", "worker")
        await settle(60)
        worker = task_id(world, "worker")
        parent, child = await snapshot(world, "parent"), await snapshot(world, "child")
        if profile is Profile.LEGACY:
            # Gaps 5 and 6: the driver never reports the session, so nothing can join it.
            assert session_of(world, worker) is None
            assert panes(parent) == {"worker": "loading"}
            assert child.root.value == "loading"
        else:
            assert session_of(world, worker) == (await world.describe("worker")).session_id
            assert panes(parent) == {"worker": "loaded"}
            assert child.root.value == "loaded"
