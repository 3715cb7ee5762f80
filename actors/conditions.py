"""Network conditions: latency, dropped connections and partitions, all from one seed.

Conditions are plain data plus seeded random streams, so the same seed gives
the same delays and the same faults at the same virtual times. `FaultInjector`
is the only part that acts: it drops links and cuts partitions on schedule.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
import trio

if TYPE_CHECKING:
    from .transport import Network

_log = structlog.get_logger("sharesim.conditions")


@dataclass(frozen=True, slots=True)
class Latency:
    """One-way delay per frame: `base` seconds plus up to `jitter` seconds, seeded."""

    base: float = 0.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.base < 0 or self.jitter < 0:
            raise ValueError(
                f"latency must not be negative (base={self.base}, jitter={self.jitter})"
            )

    def sample(self, rng: random.Random) -> float:
        return self.base + (rng.uniform(0, self.jitter) if self.jitter else 0.0)


@dataclass(frozen=True, slots=True)
class Partition:
    """`actor` cannot reach `server` from `start` until `end` (virtual seconds)."""

    actor: str
    server: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(
                f"partition of {self.actor} must end after it starts ({self.start}..{self.end})"
            )

    def covers(self, actor: str, server: str, now: float) -> bool:
        return {actor, server} == {self.actor, self.server} and self.start <= now < self.end


@dataclass(frozen=True, slots=True)
class Drop:
    """At `at`, drop the links between `actor` and `server` (any link, if `actor` is None)."""

    at: float
    actor: str | None = None
    server: str | None = None


@dataclass
class NetworkConditions:
    """What the network does to frames and connections during one run."""

    latency: Latency = field(default_factory=Latency)
    partitions: Sequence[Partition] = ()
    drops: Sequence[Drop] = ()
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def latency_for(self, local: str, peer: str) -> float:
        return self.latency.sample(self.rng) if (self.latency.base or self.latency.jitter) else 0.0

    def partitioned(self, actor: str, server: str, now: float) -> bool:
        return any(p.covers(actor, server, now) for p in self.partitions)


class FaultInjector:
    """Applies drops and partitions at their virtual times by cutting live links."""

    def __init__(self, network: Network, rng: random.Random) -> None:
        self._network = network
        self._rng = rng

    async def run(self) -> None:
        conditions = self._network.conditions
        schedule = sorted(
            [(d.at, "drop", d) for d in conditions.drops]
            + [(p.start, "partition", p) for p in conditions.partitions],
            key=lambda item: (item[0], item[1]),
        )
        for at, kind, fault in schedule:
            await trio.sleep_until(at)
            if isinstance(fault, Partition):
                await self._cut(fault.actor, fault.server, kind)
            else:
                assert isinstance(fault, Drop)
                await self._drop(fault)

    async def _drop(self, fault: Drop) -> None:
        if fault.actor is not None and fault.server is not None:
            await self._cut(fault.actor, fault.server, "drop")
            return
        candidates = [
            link
            for link in self._network.open_links()
            if fault.actor in (None, link.local, link.peer)
            and fault.server in (None, link.local, link.peer)
        ]
        if not candidates:
            _log.info("fault_skipped", kind="drop", reason="no open link")
            return
        victim = self._rng.choice(candidates)
        _log.info("fault", kind="drop", link=repr(victim))
        await victim.drop()

    async def _cut(self, actor: str, server: str, kind: str) -> None:
        links = self._network.links_between(actor, server)
        _log.info("fault", kind=kind, actor=actor, server=server, links=len(links))
        for link in links:
            await link.drop()
