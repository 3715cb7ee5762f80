"""Seeded faults for exploration: latency, dropped connections, partitions.

`plan_faults` turns (kinds, seed, scenario) into network conditions, drawing
from a stream of its own, so `sharesim run SCENARIO --seed S --faults ...`
rebuilds exactly the faults that `sharesim explore` ran with seed S.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable

from actors.runtime.conditions import Drop, Latency, NetworkConditions, Partition, Spread
from scenarios.schema import Scenario
from scenarios.usage import UsageError

SERVERS = ("session-server", "task-server")
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


def plan_faults(kinds: frozenset[FaultKind], seed: int, scenario: Scenario) -> NetworkConditions:
    """The conditions seed `seed` gives `scenario` with the chosen kinds of fault."""
    rng = random.Random(f"{seed}/fault-plan/{scenario.name}")
    end = scenario.duration
    conditions = NetworkConditions()
    if FaultKind.LATENCY in kinds:
        conditions.latency = Latency(base=0.01, jitter=MEAN_LATENCY_S, spread=Spread.EXPONENTIAL)
    if FaultKind.DROP in kinds:
        conditions.drops = tuple(Drop(at=0.0, latest=0.8 * end) for _ in range(rng.randint(1, 3)))
    if FaultKind.PARTITION in kinds:
        start = rng.uniform(0.0, 0.7 * end)
        conditions.partitions = (
            Partition(
                actor=rng.choice(actor_names(scenario)),
                server=rng.choice(SERVERS),
                start=start,
                end=start + rng.uniform(5.0, 30.0),
            ),
        )
    return conditions
