"""One seed, one trace: a busy topology replays message for message."""

from __future__ import annotations

from actors.hosts.agents import AppendExchange, Finish, ShareByUser
from actors.rules.profiles import Profile
from actors.runtime.conditions import Latency, NetworkConditions
from actors.runtime.simulation import run_seeded
from actors.world import open_world

from .kit import LOCAL, REMOTE, settle, spawn, start_orchestrator, task_id


async def busy_topology(seed: int) -> str:
    """Mixed children, a parent and a child viewer, jittery latency; returns the trace."""
    conditions = NetworkConditions(latency=Latency(base=0.05, jitter=0.3))
    async with open_world(Profile.CURRENT.switches(), seed=seed, conditions=conditions) as world:
        orchestrator = await start_orchestrator(world, LOCAL, share=False)
        await spawn(orchestrator, ("a", LOCAL), ("b", REMOTE))
        await orchestrator.ref.tell(ShareByUser())
        await settle(3)
        await world.open_viewer("parent", "orch")
        await world.open_viewer("child", "b")
        await spawn(orchestrator, ("c", LOCAL))
        await world.agent("a").ref.tell(AppendExchange("ping", (task_id(world, "c"),)))
        await world.agent("b").ref.tell(Finish())
        await settle(40)
        return world.simulation.trace.to_jsonl()


def run(seed: int) -> str:
    return run_seeded(busy_topology, seed, seed=seed)


def test_the_same_seed_gives_the_same_trace() -> None:
    first = run(7)
    assert first.count("\n") > 50  # a real run, not an empty trace
    assert run(7) == first


def test_another_seed_gives_another_trace() -> None:
    assert run(7) != run(8)
