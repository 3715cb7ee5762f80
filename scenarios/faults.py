"""Seeded faults for exploration: latency, dropped connections, partitions.

`plan_faults` turns (kinds, seed, scenario) into a fault plan, drawing from
streams of the seed, so `sharesim run SCENARIO --seed S --faults ...`
rebuilds exactly the faults that `sharesim explore` ran with seed S, and
`--fault-plan` with that plan written out runs the very same run.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable

from actors.runtime.conditions import Drop, Latency, Partition, Spread
from actors.runtime.determinism import SeededRandom
from scenarios.fault_plan import SERVERS, FaultPlan, FaultPlanError, format_fault
from scenarios.schema import Scenario
from scenarios.usage import UsageError

#: Mean one-way delay added to every frame when latency is on (exponential spread).
MEAN_LATENCY_S = 0.25


class FaultKind(enum.Enum):
    LATENCY = "latency"
    DROP = "drop"
    PARTITION = "partition"


def parse_faults(text: str) -> frozenset[FaultKind]:
    """`latency,drop,partition` (any subset, or empty) into fault kinds."""
    kinds: set[FaultKind] = set()
    for word in filter(None, (part.strip() for part in text.split(","))):
        try:
            kinds.add(FaultKind(word))
        except ValueError:
            valid = ", ".join(kind.value for kind in FaultKind)
            raise UsageError(f"unknown fault {word!r}; valid faults: {valid}") from None
    return frozenset(kinds)


def format_faults(kinds: Iterable[FaultKind]) -> str:
    return ",".join(kind.value for kind in FaultKind if kind in kinds)


def actor_names(scenario: Scenario) -> list[str]:
    """The actor names a scenario's agents and viewers run under."""
    orchestrator = scenario.orchestrator.name
    return [
        orchestrator,
        *(f"{orchestrator}/{child.name}" for child in scenario.children),
        *(viewer.name for viewer in scenario.viewers),
    ]


def plan_faults(kinds: frozenset[FaultKind], seed: int, scenario: Scenario) -> FaultPlan:
    """The faults seed `seed` gives `scenario` with the chosen kinds of fault.

    The drops' moments are the first draws of the run's own fault stream, as
    the injector drew them before plans were explicit, so every seed keeps the
    run it always had.
    """
    rng = random.Random(f"{seed}/fault-plan/{scenario.name}")
    moments = SeededRandom(seed).stream("faults")
    end = scenario.duration
    latency = None
    drops: tuple[Drop, ...] = ()
    partitions: tuple[Partition, ...] = ()
    if FaultKind.LATENCY in kinds:
        latency = Latency(base=0.01, jitter=MEAN_LATENCY_S, spread=Spread.EXPONENTIAL)
    if FaultKind.DROP in kinds:
        count = rng.randint(1, 3)
        drops = tuple(Drop(at=moments.uniform(0.0, 0.8 * end)) for _ in range(count))
    if FaultKind.PARTITION in kinds:
        start = rng.uniform(0.0, 0.7 * end)
        partitions = (
            Partition(
                actor=rng.choice(actor_names(scenario)),
                server=rng.choice(SERVERS),
                start=start,
                end=start + rng.uniform(5.0, 30.0),
            ),
        )
    return FaultPlan(latency, drops, partitions)


def kinds_of(plan: FaultPlan) -> frozenset[FaultKind]:
    """The kinds of fault a plan has, as `--faults` would name them."""
    present = {
        FaultKind.LATENCY: plan.latency is not None,
        FaultKind.DROP: bool(plan.drops),
        FaultKind.PARTITION: bool(plan.partitions),
    }
    return frozenset(kind for kind, there in present.items() if there)


def check_plan(plan: FaultPlan, scenario: Scenario) -> None:
    """Refuse a plan naming an actor the scenario does not have: a typo would fault nothing."""
    actors = actor_names(scenario)
    for fault in plan.faults():
        if fault.actor is not None and fault.actor not in actors:
            raise FaultPlanError(
                f"--fault-plan {format_fault(fault)}: {scenario.name} has no actor "
                f"{fault.actor!r}; its actors: {', '.join(actors)}"
            )
