"""Helpers for actor-level tests: build a topology on a `World`, read what a viewer shows.

Every wait is virtual time. With no latency configured, all the messages one
step sets off are delivered at the instant it happens, and the autojump clock
only moves on once every task is blocked; so sleeping one virtual second after
a step lets it settle completely.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
import trio

from actors.hosts.agents import (
    AgentMessage,
    Finish,
    Location,
    Orchestrator,
    ShareByUser,
    SpawnChild,
    StopSharing,
)
from actors.rules.pill_bar import ViewerSnapshot
from actors.runtime.trace import TraceRecord
from actors.world import World

LOCAL, REMOTE = Location.LOCAL, Location.REMOTE
#: Long enough for an orchestrator's first response (1 s by default) to land.
FIRST_RESPONSE_WAIT_S = 2.0

LogEvents = list[MutableMapping[str, Any]]


async def settle(seconds: float = 1.0) -> None:
    """Let everything the last step set off happen (see the module docstring)."""
    await trio.sleep(seconds)


async def start_orchestrator(
    world: World, location: Location, *, share: bool = True, title: str = ""
) -> Orchestrator:
    """An orchestrator past its first response; a local one shared by its user if `share`."""
    orchestrator = await world.start_orchestrator("orch", location, title=title)
    await settle(FIRST_RESPONSE_WAIT_S)
    if location is LOCAL and share:
        await orchestrator.ref.tell(ShareByUser())
        await settle()
    return orchestrator


async def spawn(orchestrator: Orchestrator, *children: tuple[str, Location]) -> None:
    """`run_agents` for each (name, location), in order, then let the spawns settle."""
    for name, location in children:
        await orchestrator.ref.tell(SpawnChild(name, location))
    await settle()


async def tell(
    world: World, agent: str, message: AgentMessage | ShareByUser | StopSharing | Finish
) -> None:
    await world.agent(agent).ref.tell(message)
    await settle()


def task_id(world: World, agent: str) -> str:
    found = world.agent(agent).task_id
    assert found is not None, f"{agent} has no task id yet"
    return found


async def snapshot(world: World, viewer: str) -> ViewerSnapshot:
    return (await world.observe(viewer)).snapshot


def pills(shot: ViewerSnapshot) -> list[tuple[str, str | None]]:
    """Each pill as (label, status), orchestrator first."""
    return [(p.label, p.status.value if p.status else None) for p in shot.pills]


def panes(shot: ViewerSnapshot) -> dict[str, str]:
    """Child pane state by child name."""
    return {p.name: p.state.value for p in shot.panes}


def references(shot: ViewerSnapshot) -> dict[str, str]:
    """How each agent id mentioned in the viewer's transcripts rendered."""
    return {r.agent_id: r.resolved.label for r in shot.references}


@contextmanager
def captured_logs() -> Iterator[LogEvents]:
    """Every log event, with the emitting actor's bound context (actor, task_id, ...)."""
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as events:
        yield events


def events_named(events: Iterable[MutableMapping[str, Any]], name: str) -> LogEvents:
    return [e for e in events if e["event"] == name]


def sent(world: World, message_type: str, *, to: str) -> list[TraceRecord]:
    """Trace records of `message_type` frames delivered to `to`."""
    return [r for r in world.simulation.trace if r.type == message_type and r.dst == to]
