"""The known issue: a viewer that joined before the orchestrator's first response."""

from __future__ import annotations

import pytest
import trio

from actors.hosts.agents import ShareByUser
from actors.rules.discovery import STATUS_POLL_INTERVAL_S
from actors.rules.profiles import Profile
from actors.world import open_world

from .kit import (
    LOCAL,
    captured_logs,
    events_named,
    panes,
    pills,
    settle,
    snapshot,
    spawn,
    task_id,
)


@pytest.mark.parametrize("profile", Profile)
async def test_a_viewer_that_joined_before_the_first_response_gets_a_bar_only_with_the_push(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await world.start_orchestrator("orch", LOCAL, first_response_after=10)
        await orchestrator.ref.tell(ShareByUser())
        await settle()
        with captured_logs() as logs:
            await world.open_viewer("early", "orch")
            await settle(10)  # the first response lands
            await spawn(orchestrator, ("worker", LOCAL))
            await settle(STATUS_POLL_INTERVAL_S * 6)
        shot = await snapshot(world, "early")
        joined = [e for e in events_named(logs, "joined") if e["actor"] == "early"]
        assert [e["source_task_id"] for e in joined] == [None]
        pushed = [e["source_task_id"] for e in events_named(logs, "source_task_id_pushed")]
        if profile.switches().push_source_task_id:
            assert pushed == [task_id(world, "orch")]
            assert pills(shot) == [("Orchestrator", None), ("worker", "in_progress")]
            assert panes(shot) == {"worker": "loaded"}
        else:
            assert pushed == []
            assert not shot.pill_bar_visible
            assert (await world.observe("early")).stats.fetches == 0
            # The sharer did learn its task id: in the merged design the child still cascades.
            shared = (await world.describe("worker")).sharing
            assert shared is (profile is Profile.CURRENT)


@pytest.mark.parametrize("push_children", [True, False])
async def test_a_teammate_who_joined_before_the_first_response_may_list_the_children_later(
    push_children: bool, autojump_clock: trio.abc.Clock
) -> None:
    """Access is the team's, not granted at join time, so the pushed task id is enough."""
    switches = Profile.FOLLOWUPS.switches().with_overrides({"push_child_discovery": push_children})
    async with open_world(switches) as world:
        orchestrator = await world.start_orchestrator("orch", LOCAL, first_response_after=10)
        await orchestrator.ref.tell(ShareByUser())
        await settle()
        await world.open_viewer("early", "orch")
        await settle(10)
        await spawn(orchestrator, ("worker", LOCAL))
        await settle(STATUS_POLL_INTERVAL_S * 2)
        shot = await snapshot(world, "early")
        assert pills(shot) == [("Orchestrator", None), ("worker", "in_progress")]
        assert world.task_requests("bob", "list_runs") >= 1
