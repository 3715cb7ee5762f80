"""`virtual-time`: what a quiet day costs once an orchestration is over.

Under `followups` a finished orchestration has nothing left to say: viewers
hold a subscription to the children that stays quiet and poll nothing. Virtual time should then jump
straight to the end, so a simulated day costs next to no wall time.
"""

from __future__ import annotations

import time

import trio

from actors.hosts.agents import AppendExchange, Finish, Location, ShareByUser, SpawnChild
from actors.rules.profiles import Profile
from actors.runtime.simulation import run_seeded
from actors.world import open_world

from .harness import BenchResult, at_most

DAY_S = 24 * 3600.0
SMOKE_IDLE_S = 3600.0
VIEWERS = 10
SMOKE_VIEWERS = 2
CHILDREN = (("researcher", Location.LOCAL), ("writer", Location.REMOTE))
#: Long enough after the last finish for every share and pane to settle.
SETTLE_S = 300.0
TARGET_IDLE_RATIO = 1e-5


async def _idle(viewers: int, idle_s: float) -> tuple[float, int, int]:
    """Wall seconds for `idle_s` of a finished orchestration; frames before and during it."""
    async with open_world(Profile.FOLLOWUPS.switches()) as world:
        orchestrator = await world.start_orchestrator("orchestrator", Location.LOCAL)
        await trio.sleep_until(2.0)
        await orchestrator.ref.tell(ShareByUser(), sender="bench")
        await trio.sleep_until(5.0)
        for number in range(viewers):
            await world.open_viewer(f"viewer-{number}", "orchestrator")
        for name, location in CHILDREN:
            await orchestrator.ref.tell(SpawnChild(name, location), sender="bench")
        await trio.sleep_until(30.0)
        for name, _ in CHILDREN:
            child = world.agent(name)
            await child.ref.tell(AppendExchange(f"{name} is done"), sender="bench")
            await child.ref.tell(Finish(), sender="bench")
        await orchestrator.ref.tell(Finish(), sender="bench")
        await trio.sleep_until(30.0 + SETTLE_S)
        frames_before = len(world.simulation.trace)
        start = time.perf_counter()
        await trio.sleep(idle_s)
        elapsed = time.perf_counter() - start
        return elapsed, frames_before, len(world.simulation.trace) - frames_before


def run(*, smoke: bool = False) -> BenchResult:
    viewers = SMOKE_VIEWERS if smoke else VIEWERS
    idle_s = SMOKE_IDLE_S if smoke else DAY_S
    wall_s, frames_before, frames = run_seeded(_idle, viewers, idle_s, seed=0)
    ratio = wall_s / idle_s
    return BenchResult(
        "virtual-time",
        {
            "viewers": viewers,
            "simulated_s": idle_s,
            "wall_s": wall_s,
            "frames_before_idle": frames_before,
            "frames_while_idle": frames,
            "idle_ratio": ratio,
        },
        [at_most("virtual-time idle_ratio", ratio, TARGET_IDLE_RATIO)],
    )
