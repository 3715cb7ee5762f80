"""Shrinking in the commands: the `--shrink-runs` option and what a shrunk failure prints."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence

from actors.rules.profiles import Profile
from scenarios.explore import SeedOutcome
from scenarios.fault_plan import plan_to_dict
from scenarios.faults import FaultKind
from scenarios.schema import Scenario
from scenarios.shrink import (
    DEFAULT_SHRINK_RUNS,
    Shrunk,
    describe,
    plan_replay_command,
    shrink_failure,
)


def shrink_runs(text: str) -> int:
    """`--shrink-runs`: a whole number from 0 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0, got {text!r}")
    return value


def add_shrink_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shrink-runs",
        type=shrink_runs,
        default=DEFAULT_SHRINK_RUNS,
        metavar="N",
        help=(
            "at most N runs spent shrinking each failure's faults to the fewest that still break "
            f"the same invariant, expectation or step (default: {DEFAULT_SHRINK_RUNS}); "
            "0 does not shrink"
        ),
    )


class Shrinker:
    """Shrinks the failing seeds of one exploration as they are found, and reports them."""

    def __init__(
        self,
        scenario: Scenario,
        profile: Profile,
        faults: frozenset[FaultKind],
        settings: Mapping[str, bool],
        budget: int,
    ) -> None:
        self._scenario = scenario
        self._profile = profile
        self._faults = faults
        self._settings = settings
        self._budget = budget
        self.shrunk: dict[int, Shrunk] = {}

    def shrink(self, outcome: SeedOutcome) -> None:
        """Shrink a failing seed for the first problem it broke (nothing for a passing one)."""
        if outcome.passed or not self._budget or not outcome.broke:
            return
        self.shrunk[outcome.seed] = shrink_failure(
            self._scenario,
            self._profile,
            outcome.seed,
            self._faults,
            outcome.broke[0],
            settings=self._settings,
            budget=self._budget,
        )

    def replay(self, reference: str, shrunk: Shrunk, seed: int, settings: Sequence[str]) -> str:
        return plan_replay_command(reference, self._profile, seed, shrunk.minimal, settings)

    def lines(self, reference: str, outcome: SeedOutcome, settings: Sequence[str]) -> list[str]:
        """`minimal faults: ...`, what it still breaks and its replay, for a failing seed."""
        if outcome.passed or not self._budget:
            return []
        shrunk = self.shrunk.get(outcome.seed)
        if shrunk is None:
            return ["minimal faults: not shrunk (interrupted)"]
        return [
            f"minimal faults: {describe(shrunk)}",
            f"  still breaks: {shrunk.problem}",
            f"  replay: {self.replay(reference, shrunk, outcome.seed, settings)}",
        ]

    def json(self, reference: str, outcome: SeedOutcome, settings: Sequence[str]) -> str:
        """The seed's JSON line; a failing seed's gains `shrunk` (null if it was not shrunk)."""
        if outcome.passed or not self._budget:
            return outcome.json
        shrunk = self.shrunk.get(outcome.seed)
        record = json.loads(outcome.json)
        record["shrunk"] = (
            None
            if shrunk is None
            else shrunk_record(shrunk, self.replay(reference, shrunk, outcome.seed, settings))
        )
        return json.dumps(record)


def shrunk_record(shrunk: Shrunk, replay: str) -> dict[str, object]:
    """A shrunk failure for `--json`: the plan inline and as a plan file holds it."""
    return {
        "problem": shrunk.problem.to_dict(),
        "fault_plan": str(shrunk.minimal),
        "fault_plan_file": plan_to_dict(shrunk.minimal),
        "runs": shrunk.runs,
        "budget_spent": shrunk.budget_spent,
        "replay": replay,
    }
