"""What the pill bar shows: every child in spawn order, live statuses, panes, and its scope."""

from __future__ import annotations

import pytest
import trio

from actors.hosts.agents import Finish, Location, ShareByUser, SpawnChild
from actors.rules.discovery import STATUS_POLL_INTERVAL_S
from actors.rules.pill_bar import PaneState
from actors.rules.profiles import Profile
from actors.runtime.backoff import delays
from actors.runtime.conditions import Latency, NetworkConditions, Partition
from actors.viewers.viewer import OpenBy
from actors.world import open_world
from protocol import RunState

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
    tell,
)

#: One poll and a little: long enough for any change to reach a polling viewer.
CATCH_UP_S = STATUS_POLL_INTERVAL_S + 1
#: How long a view keeps trying to reconnect before it gives up.
RECONNECT_BUDGET_S = sum(delays())

#: Orchestrations whose parent link shows a pill bar in every profile, or only after the change.
ALL_PROFILES = [(p, REMOTE) for p in Profile]
WITH_A_BAR = [*ALL_PROFILES, (Profile.CURRENT, LOCAL), (Profile.FOLLOWUPS, LOCAL)]


@pytest.mark.parametrize(("profile", "host"), WITH_A_BAR)
async def test_children_appear_in_spawn_order_whenever_they_spawn(
    profile: Profile, host: Location, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host)
        await spawn(orchestrator, ("planner", REMOTE), ("coder", LOCAL))
        await world.open_viewer("v", "orch")
        await spawn(orchestrator, ("tester", REMOTE), ("reviewer", LOCAL))
        await settle(CATCH_UP_S)
        shot = await snapshot(world, "v")
        assert shot.pill_bar_visible
        assert [label for label, _ in pills(shot)] == [
            "Orchestrator",
            "planner",
            "coder",
            "tester",
            "reviewer",
        ]
        assert [p.task_id for p in shot.pills[1:]] == [
            task_id(world, name) for name in ("planner", "coder", "tester", "reviewer")
        ]


@pytest.mark.parametrize(("profile", "host"), WITH_A_BAR)
async def test_statuses_follow_the_runs(
    profile: Profile, host: Location, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host)
        children = [("done", REMOTE), ("broke", LOCAL), ("stopped", REMOTE), ("busy", LOCAL)]
        await spawn(orchestrator, *children)
        await world.open_viewer("v", "orch")
        await settle(CATCH_UP_S)
        assert {status for _, status in pills(await snapshot(world, "v"))[1:]} == {"in_progress"}
        await tell(world, "done", Finish())
        await tell(world, "broke", Finish(RunState.FAILED))
        await tell(world, "stopped", Finish(RunState.CANCELLED))
        await settle(CATCH_UP_S)
        assert pills(await snapshot(world, "v"))[1:] == [
            ("done", "success"),
            ("broke", "error"),
            ("stopped", "cancelled"),
            ("busy", "in_progress"),
        ]


@pytest.mark.parametrize(("profile", "host"), WITH_A_BAR)
async def test_a_child_whose_launch_failed_shows_as_an_unavailable_error(
    profile: Profile, host: Location, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host)
        await orchestrator.ref.tell(SpawnChild("broken", REMOTE, launch_fails=True))
        await spawn(orchestrator, ("fine", REMOTE))
        await world.open_viewer("v", "orch")
        await settle(CATCH_UP_S)
        shot = await snapshot(world, "v")
        assert pills(shot)[1:] == [("broken", "error"), ("fine", "in_progress")]
        assert panes(shot) == {"broken": "unavailable", "fine": "loaded"}
        assert shot.root is PaneState.LOADED


@pytest.mark.parametrize(
    ("profile", "host", "child"),
    [
        *[(p, REMOTE, REMOTE) for p in Profile],
        (Profile.CURRENT, REMOTE, LOCAL),
        (Profile.CURRENT, LOCAL, LOCAL),
        (Profile.FOLLOWUPS, LOCAL, LOCAL),
    ],
)
async def test_a_child_that_finished_before_the_viewer_joined_still_appears_and_opens(
    profile: Profile, host: Location, child: Location, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host)
        await spawn(orchestrator, ("finished", child))
        await tell(world, "finished", Finish())
        await settle(60)
        await world.open_viewer("v", "orch")
        await settle(CATCH_UP_S)
        shot = await snapshot(world, "v")
        assert pills(shot) == [("Orchestrator", None), ("finished", "success")]
        assert panes(shot) == {"finished": "loaded"}


@pytest.mark.parametrize("profile", [Profile.CURRENT, Profile.FOLLOWUPS])
async def test_local_children_that_ended_before_their_host_was_shared_stay_loading(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    """The shipped client's behaviour, which contradicts behaviour 28.

    Behaviour 28 says completed children stay reachable from the parent. In the
    client the catch-up shares the ended children, but the task server's link
    gate takes a session only while a run is CLAIMED or RUNNING, so neither run
    ever carries one and both pills stay loading. The failed child started
    before it failed, so it keeps its error and is no failed launch (48).
    """
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL, share=False)
        await spawn(orchestrator, ("done", LOCAL), ("crashed", LOCAL))
        await tell(world, "done", Finish())
        await tell(world, "crashed", Finish(RunState.FAILED))
        with captured_logs() as logs:
            await tell(world, "orch", ShareByUser())
        assert (await world.describe("done")).sharing  # the catch-up did share it
        refused = {e["task_id"] for e in events_named(logs, "session_link_refused")}
        assert refused == {task_id(world, "done"), task_id(world, "crashed")}
        await world.open_viewer("v", "orch")
        await settle(CATCH_UP_S)
        shot = await snapshot(world, "v")
        assert pills(shot)[1:] == [("done", "success"), ("crashed", "error")]
        assert panes(shot) == {"done": "loading", "crashed": "loading"}


@pytest.mark.parametrize("profile", Profile)
@pytest.mark.parametrize("outage", ["dropped", "partitioned"])
async def test_the_bar_keeps_what_it_knew_through_a_lost_connection_then_reconciles(
    profile: Profile, outage: str, autojump_clock: trio.abc.Clock
) -> None:
    cut = Partition("v", "session-server", start=30, end=90)
    cut_tasks = Partition("v", "task-server", start=30, end=90)
    partitions = [cut, cut_tasks] if outage == "partitioned" else []
    conditions = NetworkConditions(partitions=partitions)
    async with open_world(profile.switches(), conditions=conditions) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("a", REMOTE), ("b", REMOTE))
        await world.open_viewer("v", "orch", open_by=OpenBy.SHARE_LINK)
        await settle(20)
        before = await snapshot(world, "v")
        assert pills(before)[1:] == [("a", "in_progress"), ("b", "in_progress")]

        await trio.sleep_until(31)
        if outage == "dropped":
            for link in world.simulation.network.links_between("v", "session-server"):
                await link.drop()
        lost = await snapshot(world, "v")
        assert (lost.pills, lost.panes) == (before.pills, before.panes)
        await tell(world, "a", Finish())
        await spawn(orchestrator, ("c", REMOTE))
        if outage == "partitioned":
            during = await snapshot(world, "v")
            assert (during.pills, during.panes) == (before.pills, before.panes)

        await trio.sleep_until(cut.end + RECONNECT_BUDGET_S / 4 + CATCH_UP_S)
        after = await snapshot(world, "v")
        assert pills(after)[1:] == [("a", "success"), ("b", "in_progress"), ("c", "in_progress")]
        assert panes(after) == {"a": "loaded", "b": "loaded", "c": "loaded"}
        assert after.root is PaneState.LOADED


async def test_a_child_pane_opened_during_an_outage_loads_once_the_network_is_back(
    autojump_clock: trio.abc.Clock,
) -> None:
    cut = Partition("v", "session-server", start=20, end=50)
    async with open_world(
        Profile.CURRENT.switches(), conditions=NetworkConditions(partitions=[cut])
    ) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("before", REMOTE))  # keeps the viewer polling
        await world.open_viewer("v", "orch")
        await trio.sleep_until(25)
        await spawn(orchestrator, ("during", REMOTE))
        await settle(CATCH_UP_S)
        assert panes(await snapshot(world, "v")) == {"before": "loaded", "during": "loading"}
        await trio.sleep_until(cut.end + RECONNECT_BUDGET_S / 4)
        assert panes(await snapshot(world, "v")) == {"before": "loaded", "during": "loaded"}


