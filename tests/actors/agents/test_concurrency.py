"""A host never waits on a remote reply in its mailbox: its operations interleave.

As in the client, a share click, a spawn's task-row creation, the first
response, the catch-up and the link reports are independent operations; what
the client read before awaiting a reply stays what it read (the host's share
source for a new local child).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
import trio

from actors.hosts.agents import AppendExchange, Orchestrator, ShareByUser, SpawnChild
from actors.rules.profiles import Profile
from actors.runtime.conditions import Latency, NetworkConditions
from actors.world import World, open_world

from .kit import LOCAL, events_named, panes, settle, snapshot, task_id

#: Every frame takes half a second, so a task call is in flight for a whole second.
HALF_SECOND = NetworkConditions(latency=Latency(base=0.5))


def _stamp(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event["t"] = trio.current_time()
    return event


@contextmanager
def timed_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """Every log event with the virtual time it was emitted at."""
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars, _stamp]
    ) as events:
        yield events


def at(events: list[MutableMapping[str, Any]], name: str, actor: str = "orch") -> float:
    """When `actor` logged `name` (once)."""
    (event,) = [e for e in events_named(events, name) if e["actor"] == actor]
    time: float = event["t"]
    return time


async def running_orchestrator(world: World) -> Orchestrator:
    """A local, unshared orchestrator past its first response and claim."""
    orchestrator = await world.start_orchestrator("orch", LOCAL)
    await settle(5)
    assert orchestrator.task_id is not None
    return orchestrator


async def drop_task_links(world: World) -> None:
    """Lose whatever the orchestrator has on the wire to the task server; it retries later."""
    for link in world.simulation.network.links_between("orch", "task-server"):
        await link.drop()


async def test_a_share_asked_while_a_task_call_is_in_flight_is_handled_before_its_reply(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches(), conditions=HALF_SECOND) as world:
        orchestrator = await running_orchestrator(world)
        with timed_logs() as logs:
            spawned_at = trio.current_time()
            await orchestrator.ref.tell(SpawnChild("worker", LOCAL))
            await trio.sleep(0.1)
            await orchestrator.ref.tell(ShareByUser())
            await settle(5)
        # The share is handled the instant it is asked, while the row is being created.
        assert at(logs, "share_requested") == spawned_at + 0.1
        assert at(logs, "child_spawned") == spawned_at + 1.0
        # The row came back first, so the share's catch-up finds the child.
        assert at(logs, "share_established") == spawned_at + 1.1
        caught_up = [e["child"] for e in events_named(logs, "catch_up_share")]
        assert caught_up == [task_id(world, "worker")]
        assert (await world.describe("worker")).sharing


async def test_a_child_whose_source_was_read_before_the_share_began_stays_unshared(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The create-time race (client notes 4.4): the child's row comes back after the
    host's share is up and its one-shot catch-up ran, and the host source the spawn
    read before awaiting the row was "not sharing", so the child is never shared."""
    async with open_world(Profile.CURRENT.switches(), conditions=HALF_SECOND) as world:
        orchestrator = await running_orchestrator(world)
        with timed_logs() as logs:
            await orchestrator.ref.tell(SpawnChild("worker", LOCAL))
            await trio.sleep(0.1)
            await drop_task_links(world)  # the create is retried after a backoff
            await orchestrator.ref.tell(ShareByUser())
            await settle(10)
        assert at(logs, "share_established") < at(logs, "child_spawned")
        assert events_named(logs, "catch_up_share") == []
        assert (await world.describe("orch")).sharing
        assert not (await world.describe("worker")).sharing

        await world.open_viewer("viewer", "orch")
        await settle(60)
        shot = await snapshot(world, "viewer")
        assert [p.label for p in shot.pills] == ["Orchestrator", "worker"]
        assert panes(shot) == {"worker": "loading"}
        worker = next(r for r in world.tasks.store.rows() if r.task_id == task_id(world, "worker"))
        assert worker.state.value == "CLAIMED"
        assert worker.session_id is None


async def test_a_child_whose_source_was_read_after_the_share_was_asked_inherits_it(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The same delays with the click first: the pending share is the snapshot, so the
    child inherits at creation even though it is created after the catch-up ran."""
    async with open_world(Profile.CURRENT.switches(), conditions=HALF_SECOND) as world:
        orchestrator = await running_orchestrator(world)
        with timed_logs() as logs:
            await orchestrator.ref.tell(ShareByUser())
            await orchestrator.ref.tell(SpawnChild("worker", LOCAL))
            await trio.sleep(0.1)
            await drop_task_links(world)
            await settle(10)
        assert at(logs, "share_established") < at(logs, "child_spawned")
        assert events_named(logs, "catch_up_share") == []
        assert (await world.describe("worker")).sharing


async def test_an_exchange_streamed_while_a_child_row_is_created_can_find_no_child_yet(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The idle-versus-spawn race (client notes 4.4): a viewer idle after an empty first
    fetch is woken by an orchestrator exchange streamed while `run_agents` is still
    creating the row; its fetch comes back empty and it idles again, until the next
    exchange (the spawn's own, once the row exists) wakes it and it finds the child."""
    async with open_world(Profile.CURRENT.switches(), conditions=HALF_SECOND) as world:
        orchestrator = await running_orchestrator(world)
        await orchestrator.ref.tell(ShareByUser())
        await settle(5)
        await world.open_viewer("viewer", "orch")
        await settle(10)
        assert world.task_requests("bob", "list_runs") == 1  # empty: idle
        spawned_at = trio.current_time()
        await orchestrator.ref.tell(SpawnChild("late", LOCAL))
        await orchestrator.ref.tell(AppendExchange("starting an agent"))
        await trio.sleep(0.4)
        await drop_task_links(world)  # the row is written on the retry, 1 s later
        # The exchange reaches the viewer at +1 s; its fetch reaches the server at +1.5 s,
        # before the row (+1.9 s), and is back at +2 s, empty.
        await trio.sleep_until(spawned_at + 2.2)
        assert world.task_requests("bob", "list_runs") == 2
        assert [p.label for p in (await snapshot(world, "viewer")).pills] == []
        # The spawn's own exchange leaves with the row (+2.4 s): its fetch is back at +4.4 s.
        await trio.sleep_until(spawned_at + 5)
        assert world.task_requests("bob", "list_runs") == 3
        assert [p.label for p in (await snapshot(world, "viewer")).pills] == [
            "Orchestrator",
            "late",
        ]
        await settle(10)
        assert panes(await snapshot(world, "viewer")) == {"late": "loaded"}
