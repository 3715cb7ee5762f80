"""Running one scenario under many seeds with faults, to find races and prove them fixed.

Each seed is an independent, deterministic run: the outcome of seed S is what
`sharesim run SCENARIO --seed S --faults ...` reproduces, trace and all. Seeds
can be spread over worker processes; outcomes are reported in seed order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from actors.rules.profiles import Profile
from scenarios.faults import FaultKind, format_faults
from scenarios.runner import run_scenario
from scenarios.schema import load_scenario


@dataclass(frozen=True, slots=True)
class SeedOutcome:
    seed: int
    problems: tuple[str, ...]
    digest: str

    @property
    def passed(self) -> bool:
        return not self.problems


def explore_seed(
    path: Path, profile: Profile, seed: int, faults: frozenset[FaultKind]
) -> SeedOutcome:
    """Run one seed and summarise what broke (top-level so worker processes can run it)."""
    result = run_scenario(load_scenario(path), profile, seed=seed, faults=faults)
    problems = [str(v) for v in result.violations]
    for failure in result.failures:
        mismatched = "; ".join(
            f"{m.key}: expected {m.expected!r}, saw {m.observed!r}" for m in failure.mismatches
        )
        problems.append(f"expectation {failure.what}" + (f": {mismatched}" if mismatched else ""))
    digest = result.trace.digest() if result.trace is not None else ""
    return SeedOutcome(seed, tuple(problems), digest)


def explore(
    path: Path,
    profile: Profile,
    seeds: Iterable[int],
    faults: frozenset[FaultKind],
    *,
    jobs: int = 1,
    progress: Callable[[SeedOutcome], None] = lambda outcome: None,
) -> list[SeedOutcome]:
    """Every seed's outcome, in seed order."""
    seeds = list(seeds)
    outcomes: list[SeedOutcome] = []
    if jobs <= 1:
        for seed in seeds:
            outcome = explore_seed(path, profile, seed, faults)
            progress(outcome)
            outcomes.append(outcome)
        return outcomes
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(explore_seed, path, profile, seed, faults) for seed in seeds]
        for future in futures:
            outcome = future.result()
            progress(outcome)
            outcomes.append(outcome)
    return outcomes


def replay_command(scenario: str, profile: Profile, seed: int, faults: frozenset[FaultKind]) -> str:
    """The `sharesim run` line that reproduces one seed exactly."""
    command = f"sharesim run {scenario} --profile {profile.value} --seed {seed}"
    return command + (f" --faults {format_faults(faults)}" if faults else "")
