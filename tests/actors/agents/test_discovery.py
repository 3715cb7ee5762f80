"""How a root viewer finds the children: when it polls, how often, when it stops, what it costs."""

from __future__ import annotations

import pytest
import trio

from actors.hosts.agents import AppendExchange, Finish, Location
from actors.rules.discovery import STATUS_POLL_INTERVAL_IDLE_S, STATUS_POLL_INTERVAL_S
from actors.rules.profiles import Profile
from actors.runtime.conditions import Latency, NetworkConditions, Partition
from actors.viewers.viewer import OpenBy
from actors.world import World, open_world

from .kit import (
    LOCAL,
    REMOTE,
    captured_logs,
    events_named,
    panes,
    pills,
    sent,
    settle,
    snapshot,
    spawn,
    start_orchestrator,
    task_id,
    tell,
)


def list_calls(world: World, user: str = "bob") -> int:
    return world.task_requests(user, "list_runs")


async def fetches_after(world: World, seconds: float) -> int:
    """List calls the viewers of `bob` make during the next `seconds`."""
    before = list_calls(world)
    await trio.sleep(seconds)
    return list_calls(world) - before


@pytest.mark.parametrize(
    ("profile", "host", "discovers"),
    [
        (Profile.LEGACY, LOCAL, False),  # a User share carried no task id before the change
        (Profile.LEGACY, REMOTE, True),
        (Profile.CURRENT, LOCAL, True),
        (Profile.CURRENT, REMOTE, True),
        (Profile.FOLLOWUPS, LOCAL, True),
        (Profile.FOLLOWUPS, REMOTE, True),
    ],
)
async def test_a_parent_viewer_discovers_children_only_with_an_orchestrator_task_id(
    profile: Profile, host: Location, discovers: bool, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host)
        await spawn(orchestrator, ("worker", REMOTE))
        with captured_logs() as logs:
            await world.open_viewer("v", "orch")
            await settle(STATUS_POLL_INTERVAL_S * 2 + 1)  # between polls, not on one
        observation = await world.observe("v")
        assert observation.snapshot.pill_bar_visible is discovers
        if not discovers:
            assert [e["reason"] for e in events_named(logs, "no_discovery")] == [
                "no orchestrator task id"
            ]
            assert list_calls(world) == 0
        elif profile is Profile.FOLLOWUPS:
            # One snapshot seeds the roster; the subscription after it carries the rest.
            assert list_calls(world) == observation.stats.fetches == 1
            assert world.task_requests("bob", "subscribe_children") == 1
        else:
            assert list_calls(world) == observation.stats.fetches > 0


@pytest.mark.parametrize("profile", [Profile.LEGACY, Profile.CURRENT])
async def test_polls_every_5s_while_a_child_works_and_every_30s_once_all_are_done(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("a", REMOTE), ("b", LOCAL))
        await world.open_viewer("v", "orch")
        await settle()
        assert await fetches_after(world, 60) == 60 / STATUS_POLL_INTERVAL_S
        await tell(world, "a", Finish())
        assert await fetches_after(world, 60) == 60 / STATUS_POLL_INTERVAL_S  # b still works
        await tell(world, "b", Finish())
        await settle(STATUS_POLL_INTERVAL_S)  # one more poll sees b finish
        assert await fetches_after(world, 300) == 300 / STATUS_POLL_INTERVAL_IDLE_S
        assert pills(await snapshot(world, "v"))[1:] == [("a", "success"), ("b", "success")]


