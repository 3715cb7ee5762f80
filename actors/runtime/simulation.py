"""One simulation run: seed, clock, network, trace and the stage its actors live on.

`memory` runs use a `MockClock` that jumps ahead whenever every task is blocked,
so polls every 5 s or 30 s cost no wall time. `tcp` runs use real sockets, so
time must pass for real; a `MockClock` running `time_scale` times faster than
the wall clock keeps a 5 s poll down to 50 ms at the default scale of 100.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TextIO, TypeVar

import structlog
import trio
import trio.testing

from actors.runtime.conditions import NetworkConditions
from actors.runtime.determinism import SeededRandom, seed_scheduler
from actors.runtime.faults import FaultInjector
from actors.runtime.limits import ConnectionLimits
from actors.runtime.stage import Stage, open_stage
from actors.runtime.trace import Trace
from actors.runtime.transport import Mode, Network

T = TypeVar("T")

DEFAULT_TIME_SCALE = 100.0


@dataclass
class Simulation:
    """What every actor of one run shares."""

    seed: int
    random: SeededRandom
    network: Network
    trace: Trace
    stage: Stage

    @property
    def mode(self) -> Mode:
        return self.network.mode


def make_clock(mode: Mode, time_scale: float = DEFAULT_TIME_SCALE) -> trio.testing.MockClock:
    """The clock a run of `mode` needs (see the module docstring)."""
    if mode is Mode.MEMORY:
        return trio.testing.MockClock(autojump_threshold=0)
    if time_scale <= 0:
        raise ValueError(f"time scale must be positive, got {time_scale}")
    return trio.testing.MockClock(rate=time_scale)


@asynccontextmanager
async def open_simulation(
    *,
    seed: int = 0,
    mode: Mode = Mode.MEMORY,
    conditions: NetworkConditions | None = None,
    trace_sink: TextIO | None = None,
    keep_trace: bool = True,
    limits: ConnectionLimits | None = None,
    log_context: dict[str, object] | None = None,
) -> AsyncIterator[Simulation]:
    """Build a run inside the current Trio run; every actor stops when the block ends.

    `keep_trace=False` only streams the trace to `trace_sink`, for a run with
    no end; `limits` bounds what each connection may cost its server.
    """
    rng = SeededRandom(seed)
    conditions = conditions or NetworkConditions()
    conditions.rng = rng.stream("latency")
    trace = Trace(trace_sink, keep=keep_trace)
    network = Network(mode, trace, conditions, limits or ConnectionLimits())
    structlog.contextvars.bind_contextvars(seed=seed, **(log_context or {}))
    async with open_stage() as stage:
        simulation = Simulation(seed, rng, network, trace, stage)
        async with trio.open_nursery() as faults:
            faults.start_soon(FaultInjector(network, rng.stream("faults")).run, name="faults")
            try:
                yield simulation
            finally:
                faults.cancel_scope.cancel()


def run_simulation(
    main: Callable[[Simulation], Awaitable[T]],
    *,
    seed: int = 0,
    mode: Mode = Mode.MEMORY,
    conditions: NetworkConditions | None = None,
    trace_sink: TextIO | None = None,
    time_scale: float = DEFAULT_TIME_SCALE,
    log_context: dict[str, object] | None = None,
) -> T:
    """Run `main` in a fresh, seeded Trio run and return its result."""

    async def body() -> T:
        async with open_simulation(
            seed=seed,
            mode=mode,
            conditions=conditions,
            trace_sink=trace_sink,
            log_context=log_context,
        ) as simulation:
            return await main(simulation)

    seed_scheduler(seed)
    return trio.run(body, clock=make_clock(mode, time_scale))
