"""`polling`: what child discovery costs the task server under each design.

One cloud orchestration, built in code, plays for a simulated hour under
`legacy`, `current`, `followups` and `hardened`: children are spawned, talk and finish,
the orchestrator keeps mentioning them, and every viewer opens the
orchestrator's run page as a user of its own, so the task server's
per-principal counts are per viewer.
"""

from __future__ import annotations

import trio

from actors.hosts.agents import AppendExchange, Finish, Location, SpawnChild
from actors.rules.profiles import Profile
from actors.runtime.simulation import run_seeded
from actors.world import World, open_world

from .harness import BenchResult, Check

HOUR_S = 3600.0
VIEWERS = 5
#: (name, location, spawned at, finished at), in virtual seconds.
CHILDREN = (
    ("researcher", Location.REMOTE, 5.0, 600.0),
    ("writer", Location.REMOTE, 30.0, 1200.0),
    ("reviewer", Location.LOCAL, 60.0, 1800.0),
    ("editor", Location.LOCAL, 120.0, 2400.0),
)
VIEWERS_AT_S = 20.0
ORCHESTRATOR_SAYS_EVERY_S = 300.0
CHILD_SAYS_EVERY_S = 120.0
SMOKE = (600.0, 2)


async def _play(profile: Profile, duration: float, viewers: int) -> tuple[float, int]:
    """Task requests per viewer per simulated hour, and redundant fetches over all viewers."""
    users = [f"user-{number}" for number in range(viewers)]
    async with open_world(profile.switches(), teammates=users) as world:
        await world.start_orchestrator("orchestrator", Location.REMOTE)
        async with trio.open_nursery() as nursery:
            for name, location, spawn_at, finish_at in CHILDREN:
                nursery.start_soon(_child, world, name, location, spawn_at, finish_at)
            await trio.sleep_until(VIEWERS_AT_S)
            for number, user in enumerate(users):
                await world.open_viewer(f"viewer-{number}", "orchestrator", user=user)
            nursery.start_soon(_mentions, world, duration)
            await trio.sleep_until(duration)
            nursery.cancel_scope.cancel()
        requests = sum(world.task_requests(user) for user in users)
        redundant = 0
        for number in range(viewers):
            redundant += (await world.observe(f"viewer-{number}")).stats.redundant_fetches
    return requests / viewers / (duration / HOUR_S), redundant


async def _child(
    world: World, name: str, location: Location, spawn_at: float, finish_at: float
) -> None:
    await trio.sleep_until(spawn_at)
    await world.orchestrators["orchestrator"].ref.tell(SpawnChild(name, location), sender="bench")
    await trio.sleep(1.0)
    child = world.agent(name)
    at = trio.current_time() + CHILD_SAYS_EVERY_S
    while at < finish_at:
        await trio.sleep_until(at)
        await child.ref.tell(AppendExchange(f"{name} reports progress"), sender="bench")
        at += CHILD_SAYS_EVERY_S
    await trio.sleep_until(finish_at)
    await child.ref.tell(Finish(), sender="bench")


async def _mentions(world: World, duration: float) -> None:
    """The orchestrator names its children now and then, which kicks polling viewers."""
    orchestrator = world.orchestrators["orchestrator"]
    at = ORCHESTRATOR_SAYS_EVERY_S
    while at < duration:
        await trio.sleep_until(at)
        known = tuple(orchestrator.children)
        await orchestrator.ref.tell(AppendExchange("status of the team", known), sender="bench")
        at += ORCHESTRATOR_SAYS_EVERY_S


def run(*, smoke: bool = False) -> BenchResult:
    duration, viewers = SMOKE if smoke else (HOUR_S, VIEWERS)
    per_hour: dict[str, float] = {}
    redundant: dict[str, int] = {}
    for profile in Profile:
        rate, wasted = run_seeded(_play, profile, duration, viewers, seed=0)
        per_hour[profile.value] = round(rate, 1)
        redundant[profile.value] = wasted
    current, followups = per_hour[Profile.CURRENT.value], per_hour[Profile.FOLLOWUPS.value]
    return BenchResult(
        "polling",
        {
            "viewers": viewers,
            "simulated_s": duration,
            "requests_per_viewer_hour": per_hour,
            "redundant_fetches": redundant,
        },
        [
            Check(
                f"polling: followups needs fewer requests than current "
                f"({followups:g} vs {current:g} per viewer hour)",
                followups < current,
            )
        ],
    )
