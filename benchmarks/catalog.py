"""Every benchmark by name, and which ones a bare `sharesim bench` runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import attack, explore, mailbox, polling, scale, virtual_time, websocket
from .harness import BenchResult


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    summary: str
    run: Callable[..., BenchResult]
    #: Run when no names are given; the long ones are asked for by name.
    default: bool = True


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark("mailbox", "actor tell+handle against a bare memory channel", mailbox.run),
        Benchmark("websocket", "session-server fan-out against bare trio-websocket", websocket.run),
        Benchmark("scale", "100/200/400 children, 20 viewers, one simulated hour", scale.run),
        Benchmark(
            "scale-large",
            "1,000 children, 100 viewers, one simulated hour (about 15 min, 10 GB)",
            scale.run_large,
            default=False,
        ),
        Benchmark(
            "virtual-time", "a finished orchestration idling for a simulated day", virtual_time.run
        ),
        Benchmark("polling", "task-server requests per viewer hour, per profile", polling.run),
        Benchmark(
            "attack",
            "'sharesim serve' under hostile clients, measured through /proc (Linux, ~3 min)",
            attack.run,
            default=False,
        ),
        Benchmark(
            "explore",
            "explore's seeds/s per core, and 2 workers' scaling on processes and Dask (~3 min)",
            explore.run,
            default=False,
        ),
    )
}


def defaults() -> list[str]:
    return [name for name, benchmark in BENCHMARKS.items() if benchmark.default]
