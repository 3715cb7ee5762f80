"""Running one scenario under many seeds with faults, to find races and prove them fixed.

Each seed is an independent, deterministic run: the outcome of seed S is what
`sharesim run SCENARIO --seed S --faults ...` reproduces, trace and all. Seeds
can be spread over worker processes. The pool is one that can be terminated:
an interrupted exploration stops its workers at once instead of waiting for
every queued seed, and keeps the outcomes it already has.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import signal
import sys
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from actors.rules.profiles import Profile
from scenarios.faults import FaultKind, format_faults
from scenarios.problems import Problem, problems_of
from scenarios.results import to_json
from scenarios.runner import run_scenario
from scenarios.schema import load_scenario

#: prctl option: the signal a process gets when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class SeedOutcome:
    seed: int
    problems: tuple[str, ...]
    digest: str
    #: The run's result as a JSON line (`scenarios.results`), when it was asked for.
    json: str = ""
    #: What broke, as a shrunk plan must still break it and findings group it.
    broke: tuple[Problem, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class _SeedTask:
    path: Path
    profile: Profile
    seed: int
    faults: frozenset[FaultKind]
    settings: Mapping[str, bool] | None
    detail: bool


def explore_seed(
    path: Path,
    profile: Profile,
    seed: int,
    faults: frozenset[FaultKind],
    settings: Mapping[str, bool] | None = None,
    *,
    detail: bool = False,
) -> SeedOutcome:
    """Run one seed and summarise what broke; with `detail`, keep the whole result as JSON.

    A race-marked profile is judged like any other here: finding its failing seeds is
    what exploring is for.
    """
    result = run_scenario(load_scenario(path), profile, seed=seed, faults=faults, settings=settings)
    problems = [str(v) for v in result.violations]
    for failure in result.failures:
        mismatched = "; ".join(
            f"{m.key}: expected {m.expected!r}, saw {m.observed!r}" for m in failure.mismatches
        )
        problems.append(f"expectation {failure.what}" + (f": {mismatched}" if mismatched else ""))
    digest = result.trace.digest() if result.trace is not None else ""
    json = to_json(result) if detail else ""
    return SeedOutcome(seed, tuple(problems), digest, json, problems_of(result))


def _run_task(task: _SeedTask) -> SeedOutcome:
    """One seed in a worker process (top level, so the pool can send it there)."""
    return explore_seed(
        task.path, task.profile, task.seed, task.faults, task.settings, detail=task.detail
    )


def _start_worker() -> None:
    """Workers leave Ctrl-C to the command, which stops them, and die at once on SIGTERM.

    Ctrl-C on a terminal reaches every process of the group; a worker that
    raised KeyboardInterrupt too would print a traceback of its own. On Linux a
    worker also gets SIGTERM when the command dies, even of SIGKILL, so none is
    ever left behind.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def explore_outcomes(
    path: Path,
    profile: Profile,
    seeds: Iterable[int],
    faults: frozenset[FaultKind],
    *,
    jobs: int = 1,
    settings: Mapping[str, bool] | None = None,
    detail: bool = False,
) -> Generator[SeedOutcome, None, None]:
    """Each seed's outcome as soon as it is known: in seed order with one job, else as done.

    Closing the iterator, or an exception while it waits (Ctrl-C), terminates
    every worker before it returns.
    """
    tasks = (_SeedTask(path, profile, seed, faults, settings, detail) for seed in seeds)
    if jobs <= 1:
        yield from map(_run_task, tasks)
        return
    # Fork: workers start at once and inherit the command's logging setup.
    pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_start_worker)
    try:
        yield from pool.imap_unordered(_run_task, tasks)
    finally:
        pool.terminate()
        pool.join()


def explore(
    path: Path,
    profile: Profile,
    seeds: Iterable[int],
    faults: frozenset[FaultKind],
    *,
    jobs: int = 1,
    settings: Mapping[str, bool] | None = None,
    progress: Callable[[SeedOutcome], None] = lambda outcome: None,
) -> list[SeedOutcome]:
    """Every seed's outcome, in seed order."""
    outcomes: list[SeedOutcome] = []
    stream = explore_outcomes(path, profile, seeds, faults, jobs=jobs, settings=settings)
    with contextlib.closing(stream):
        for outcome in stream:
            progress(outcome)
            outcomes.append(outcome)
    return sorted(outcomes, key=lambda outcome: outcome.seed)


def replay_command(
    scenario: str,
    profile: Profile,
    seed: int,
    faults: frozenset[FaultKind],
    settings: Iterable[str] = (),
) -> str:
    """The `sharesim run` line that reproduces one seed exactly."""
    command = f"sharesim run {scenario} --profile {profile.value} --seed {seed}"
    command += "".join(f" --set {setting}" for setting in settings)
    return command + (f" --faults {format_faults(faults)}" if faults else "")