async def test_a_child_pane_that_never_connects_gives_up_and_the_rest_stays_usable(
    autojump_clock: trio.abc.Clock,
) -> None:
    cut = Partition("v", "session-server", start=20, end=20 + 2 * RECONNECT_BUDGET_S)
    async with open_world(
        Profile.CURRENT.switches(), conditions=NetworkConditions(partitions=[cut])
    ) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("before", REMOTE))
        await world.open_viewer("v", "orch")
        await trio.sleep_until(25)
        with captured_logs() as logs:
            await spawn(orchestrator, ("during", REMOTE))
            await settle(RECONNECT_BUDGET_S + CATCH_UP_S)
        gave_up_events = events_named(logs, "view_gave_up")
        assert task_id(world, "during") in {e["view"] for e in gave_up_events}
        assert all(e["decision"] is True for e in gave_up_events), "the trace keeps the give-up"
        shot = await snapshot(world, "v")
        assert pills(shot)[1:] == [("before", "in_progress"), ("during", "in_progress")]
        assert panes(shot) == {"before": "loaded", "during": "unavailable"}


@pytest.mark.parametrize("profile", Profile)
@pytest.mark.parametrize(("host", "child"), [(h, c) for h in Location for c in Location])
async def test_a_child_link_never_shows_or_reaches_the_parent_or_siblings(
    profile: Profile, host: Location, child: Location, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host)
        await spawn(orchestrator, ("target", child), ("sibling", child))
        if not (await world.describe("target")).sharing:
            await tell(world, "target", ShareByUser())  # legacy: a local child is shared by hand
        await world.open_viewer("v", "target")
        await spawn(orchestrator, ("later", child))
        await tell(world, "target", Finish())
        await settle(60)
        shot = await snapshot(world, "v")
        assert not shot.pill_bar_visible
        assert shot.pills == ()
        assert shot.panes == ()
        viewer = world.viewers["v"]
        assert viewer.panes == {}
        reachable = set(viewer.directory.navigable_ids())
        assert reachable <= {task_id(world, "target")}


async def test_a_child_pane_joins_on_the_first_poll_that_sees_its_session(
    autojump_clock: trio.abc.Clock,
) -> None:
    # With 0.5 s frames a new child's row exists a few seconds before its session is
    # linked; sampling every half second, off the frames' beat, shows both phases.
    conditions = NetworkConditions(latency=Latency(base=0.5))
    async with open_world(Profile.CURRENT.switches(), conditions=conditions) as world:
        orchestrator = await world.start_orchestrator("orch", REMOTE)
        await spawn(orchestrator, ("first", REMOTE))  # keeps the viewer polling
        await settle(5)
        await world.open_viewer("v", "orch", open_by=OpenBy.SHARE_LINK)
        await settle(10.25)
        await orchestrator.ref.tell(SpawnChild("second", REMOTE))
        timeline: list[tuple[float, bool, str | None]] = []
        for _ in range(40):
            await trio.sleep(0.5)
            shot = await snapshot(world, "v")
            row = world.tasks.store.rows()
            linked = any(r.title == "second" and r.session_id for r in row)
            timeline.append((trio.current_time(), linked, panes(shot).get("second")))
        unlinked_pill = [t for t, linked, pane in timeline if pane == "loading" and not linked]
        linked_at = min(t for t, linked, _ in timeline if linked)
        loaded_at = min(t for t, _, pane in timeline if pane == "loaded")
        assert unlinked_pill, "the pill should show before the session exists"
        # At most one poll later, plus the fetch's and the join's round trips (1 s each)
        # and the half second between samples.
        assert linked_at < loaded_at <= linked_at + STATUS_POLL_INTERVAL_S + 2.5
