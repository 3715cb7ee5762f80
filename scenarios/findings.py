"""Findings: every distinct hole exploration finds, across scenarios and profiles.

Failing seeds are grouped by what broke first (the scenario and the problem:
an invariant and the actor that broke it, an expectation and its viewer, or a
step); what else a seed broke is noted with the hole, since a step that could
not be carried out usually fails the checks after it too. Each group is one
hole: the profiles it affects and the seeds that
hit it, its first seed's failure shrunk to a minimal fault plan with the
command that replays it, and the switches that close it, found by rerunning
that shrunk case with each switch of the `hardened` profile turned on alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from actors.rules.profiles import Profile
from scenarios.designs import Design
from scenarios.explore import SeedOutcome, replay_command
from scenarios.fault_plan import FaultPlan
from scenarios.faults import FaultKind, plan_faults
from scenarios.problems import Problem, problems_of
from scenarios.runner import run_scenario
from scenarios.schema import Scenario
from scenarios.shrink import Shrunk, plan_replay_command, shrink_failure

#: The profile whose switches are tried, one at a time, to close each hole.
HARDENED = "hardened"


def switches_added(name: str = HARDENED, over: Profile = Profile.FOLLOWUPS) -> dict[str, bool]:
    """The switches profile `name` sets differently from `over`: none while it does not exist."""
    try:
        profile = Profile(name)
    except ValueError:
        return {}
    base = over.switches().to_dict()
    return {
        switch: value
        for switch, value in profile.switches().to_dict().items()
        if base[switch] != value
    }


@dataclass
class Hole:
    """One thing that breaks in one scenario, under one profile or several."""

    reference: str
    scenario: Scenario
    problem: Problem
    #: The seeds that hit it, by profile, in the order profiles were explored.
    seeds: dict[Profile, list[int]] = field(default_factory=dict)
    #: What broke on the first seed, in full.
    detail: str = ""
    #: What else the seeds broke after this, with how many seeds did.
    also: dict[Problem, int] = field(default_factory=dict)
    shrunk: Shrunk | None = None
    #: The plan the example runs under: the shrunk one, or the seed's own if not shrunk.
    plan: FaultPlan | None = None
    #: The switches that close it, each on its own; None until they were tried.
    closed_by: tuple[str, ...] | None = None

    @property
    def example(self) -> tuple[Profile, int]:
        """The case shown and shrunk: the first seed under the first profile that hit it."""
        profile = next(iter(self.seeds))
        return profile, min(self.seeds[profile])

    @property
    def hits(self) -> int:
        return sum(len(seeds) for seeds in self.seeds.values())

    def replay(self, faults: frozenset[FaultKind]) -> str:
        profile, seed = self.example
        if self.plan is None:
            return replay_command(self.reference, profile, seed, faults)
        return plan_replay_command(self.reference, profile, seed, self.plan)


class Findings:
    """Holes collected from explored seeds, settled (shrunk, tried against switches) on demand.

    Holes come out in a fixed order whatever order the seeds arrived in, so
    the report is the same with one worker or many.
    """

    def __init__(self, faults: frozenset[FaultKind], candidates: Mapping[str, bool]) -> None:
        self.faults = faults
        #: The switches tried for closing holes, with the value each is tried at.
        self.candidates = dict(candidates)
        self.runs = 0
        self.failing = 0
        #: Passing seeds that checked no expectation, by scenario and profile.
        self.unchecked: dict[tuple[str, Profile], int] = {}
        self._holes: dict[tuple[str, Problem], Hole] = {}
        self._order: dict[str, int] = {}

    def add(
        self, reference: str, scenario: Scenario, profile: Profile, outcome: SeedOutcome
    ) -> Hole | None:
        """Count one explored seed; a failing one joins the hole of the problem it broke first.

        Returns the hole if this seed found it.
        """
        self.runs += 1
        self._order.setdefault(reference, len(self._order))
        if outcome.passed and outcome.checked == 0:
            key = (reference, profile)
            self.unchecked[key] = self.unchecked.get(key, 0) + 1
        if outcome.passed or not outcome.broke:
            return None
        self.failing += 1
        first, *others = dict.fromkeys(outcome.broke)
        new = (reference, first) not in self._holes
        hole = self._holes.setdefault((reference, first), Hole(reference, scenario, first))
        hole.seeds.setdefault(profile, []).append(outcome.seed)
        if hole.example == (profile, outcome.seed):
            hole.detail = outcome.problems[0] if outcome.problems else str(first)
        for other in others:
            hole.also[other] = hole.also.get(other, 0) + 1
        return hole if new else None

    def unchecked_runs(self) -> list[tuple[str, Profile, int]]:
        """(scenario, profile, seeds) whose passing seeds checked no expectation, in the
        scenarios' order, whatever order the seeds arrived in."""
        profiles = list(Profile)
        return [
            (reference, profile, count)
            for (reference, profile), count in sorted(
                self.unchecked.items(),
                key=lambda item: (self._order[item[0][0]], profiles.index(item[0][1])),
            )
        ]

    def holes(self, reference: str | None = None) -> list[Hole]:
        """Every hole (or those of one scenario): by scenario, then by what broke."""
        chosen = [h for h in self._holes.values() if reference in (None, h.reference)]
        return sorted(chosen, key=self._rank)

    def _rank(self, hole: Hole) -> tuple[int, str, str, str]:
        problem = hole.problem
        return (self._order[hole.reference], problem.kind.value, problem.actor, problem.what)

    def settle(self, hole: Hole, *, budget: int) -> None:
        """Shrink the hole's example (unless `budget` is 0), then try each candidate switch."""
        profile, seed = hole.example
        scenario = hole.scenario
        if budget:
            hole.shrunk = shrink_failure(
                scenario, profile, seed, self.faults, hole.problem, budget=budget
            )
            hole.plan = hole.shrunk.minimal
        plan = hole.plan if hole.plan is not None else plan_faults(self.faults, seed, scenario)
        closing = []
        switches = Design.of(profile, scenario.pinned(profile), {}).switches.to_dict()
        for switch, value in self.candidates.items():
            if switches[switch] == value:
                continue  # already so in this run: it cannot be what closes the hole
            result = run_scenario(
                scenario, profile, seed=seed, settings={switch: value}, fault_plan=plan
            )
            if hole.problem not in problems_of(result):
                closing.append(switch)
        hole.closed_by = tuple(closing)
