"""Network conditions: latency, dropped connections and partitions, all from one seed.

Conditions are plain data plus seeded random streams, so the same seed gives
the same delays and the same faults at the same virtual times. Nothing here
acts: `actors.runtime.faults` applies the drops and partitions on schedule.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass, field


class Spread(enum.Enum):
    """How the random part of a latency is distributed."""

    #: Anywhere from 0 to `jitter`, evenly: a bounded wobble.
    UNIFORM = "uniform"
    #: Exponential with mean `jitter`: mostly short, now and then long, as on a busy network.
    EXPONENTIAL = "exponential"


@dataclass(frozen=True, slots=True)
class Latency:
    """One-way delay per frame: `base` seconds plus a seeded random part set by `jitter`."""

    base: float = 0.0
    jitter: float = 0.0
    spread: Spread = Spread.UNIFORM

    def __post_init__(self) -> None:
        if self.base < 0 or self.jitter < 0:
            raise ValueError(
                f"latency must not be negative (base={self.base}, jitter={self.jitter})"
            )

    def sample(self, rng: random.Random) -> float:
        if not self.jitter:
            return self.base
        if self.spread is Spread.EXPONENTIAL:
            return self.base + rng.expovariate(1 / self.jitter)
        return self.base + rng.uniform(0, self.jitter)


@dataclass(frozen=True, slots=True)
class Partition:
    """`actor` cannot reach `server` from `start` until `end` (virtual seconds).

    Links between them are cut at `start`; connecting is refused until `end`.
    """

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
    """Drop one connection from `actor` to `server` at `at`.

    When several open connections match (an actor may hold more than one, and
    leaving `actor` or `server` out matches any), the seed picks which. Setting
    `latest` lets the seed pick the moment too, anywhere from `at` to `latest`.
    To cut every connection of a pair, use a `Partition`.

    Every drop takes one draw for its moment, a fixed one too, so a drop fixed
    at the moment a seed drew for it leaves the later draws (which connection
    each drop takes) as they were: the fixed plan replays the seeded run.
    """

    at: float
    actor: str | None = None
    server: str | None = None
    latest: float | None = None

    def __post_init__(self) -> None:
        if self.latest is not None and self.latest < self.at:
            raise ValueError(f"a drop's latest moment ({self.latest}) is before `at` ({self.at})")

    def moment(self, rng: random.Random) -> float:
        return rng.uniform(self.at, self.at if self.latest is None else self.latest)

    def matches(self, actor: str, server: str) -> bool:
        """Whether a link from `actor` to `server` is one this drop may take."""
        return self.actor in (None, actor) and self.server in (None, server)


@dataclass
class NetworkConditions:
    """What the network does to frames and connections during one run."""

    latency: Latency = field(default_factory=Latency)
    partitions: Sequence[Partition] = ()
    drops: Sequence[Drop] = ()
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def next_latency(self) -> float:
        """The delay for the next frame; draws come from one seeded stream, in send order."""
        return self.latency.sample(self.rng)

    def partitioned(self, actor: str, server: str, now: float) -> bool:
        return any(p.covers(actor, server, now) for p in self.partitions)
