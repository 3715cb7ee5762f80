"""Who may read what: the owner's team reads her runs, a link-only viewer only the session."""

from __future__ import annotations

import pytest
import trio

from actors.hosts.agents import AppendExchange, ShareByUser
from actors.rules.discovery import REFUSAL_BACKOFF_S, STATUS_POLL_INTERVAL_S
from actors.rules.profiles import Profile
from actors.viewers.viewer import OpenBy
from actors.world import World, open_world

from .kit import (
    LOCAL,
    REMOTE,
    captured_logs,
    events_named,
    panes,
    pills,
    settle,
    snapshot,
    spawn,
    start_orchestrator,
    task_id,
)

STRANGER = "mallory"


def list_calls(world: World, user: str) -> int:
    return world.task_requests(user, "list_runs")


async def test_a_link_only_viewer_gets_the_transcript_but_no_pill_bar(
    autojump_clock: trio.abc.Clock,
) -> None:
    """As merged: the session opens for the link, the children's rows do not.

    Every listing is refused, and the shipped poller reschedules a refused
    fetch at its usual 5 s, so the refusals go on as long as the view does.
    """
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await spawn(orchestrator, ("worker", LOCAL))
        with captured_logs() as logs:
            await world.open_viewer("outsider", "orch", user=STRANGER)
            await world.open_viewer("teammate", "orch")
            await settle()
            mention = (task_id(world, "worker"),)
            await orchestrator.ref.tell(AppendExchange("asked worker", mention))
            await settle()
            listed = list_calls(world, STRANGER)
            await trio.sleep(STATUS_POLL_INTERVAL_S * 12)
        outsider = await snapshot(world, "outsider")
        assert outsider.root.value == "loaded"
        assert [r.agent_id for r in outsider.references] == [task_id(world, "worker")]
        assert not outsider.pill_bar_visible
        assert panes(outsider) == {}
        assert list_calls(world, STRANGER) - listed == 12
        reasons = {e["reason"] for e in events_named(logs, "fetch_failed")}
        assert reasons == {f"no run {task_id(world, 'orch')}"}
        teammate = await snapshot(world, "teammate")
        assert pills(teammate) == [("Orchestrator", None), ("worker", "in_progress")]
        assert panes(teammate) == {"worker": "loaded"}


async def test_with_error_backoff_a_link_only_viewer_stops_asking_after_three_refusals(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The polling spec's backoff: refused at once, after 30 s and after 60 s, then no more."""
    switches = Profile.CURRENT.switches().with_overrides({"fetch_error_backoff": True})
    async with open_world(switches) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await spawn(orchestrator, ("worker", LOCAL))
        with captured_logs() as logs:
            await world.open_viewer("outsider", "orch", user=STRANGER)
            await trio.sleep(REFUSAL_BACKOFF_S * 10)
        assert list_calls(world, STRANGER) == 3
        assert [e["parent_task_id"] for e in events_named(logs, "discovery_gave_up")] == [
            task_id(world, "orch")
        ]
        outsider = await world.observe("outsider")
        assert outsider.snapshot.root.value == "loaded"
        assert not outsider.snapshot.pill_bar_visible
        assert outsider.stats.fetches == 3


async def test_the_run_page_of_a_cloud_agent_is_no_way_in_for_a_stranger(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A stranger holds the share link, so that is what opens; the run page finds no run."""
    async with open_world(Profile.CURRENT.switches()) as world:
        await start_orchestrator(world, REMOTE)
        await world.open_viewer("outsider", "orch", user=STRANGER)
        await world.open_viewer("lost", "orch", user="carol", open_by=OpenBy.RUN)
        await settle()
        assert world.viewers["outsider"].link.open_by is OpenBy.SHARE_LINK
        assert (await snapshot(world, "outsider")).root.value == "loaded"
        assert (await snapshot(world, "lost")).root.value == "unavailable"
        assert world.task_requests("carol", "get_run") == 1


@pytest.mark.parametrize("push_child_discovery", [True, False])
async def test_a_teammate_who_joined_before_the_task_id_lists_children_once_it_is_known(
    push_child_discovery: bool, autojump_clock: trio.abc.Clock
) -> None:
    """Access follows the run, not the moment of joining: the pushed task id is enough.

    With the task id pushed but children polled, the viewer's listings of a
    run that did not exist when it joined are answered like any teammate's;
    with the child stream, its one snapshot and its subscription are.
    """
    switches = Profile.FOLLOWUPS.switches().with_overrides(
        {"push_child_discovery": push_child_discovery}
    )
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
        assert panes(shot) == {"worker": "loaded"}
        subscriptions = world.task_requests("bob", "subscribe_children")
        if push_child_discovery:  # one snapshot, then the stream
            assert (list_calls(world, "bob"), subscriptions) == (1, 1)
        else:
            assert (list_calls(world, "bob") > 1, subscriptions) == (True, 0)
