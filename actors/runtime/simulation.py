"""One simulation run: seed, clock, network, trace and the stage its actors live on.

Every run, `memory` or `tcp`, is on a virtual clock that stands still while any
task can run and jumps to the next timer once every task is blocked, so polls
every 5 s or 30 s cost no wall time and every deadline counts virtual time
only. Over `tcp`, a task blocked on a socket may be owed bytes the kernel has
not delivered yet; the network's `Wire` holds the clock until they arrive (see
`actors.runtime.wire`), so a slow or loaded machine makes a run slower, never
different.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TextIO, TypeVar, TypeVarTuple

import structlog
import trio
import trio.testing

from actors.runtime.conditions import NetworkConditions
from actors.runtime.determinism import SeededRandom, seeded_scheduler
from actors.runtime.faults import FaultInjector
from actors.runtime.limits import ConnectionLimits
from actors.runtime.logs import follow_trace
from actors.runtime.stage import Stage, open_stage
from actors.runtime.trace import Trace, TraceSink
from actors.runtime.transport import Mode, Network

T = TypeVar("T")
Args = TypeVarTuple("Args")


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


def virtual_clock() -> trio.testing.MockClock:
    """The clock every run is on (see the module docstring)."""
    return trio.testing.MockClock(autojump_threshold=0)


@asynccontextmanager
async def open_simulation(
    *,
    seed: int = 0,
    mode: Mode = Mode.MEMORY,
    conditions: NetworkConditions | None = None,
    trace_sink: TraceSink | None = None,
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
    follow_trace(trace)
    network = Network(mode, trace, conditions, limits or ConnectionLimits())
    structlog.contextvars.bind_contextvars(seed=seed, **(log_context or {}))
    async with open_stage() as stage:
        simulation = Simulation(seed, rng, network, trace, stage)
        async with trio.open_nursery() as background:
            background.start_soon(FaultInjector(network, rng.stream("faults")).run, name="faults")
            if mode is Mode.TCP:
                background.start_soon(network.wire.hold_time, name="wire")
            try:
                yield simulation
            finally:
                background.cancel_scope.cancel()


def run_simulation(
    main: Callable[[Simulation], Awaitable[T]],
    *,
    seed: int = 0,
    mode: Mode = Mode.MEMORY,
    conditions: NetworkConditions | None = None,
    trace_sink: TextIO | None = None,
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

    return run_seeded(body, seed=seed)


def run_seeded(main: Callable[[*Args], Awaitable[T]], *args: *Args, seed: int) -> T:
    """The one way into Trio: `main(*args)` in a fresh run on the virtual clock.

    Every run that must replay goes through here, so Trio's scheduler is seeded
    with `seed` for exactly that run and left as it was afterwards. Ctrl-C is
    raised at the run's next checkpoint, never straight from the signal handler:
    a handler that lands inside a collector callback or a finalizer would have
    its `KeyboardInterrupt` printed and dropped, and the run would go on.
    """
    clock = virtual_clock()
    with seeded_scheduler(seed):
        return trio.run(main, *args, clock=clock, restrict_keyboard_interrupt_to_checkpoints=True)
