"""Shrinking a failure: the smallest fault plan under which the same problem still happens.

A failing seed under faults carries several drops, a partition and random
latency; most of them are noise. Shrinking reruns the seed with smaller
plans and keeps one only while the run breaks the same problem (not merely
any problem), in a fixed order, until nothing more can go:

0. aim each drop at the connection it took in the failing run (`drop@9.9`
   becomes `drop:viewer>session-server@9.9`), if the problem still happens
   so: a drop that leaves its victim to the seed may take another one once
   an earlier fault is gone;
1. remove the faults one at a time, in plan order (a removal that keeps the
   problem is kept, and the same position is tried again);
2. reduce the latency: none at all, then the flat base, then the random part
   an eighth, a quarter and half as large (the lightest that keeps it wins);
3. repeat 1 and 2 while either changed something;
4. round each remaining time to a tenth of a second, where that keeps it.

Every step is a deterministic run, so the same failure always shrinks to the
same plan. A budget caps the runs per failure; when it runs out, the
smallest plan found so far is the answer, and says so.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from actors.rules.profiles import Profile
from actors.runtime.conditions import Drop, Latency, Partition
from actors.runtime.trace import TraceRecord
from scenarios.explore import replay_command
from scenarios.fault_plan import Fault, FaultPlan
from scenarios.faults import FaultKind, plan_faults
from scenarios.problems import Problem, problems_of
from scenarios.runner import RunResult, run_scenario
from scenarios.schema import Scenario

#: Runs per failure unless told otherwise: enough for a seed's plan (up to three
#: drops, a partition and latency) to shrink all the way, a few seconds of work.
DEFAULT_SHRINK_RUNS = 50
#: The fractions of the random part of the latency tried, lightest first.
_JITTER_FRACTIONS = (1 / 8, 1 / 4, 1 / 2)
#: Below this (seconds) the random part of the latency is not reduced further.
_JITTER_FLOOR = 0.001
#: The decimals times are rounded to, when the problem allows.
_ROUNDING = 1


@dataclass(frozen=True, slots=True)
class Shrunk:
    """The outcome of shrinking one failure."""

    problem: Problem
    original: FaultPlan
    minimal: FaultPlan
    #: How many runs shrinking took.
    runs: int
    #: Whether the budget ran out before shrinking was done.
    budget_spent: bool


class _Budgeted:
    """A `still_breaks` test that counts its runs and refuses once the budget is spent."""

    def __init__(self, still_breaks: Callable[[FaultPlan], bool], budget: int) -> None:
        self._still_breaks = still_breaks
        self._budget = budget
        self.runs = 0
        self.spent = False

    def __call__(self, plan: FaultPlan) -> bool:
        if not self.affordable():
            return False
        self.runs += 1
        return self._still_breaks(plan)

    def affordable(self) -> bool:
        """Whether one more run fits; noting, if not, that the budget ran out."""
        if self.runs >= self._budget:
            self.spent = True
        return not self.spent


def shrink_plan(
    plan: FaultPlan, still_breaks: Callable[[FaultPlan], bool], *, budget: int
) -> tuple[FaultPlan, int, bool]:
    """The smallest plan `still_breaks` accepts, the runs it took, and whether the budget ran out.

    `plan` itself is taken to break (it is the failure being shrunk).
    """
    test = _Budgeted(still_breaks, budget)
    return _shrunk(plan, test), test.runs, test.spent


def _shrunk(plan: FaultPlan, test: _Budgeted) -> FaultPlan:
    """Steps 1 to 4 of the module docstring."""
    current = plan
    changed = True
    while changed and not test.spent:
        changed = False
        index = 0
        while index < len(current.faults()):
            candidate = current.without(index)
            if test(candidate):
                current, changed = candidate, True
            else:
                index += 1
        for latency in _lighter(current.latency):
            candidate = current.with_latency(latency)
            if test(candidate):
                current, changed = candidate, True
                break
    for index in range(len(current.faults())):
        rounded = _rounded(current, index)
        if rounded != current and test(rounded):
            current = rounded
    return current


def _lighter(latency: Latency | None) -> Iterator[Latency | None]:
    """Lighter latencies than `latency`, lightest first."""
    if latency is None:
        return
    yield None
    if latency.jitter:
        yield Latency(latency.base)
        if latency.jitter * _JITTER_FRACTIONS[0] >= _JITTER_FLOOR:
            for fraction in _JITTER_FRACTIONS:
                yield replace(latency, jitter=latency.jitter * fraction)


def _rounded(plan: FaultPlan, index: int) -> FaultPlan:
    """`plan` with the times of `faults()[index]` rounded (a partition must keep some length)."""
    fault: Fault = plan.faults()[index]
    if isinstance(fault, Drop):
        drops = list(plan.drops)
        drops[index] = replace(fault, at=round(fault.at, _ROUNDING))
        return replace(plan, drops=tuple(drops))
    start, end = round(fault.start, _ROUNDING), round(fault.end, _ROUNDING)
    if end <= start:
        return plan
    partitions = list(plan.partitions)
    partitions[index - len(plan.drops)] = Partition(fault.actor, fault.server, start, end)
    return replace(plan, partitions=tuple(partitions))


def _aimed(plan: FaultPlan, records: Sequence[TraceRecord]) -> FaultPlan:
    """`plan` with each drop aimed at the connection it took in the run that left `records`."""
    taken = {record.t: record for record in records if record.type == "Drop"}
    drops = tuple(
        replace(drop, actor=taken[drop.at].src, server=taken[drop.at].dst)
        if drop.at in taken and drop.actor is None and drop.server is None
        else drop
        for drop in plan.drops
    )
    return replace(plan, drops=drops)


def shrink_failure(
    scenario: Scenario,
    profile: Profile,
    seed: int,
    faults: frozenset[FaultKind],
    problem: Problem,
    *,
    settings: Mapping[str, bool] | None = None,
    budget: int = DEFAULT_SHRINK_RUNS,
) -> Shrunk:
    """Shrink the plan seed `seed` gives, keeping `problem` (one the seed's run broke).

    `settings` are the run's `--set` switches, as for `run_scenario`.
    """

    def run(plan: FaultPlan) -> RunResult:
        return run_scenario(scenario, profile, seed=seed, settings=settings, fault_plan=plan)

    test = _Budgeted(lambda plan: problem in problems_of(run(plan)), budget)
    original = plan_faults(faults, seed, scenario)
    start = original
    if original.drops and test.affordable():
        # Step 0 needs the failing run itself, to see which connections its drops took.
        test.runs += 1
        failing = run(original)
        aimed = _aimed(original, failing.trace.fault_records() if failing.trace else [])
        if problem in problems_of(failing) and aimed != original and test(aimed):
            start = aimed
    minimal = _shrunk(start, test)
    return Shrunk(problem, original, minimal, test.runs, test.spent)


def plan_replay_command(
    scenario: str,
    profile: Profile,
    seed: int,
    plan: FaultPlan,
    settings: Iterable[str] = (),
) -> str:
    """The `sharesim run` line that replays one seed under exactly `plan`."""
    command = replay_command(scenario, profile, seed, frozenset(), settings)
    return f"{command} --fault-plan {_quoted(str(plan))}"


def _quoted(text: str) -> str:
    """Always quoted, so a plan reads the same whatever it holds."""
    return f"'{text}'" if "'" not in text else shlex.quote(text)


def describe(shrunk: Shrunk) -> str:
    """`drop@64.3 (1 of 5 faults kept; 12 runs)`: the minimal plan and how it was reached.

    The latency counts as one fault.
    """
    kept = len(shrunk.minimal.faults()) + (shrunk.minimal.latency is not None)
    total = len(shrunk.original.faults()) + (shrunk.original.latency is not None)
    note = f"{kept} of {total} faults kept; {shrunk.runs} runs"
    if shrunk.minimal.empty:
        note = f"it breaks without faults; {shrunk.runs} runs"
    if shrunk.budget_spent:
        note += f"; shrinking stopped at its budget of {shrunk.runs} runs"
    return f"{shrunk.minimal} ({note})"
