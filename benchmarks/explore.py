"""`explore`: seeds per second per core in one process, and how well two workers scale.

One campaign, `local-local-share-parent` with every fault, is run in this
process (`--jobs 1`), on two forked processes (`--jobs 2`) and on an embedded
Dask cluster of two workers (`--scheduler local:2`). Each executor is started
and warmed (one seed per worker) before its timed run, so the figures are the
steady throughput of a long campaign; the Dask cluster's start is reported on
its own. The baseline of both scaling figures is the one-process run, measured
in the same process between them.

On a machine shared with other jobs, wall time also measures the neighbours;
CPU time does not. So the bench also counts the CPU seconds the seeds took:
this thread's in one process, the worker processes' on two workers (read
from /proc and the rusage of reaped children, so Linux only). Their ratio says
how much work an executor adds per seed, whatever the load.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.executors import Dask, Executor, InProcess, LocalProcesses
from scenarios.explore import SeedOutcome, explore
from scenarios.faults import FaultKind

from .harness import BenchResult, Check, Figure, at_least

SCENARIO = "local-local-share-parent"
PROFILE = Profile.CURRENT
WORKERS = 2
SEEDS = 240
SMOKE_SEEDS = 4
ROUNDS = 3
SMOKE_ROUNDS = 1
#: Two workers must give at least this share of twice one worker's throughput.
TARGET_EFFICIENCY = 0.8
#: Seeds per second of one core's time, in one process: a seed cost about 63 ms of
#: CPU when profiled (16 seeds per CPU second); see benchmarks/RESULTS.md.
TARGET_SEEDS_PER_CPU_S = 12.0


def run(*, smoke: bool = False) -> BenchResult:
    count = SMOKE_SEEDS if smoke else SEEDS
    rounds = SMOKE_ROUNDS if smoke else ROUNDS
    seeds = range(WORKERS, WORKERS + count)
    load_at_start = os.getloadavg()[0]
    started = time.perf_counter()
    with Dask(local_workers=WORKERS) as cluster:
        dask_start_s = time.perf_counter() - started
        executors: dict[str, Callable[[], Executor]] = {
            "jobs_1": InProcess,
            "jobs_2": lambda: LocalProcesses(WORKERS),
            "local_2": lambda: cluster,
        }
        timings: dict[str, list[float]] = {name: [] for name in executors}
        cpu_s: dict[str, list[float]] = {name: [] for name in executors}
        outcomes: dict[str, list[SeedOutcome]] = {}
        # Alternating rounds: a burst of load on the machine does not land on one side only.
        for _ in range(rounds):
            for name, executor in executors.items():
                elapsed, cpu, outcomes[name] = _timed(executor(), seeds)
                timings[name].append(elapsed)
                cpu_s[name].append(cpu)
    rate = {name: count / min(times) for name, times in timings.items()}
    per_cpu = {name: count / min(times) for name, times in cpu_s.items()}
    per_cpu_s = per_cpu["jobs_1"]
    per_core = {
        "jobs_1": rate["jobs_1"],
        "jobs_2": rate["jobs_2"] / WORKERS,
        "local_2": rate["local_2"] / WORKERS,
    }
    efficiency = {name: rate[name] / (WORKERS * rate["jobs_1"]) for name in ("jobs_2", "local_2")}
    cpu_efficiency = {name: per_cpu[name] / per_cpu_s for name in ("jobs_2", "local_2")}
    same = outcomes["jobs_2"] == outcomes["jobs_1"] == outcomes["local_2"]
    figures: dict[str, Figure] = {
        "scenario": SCENARIO,
        "seeds": count,
        "cores": os.cpu_count() or 1,
        "load_1min": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
        "seeds_per_s": {name: round(value, 2) for name, value in rate.items()},
        "seeds_per_s_per_core": {name: round(value, 2) for name, value in per_core.items()},
        "seeds_per_cpu_s": {name: round(value, 2) for name, value in per_cpu.items()},
        "efficiency": {name: round(value, 3) for name, value in efficiency.items()},
        "cpu_efficiency": {name: round(value, 3) for name, value in cpu_efficiency.items()},
        "dask_start_s": round(dask_start_s, 2),
        "failing_seeds": sum(not outcome.passed for outcome in outcomes["jobs_1"]),
        "same_outcomes": str(same).lower(),
    }
    checks = [
        at_least("explore seeds per CPU second in one process", per_cpu_s, TARGET_SEEDS_PER_CPU_S),
        at_least("explore scaling efficiency --jobs 2", efficiency["jobs_2"], TARGET_EFFICIENCY),
        at_least(
            "explore scaling efficiency --scheduler local:2",
            efficiency["local_2"],
            TARGET_EFFICIENCY,
        ),
        Check("explore outcomes identical on every executor", same),
    ]
    return BenchResult("explore", figures, checks)


def _timed(executor: Executor, seeds: range) -> tuple[float, float, list[SeedOutcome]]:
    """Wall seconds, and the CPU seconds of whatever ran the seeds, for `seeds` on
    `executor`, after one warming seed per worker.
    """
    path = catalog.resolve(SCENARIO)
    faults = frozenset(FaultKind)
    warm = range(WORKERS)
    explore(path, PROFILE, warm, faults, executor=executor)
    in_process = isinstance(executor, InProcess)
    started, cpu = time.perf_counter(), _cpu_s(in_process)
    outcomes = explore(path, PROFILE, seeds, faults, executor=executor)
    return time.perf_counter() - started, _cpu_s(in_process) - cpu, outcomes


def _cpu_s(in_process: bool) -> float:
    """CPU seconds so far of this thread, or else of every child process, live or reaped."""
    if in_process:
        return time.thread_time()
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return reaped.ru_utime + reaped.ru_stime + sum(map(_live_cpu_s, _children()))


def _children() -> list[int]:
    mine = str(os.getpid())
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _stat(int(entry.name))[1:2] == [mine]
    ]


def _live_cpu_s(pid: int) -> float:
    fields = _stat(pid)
    # After the name: state, ppid, ..., utime and stime are the 12th and 13th.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name; none once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []
