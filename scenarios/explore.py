"""Running one scenario under many seeds with faults, to find races and prove them fixed.

Each seed is an independent, deterministic run: the outcome of seed S is what
`sharesim run SCENARIO --seed S --faults ...` reproduces, trace and all. Seeds
can be spread over worker processes or a Dask cluster (`scenarios.executors`);
what crosses to a worker is a `SeedWork` and the seeds, and what comes back
is their `SeedOutcome`s, the same wherever they ran.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.executors import Executor, InProcess, LocalProcesses
from scenarios.faults import FaultKind, format_faults
from scenarios.problems import Problem, problems_of
from scenarios.results import to_json
from scenarios.runner import run_scenario
from scenarios.schema import Scenario, load_scenario


@dataclass(frozen=True, slots=True)
class SeedOutcome:
    seed: int
    problems: tuple[str, ...]
    digest: str
    #: The run's result as a JSON line (`scenarios.results`), when it was asked for.
    json: str = ""
    #: What broke, as a shrunk plan must still break it and findings group it.
    broke: tuple[Problem, ...] = ()
    #: How many expectations were checked: none when every check assumes no faults, so
    #: that a pass says only that no invariant broke and every step could be taken.
    checked: int = 0

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class SeedWork:
    """What every seed of one exploration shares, as sent to a worker.

    A bundled scenario travels as its place in the bundle, so a worker with
    the project installed anywhere finds it; any other file as its absolute
    path, which a worker on another machine must be able to read. Results
    name the file as the command knows it, wherever it was read.
    """

    scenario: str
    shown_as: str
    profile: Profile
    faults: frozenset[FaultKind]
    settings: Mapping[str, bool] | None
    detail: bool

    @classmethod
    def of(
        cls,
        path: Path,
        profile: Profile,
        faults: frozenset[FaultKind],
        settings: Mapping[str, bool] | None,
        detail: bool,
    ) -> SeedWork:
        absolute = path.resolve()
        bundled = absolute.is_relative_to(catalog.HERE)
        scenario = str(absolute.relative_to(catalog.HERE) if bundled else absolute)
        return cls(scenario, str(path), profile, faults, settings, detail)

    def load(self) -> Scenario:
        """The scenario, read from where this process finds it."""
        scenario = load_scenario(catalog.HERE / self.scenario)
        return dataclasses.replace(scenario, path=Path(self.shown_as))


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
    return _outcome(load_scenario(path), profile, seed, faults, settings, detail=detail)


def _outcome(
    scenario: Scenario,
    profile: Profile,
    seed: int,
    faults: frozenset[FaultKind],
    settings: Mapping[str, bool] | None,
    *,
    detail: bool,
) -> SeedOutcome:
    result = run_scenario(scenario, profile, seed=seed, faults=faults, settings=settings)
    problems = [str(v) for v in result.violations]
    for failure in result.failures:
        mismatched = "; ".join(
            f"{m.key}: expected {m.expected!r}, saw {m.observed!r}" for m in failure.mismatches
        )
        problems.append(f"expectation {failure.what}" + (f": {mismatched}" if mismatched else ""))
    digest = result.trace.digest() if result.trace is not None else ""
    json = to_json(result) if detail else ""
    return SeedOutcome(seed, tuple(problems), digest, json, problems_of(result), result.checked)


def run_seeds(work: SeedWork, seeds: tuple[int, ...]) -> list[SeedOutcome]:
    """One batch of seeds, wherever it runs: the scenario is read once for the batch."""
    scenario = work.load()
    return [
        _outcome(scenario, work.profile, seed, work.faults, work.settings, detail=work.detail)
        for seed in seeds
    ]


def explore_outcomes(
    path: Path,
    profile: Profile,
    seeds: Iterable[int],
    faults: frozenset[FaultKind],
    *,
    jobs: int = 1,
    executor: Executor | None = None,
    settings: Mapping[str, bool] | None = None,
    detail: bool = False,
) -> Generator[SeedOutcome, None, None]:
    """Each seed's outcome as soon as it is known: in seed order in this process, else as done.

    The seeds run on `executor` (which the caller opened), else in `jobs`
    local processes. Closing the iterator, or an exception while it waits
    (Ctrl-C), stops every seed still pending before it returns.
    """
    work = SeedWork.of(path, profile, faults, settings, detail)
    if executor is None:
        executor = InProcess() if jobs <= 1 else LocalProcesses(jobs)
    yield from executor.run(run_seeds, work, list(seeds))


class InSeedOrder:
    """Outcomes that arrive in any order, handed on in seed order as the gaps fill.

    Output then reads the same whatever ran the seeds; what is still held back
    when a campaign stops early comes out with `rest`.
    """

    def __init__(self, seeds: Iterable[int]) -> None:
        self._order = iter(sorted(seeds))
        self._next: int | None = next(self._order, None)
        self._held: dict[int, SeedOutcome] = {}

    def add(self, outcome: SeedOutcome) -> list[SeedOutcome]:
        """The outcomes that can go out now, in seed order."""
        self._held[outcome.seed] = outcome
        ready = []
        while self._next is not None and self._next in self._held:
            ready.append(self._held.pop(self._next))
            self._next = next(self._order, None)
        return ready

    def rest(self) -> list[SeedOutcome]:
        """The outcomes still held back, in seed order (some seed before them never came)."""
        held = [self._held[seed] for seed in sorted(self._held)]
        self._held.clear()
        return held


def explore(
    path: Path,
    profile: Profile,
    seeds: Iterable[int],
    faults: frozenset[FaultKind],
    *,
    jobs: int = 1,
    executor: Executor | None = None,
    settings: Mapping[str, bool] | None = None,
    progress: Callable[[SeedOutcome], None] = lambda outcome: None,
) -> list[SeedOutcome]:
    """Every seed's outcome, in seed order."""
    outcomes: list[SeedOutcome] = []
    stream = explore_outcomes(
        path, profile, seeds, faults, jobs=jobs, executor=executor, settings=settings
    )
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
