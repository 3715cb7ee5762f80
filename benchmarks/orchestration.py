"""A busy orchestration built in code: children spawned, chattering, viewers watching.

`scale` and `scale-large` run it at several sizes; everything happens in
virtual time on the `memory` transport, so wall time is the simulator's own cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import trio

from actors.hosts.agents import AppendExchange, ChildMessage, Location, ShareByUser, SpawnChild
from actors.rules.pill_bar import PaneState
from actors.rules.profiles import Profile
from actors.runtime.actor import ActorRef
from actors.runtime.simulation import run_seeded
from actors.world import World, open_world

SHARE_AT_S = 2.0
VIEWERS_AT_S = 5.0
SPAWN_FROM_S = 10.0
#: Children are spawned over this span, so spawning is not one burst.
SPAWN_SPAN_S = 60.0
CHATTER_FROM_S = SPAWN_FROM_S + SPAWN_SPAN_S + 10.0


@dataclass(frozen=True, slots=True)
class Plan:
    children: int
    viewers: int
    duration_s: float
    exchange_every_s: float = 60.0
    profile: Profile = Profile.FOLLOWUPS
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Played:
    """What one run cost and moved.

    `wall_s` covers the whole run, start-up and tear-down included; `teardown_s`
    is its last part, from the end of the simulated span until every actor
    and link is gone. `frames` counts frames received anywhere, `connections`
    the WebSocket connections open at the end, `panes_loaded` the first
    viewer's loaded child panes.
    """

    wall_s: float
    teardown_s: float
    frames: int
    connections: int
    panes_loaded: int


@dataclass(frozen=True, slots=True)
class _AtTheEnd:
    frames: int
    connections: int
    panes_loaded: int
    at: float


def run(plan: Plan) -> Played:
    """Play `plan` in a fresh seeded Trio run on the virtual clock."""
    start = time.perf_counter()
    end = run_seeded(_play, plan, seed=plan.seed)
    done = time.perf_counter()
    return Played(done - start, done - end.at, end.frames, end.connections, end.panes_loaded)


async def _play(plan: Plan) -> _AtTheEnd:
    async with open_world(plan.profile.switches(), seed=plan.seed) as world:
        orchestrator = await world.start_orchestrator("orchestrator", Location.LOCAL)
        await trio.sleep_until(SHARE_AT_S)
        await orchestrator.ref.tell(ShareByUser(), sender="bench")
        await trio.sleep_until(VIEWERS_AT_S)
        for number in range(plan.viewers):
            await world.open_viewer(f"viewer-{number}", "orchestrator")
        for number in range(plan.children):
            await trio.sleep_until(SPAWN_FROM_S + SPAWN_SPAN_S * number / plan.children)
            location = Location.LOCAL if number % 2 == 0 else Location.REMOTE
            await orchestrator.ref.tell(SpawnChild(f"child-{number}", location), sender="bench")
        async with trio.open_nursery() as chatter:
            for number, record in enumerate(orchestrator.children.values()):
                assert record.actor is not None
                offset = plan.exchange_every_s * number / plan.children
                chatter.start_soon(_chatter, record.actor.ref, plan, CHATTER_FROM_S + offset)
            await trio.sleep_until(plan.duration_s)
            chatter.cancel_scope.cancel()
        return _AtTheEnd(
            len(world.simulation.trace),
            len(world.simulation.network.dialled_links()),
            await _panes_loaded(world),
            time.perf_counter(),
        )


async def _chatter(ref: ActorRef[ChildMessage], plan: Plan, start: float) -> None:
    """One child's exchanges, every `exchange_every_s` from `start` until cancelled."""
    at = start
    number = 0
    while True:
        await trio.sleep_until(at)
        await ref.tell(AppendExchange(f"exchange {number}"), sender="bench")
        number += 1
        at += plan.exchange_every_s


async def _panes_loaded(world: World) -> int:
    observation = await world.observe("viewer-0")
    return sum(1 for pane in observation.snapshot.panes if pane.state is PaneState.LOADED)