@pytest.mark.parametrize("profile", [Profile.LEGACY, Profile.CURRENT])
async def test_an_empty_first_fetch_idles_until_the_next_orchestrator_exchange(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await world.open_viewer("v", "orch")
        await settle()
        idle = profile.switches().stop_polling_when_empty
        assert list_calls(world) == 1
        assert await fetches_after(world, 60) == (0 if idle else 60 / STATUS_POLL_INTERVAL_S)

        await tell(world, "orch", AppendExchange("thinking"))
        if idle:
            assert list_calls(world) == 2  # woken once, found nothing, idle again
            assert await fetches_after(world, 60) == 0
        await spawn(orchestrator, ("late", REMOTE))  # run_agents appends an exchange too
        await settle(STATUS_POLL_INTERVAL_S)
        shot = await snapshot(world, "v")
        assert pills(shot) == [("Orchestrator", None), ("late", "in_progress")]
        assert panes(shot) == {"late": "loaded"}


async def test_failed_fetches_are_retried_at_the_same_cadence(
    autojump_clock: trio.abc.Clock,
) -> None:
    outage = Partition("v", "task-server", start=0, end=22)
    conditions = NetworkConditions(partitions=[outage])
    async with open_world(Profile.CURRENT.switches(), conditions=conditions) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("worker", REMOTE))
        with captured_logs() as logs:
            await world.open_viewer("v", "orch", open_by=OpenBy.SHARE_LINK)
            await trio.sleep_until(outage.end)
            failed = len(events_named(logs, "fetch_failed"))
            assert not (await snapshot(world, "v")).pill_bar_visible
            await settle(STATUS_POLL_INTERVAL_S)
        # Joined at 3 s: fetches at 3, 8, 13 and 18 s fail, the one at 23 s succeeds.
        assert failed == 4
        assert list_calls(world) == 1
        assert panes(await snapshot(world, "v")) == {"worker": "loaded"}


@pytest.mark.parametrize(
    ("offset", "fetches", "redundant"),
    [
        (33.0, 3, 1),  # lands 1 s into the timed fetch: a second fetch, the first one wasted
        (17.0, 2, 0),  # lands during the 30 s wait: an ordinary kick
    ],
)
async def test_an_exchange_landing_while_a_timed_fetch_is_in_flight_wastes_that_fetch(
    offset: float, fetches: int, redundant: int, autojump_clock: trio.abc.Clock
) -> None:
    # Every frame takes 1 s: a fetch is in flight for 2 s, and an exchange needs 2 s
    # to travel from the orchestrator to the viewer.
    conditions = NetworkConditions(latency=Latency(base=1.0))
    async with open_world(Profile.CURRENT.switches(), conditions=conditions) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("worker", REMOTE))
        await settle(10)
        await tell(world, "worker", Finish())
        await settle(10)
        opened = trio.current_time()
        await world.open_viewer("v", "orch", open_by=OpenBy.SHARE_LINK)
        # Joined at +2 s, so the first fetch leaves then and its answer (every child
        # done) comes back at +4 s: the timed fetch leaves at +34 s.
        await trio.sleep_until(opened + 2.5)
        assert (await world.observe("v")).stats.fetches == 1
        await trio.sleep_until(opened + offset)
        await orchestrator.ref.tell(AppendExchange("any news?"))
        await settle(10)
        stats = (await world.observe("v")).stats
        assert (stats.fetches, stats.redundant_fetches) == (fetches, redundant)


@pytest.mark.parametrize("profile", [Profile.LEGACY, Profile.CURRENT])
async def test_only_root_viewers_poll_and_each_for_its_own_conversation(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("a", REMOTE), ("b", REMOTE))
        await world.open_viewer("parent", "orch")
        await world.open_viewer("child", "a")
        await settle(60)
        assert panes(await snapshot(world, "parent")) == {"a": "loaded", "b": "loaded"}
        asked: dict[str, set[str]] = {"parent": set(), "child": set()}
        for record in sent(world, "ListRuns", to="task-server"):
            asked[record.src].add(record.ids["parent_run_id"])
        assert asked == {"parent": {task_id(world, "orch")}, "child": {task_id(world, "a")}}


@pytest.mark.parametrize("host", [LOCAL, REMOTE])
async def test_pushed_discovery_lists_once_then_children_appear_load_and_update(
    host: Location, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(Profile.FOLLOWUPS.switches()) as world:
        orchestrator = await start_orchestrator(world, host)
        await spawn(orchestrator, ("early", LOCAL))
        await world.open_viewer("v", "orch")
        await spawn(orchestrator, ("cloud", REMOTE), ("late", LOCAL))
        await tell(world, "cloud", Finish())
        shot = await snapshot(world, "v")
        assert pills(shot) == [
            ("Orchestrator", None),
            ("early", "in_progress"),
            ("cloud", "success"),
            ("late", "in_progress"),
        ]
        assert panes(shot) == {"early": "loaded", "cloud": "loaded", "late": "loaded"}
        await settle(600)
        assert list_calls(world) == 1
        assert world.task_requests("bob", "subscribe_children") == 1
        stats = (await world.observe("v")).stats
        assert stats.fetches == 1
        assert stats.pushes > 0
