"""Shrinking: the fewest faults that still break the same thing, found the same way every time."""

from __future__ import annotations

import json
import shlex

import pytest

from actors.rules.profiles import Profile
from actors.runtime.conditions import Drop, Latency, Partition, Spread
from scenarios import catalog
from scenarios.cli import main
from scenarios.explore import SeedOutcome, explore
from scenarios.fault_plan import FaultPlan, parse_plan, plan_to_dict
from scenarios.faults import FaultKind, plan_faults
from scenarios.problems import Problem, ProblemKind, problems_of
from scenarios.runner import run_scenario
from scenarios.shrink import shrink_failure, shrink_plan

RACE = catalog.load("share-around-first-response")
#: Under `followups`, a viewer offline when the upgraded task id is pushed never learns it.
OFFLINE = catalog.load("viewer-joins-before-first-response")
ALL_FAULTS = frozenset(FaultKind)
#: Seeds of which some fail OFFLINE under faults, and only because of them.
SEEDS = range(40, 50)
EXPLORE_OFFLINE = (
    "explore",
    OFFLINE.name,
    "--profile",
    "followups",
    "--start",
    str(SEEDS.start),
    "--seeds",
    str(len(SEEDS)),
)
HEAVY = FaultPlan(
    Latency(0.01, 0.25, Spread.EXPONENTIAL),
    (Drop(at=1.234), Drop(at=2.0), Drop(at=3.0)),
    (Partition("viewer", "task-server", 4.0, 9.0),),
)


def _failing_under_faults() -> list[SeedOutcome]:
    """Failing seeds of OFFLINE under `followups`."""
    outcomes = explore(OFFLINE.path, Profile.FOLLOWUPS, SEEDS, ALL_FAULTS)
    failing = [o for o in outcomes if not o.passed]
    assert failing, "a fault must take the viewer offline over the push under some seed"
    return failing


def _race_failing() -> SeedOutcome:
    """A failing seed of the race under `current`."""
    return next(o for o in explore(RACE.path, Profile.CURRENT, range(12), ALL_FAULTS) if o.broke)


def test_removal_keeps_only_the_faults_the_problem_needs() -> None:
    plan, runs, spent = shrink_plan(HEAVY, lambda p: Drop(at=2.0) in p.drops, budget=50)
    assert plan == FaultPlan(drops=(Drop(at=2.0),))
    assert not spent
    # drop 1.234 goes, 2.0 stays, 3.0 goes, the partition goes; then no latency; then a second
    # pass finds nothing more; rounding 2.0 changes nothing and costs no run.
    assert runs == 6


def test_latency_is_reduced_to_the_lightest_that_keeps_the_problem() -> None:
    def needs_jitter(plan: FaultPlan) -> bool:
        return plan.latency is not None and plan.latency.jitter >= 0.05

    plan, _, _ = shrink_plan(HEAVY, needs_jitter, budget=50)
    assert plan == FaultPlan(Latency(0.01, 0.0625, Spread.EXPONENTIAL))


def test_times_are_rounded_where_the_problem_allows() -> None:
    def near_the_first_drop(plan: FaultPlan) -> bool:
        return any(abs(drop.at - 1.234) < 0.05 for drop in plan.drops)

    plan, _, _ = shrink_plan(HEAVY, near_the_first_drop, budget=50)
    assert plan == FaultPlan(drops=(Drop(at=1.2),))


def test_the_budget_caps_the_runs_and_says_it_ran_out() -> None:
    plan, runs, spent = shrink_plan(HEAVY, lambda p: True, budget=2)
    assert (runs, spent) == (2, True)
    assert plan == FaultPlan(HEAVY.latency, (Drop(at=3.0),), HEAVY.partitions)


def test_the_budget_counts_every_run_of_a_failure() -> None:
    outcome = _failing_under_faults()[0]
    shrunk = shrink_failure(
        OFFLINE, Profile.FOLLOWUPS, outcome.seed, ALL_FAULTS, outcome.broke[0], budget=3
    )
    assert (shrunk.runs, shrunk.budget_spent) == (3, True)


def test_shrinking_a_failure_is_deterministic() -> None:
    outcome = _failing_under_faults()[0]
    first = shrink_failure(OFFLINE, Profile.FOLLOWUPS, outcome.seed, ALL_FAULTS, outcome.broke[0])
    again = shrink_failure(OFFLINE, Profile.FOLLOWUPS, outcome.seed, ALL_FAULTS, outcome.broke[0])
    assert first == again
    assert first.original == plan_faults(ALL_FAULTS, outcome.seed, OFFLINE)
    assert len(first.minimal.faults()) < len(first.original.faults())


def test_the_offline_viewer_shrinks_to_the_drop_that_takes_it_offline() -> None:
    noisy = parse_plan(
        "latency:0.01+exp(0.25); drop:viewer>session-server@9.9; drop@50; "
        "partition:orchestrator>task-server@60..70"
    )
    problem = Problem(ProblemKind.EXPECTATION, "at 120 s (line 34)", "viewer")

    def breaks(plan: FaultPlan) -> bool:
        result = run_scenario(OFFLINE, Profile.FOLLOWUPS, seed=0, fault_plan=plan)
        return problem in problems_of(result)

    assert breaks(noisy)
    assert shrink_plan(noisy, breaks, budget=50)[0] == parse_plan("drop:viewer>session-server@9.9")


def test_the_minimal_plan_breaks_the_same_problem_and_no_fault_can_go() -> None:
    for outcome in _failing_under_faults():
        problem = outcome.broke[0]
        shrunk = shrink_failure(OFFLINE, Profile.FOLLOWUPS, outcome.seed, ALL_FAULTS, problem)
        assert not shrunk.budget_spent

        def breaks(plan: FaultPlan, seed: int = outcome.seed, wanted: Problem = problem) -> bool:
            result = run_scenario(OFFLINE, Profile.FOLLOWUPS, seed=seed, fault_plan=plan)
            return wanted in problems_of(result)

        assert breaks(shrunk.minimal)
        for index in range(len(shrunk.minimal.faults())):
            assert not breaks(shrunk.minimal.without(index))
        if shrunk.minimal.latency is not None:
            assert not breaks(shrunk.minimal.with_latency(None))


def test_another_failure_is_not_the_same_problem() -> None:
    outcome = _race_failing()
    elsewhere = Problem(ProblemKind.INVARIANT, "pill-bar-keeps-children", "viewer")
    assert elsewhere not in outcome.broke
    shrunk = shrink_failure(RACE, Profile.CURRENT, outcome.seed, ALL_FAULTS, elsewhere, budget=6)
    # Every candidate still fails the race's expectation, but none breaks this invariant.
    assert shrunk.minimal == shrunk.original


def test_problems_name_the_expectation_and_its_viewer() -> None:
    outcome = _race_failing()
    [end] = RACE.expectations_for(Profile.CURRENT)
    where = f"at 200 s (line {end.line})"
    assert outcome.broke == (Problem(ProblemKind.EXPECTATION, where, "viewer"),)
    assert str(outcome.broke[0]) == f"expectation viewer {where}"


def test_explore_prints_each_minimal_plan_and_its_replay_reproduces_the_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*EXPLORE_OFFLINE]) == 1
    out = capsys.readouterr().out.splitlines()
    failing = [line for line in out if line.startswith("seed ")]
    minimal = [n for n, line in enumerate(out) if line.startswith("minimal faults: ")]
    assert failing
    assert len(minimal) == len(failing)
    for index in minimal:
        assert out[index + 1] == "  still breaks: expectation viewer at 120 s (line 34)"
        replay = out[index + 2].removeprefix("  replay: ")
        assert replay.startswith(f"sharesim run {OFFLINE.name} --profile followups --seed ")
        plan = out[index].removeprefix("minimal faults: ").rsplit(" (", 1)[0]
        assert replay.endswith(f" --fault-plan '{plan}'")
        assert main([*shlex.split(replay)[1:], "--json"]) == 1
        record = json.loads(capsys.readouterr().out)
        assert record["fault_plan"] == str(parse_plan(plan))
        broken = [
            (e["viewer"], e["at"], e["line"]) for e in record["expectations"] if not e["held"]
        ]
        assert broken == [("viewer", 120.0, 34)]


def test_explore_json_carries_the_shrunk_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*EXPLORE_OFFLINE, "--json"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == len(SEEDS)
    for record in records:
        if record["verdict"] == "pass":
            assert "shrunk" not in record
            continue
        shrunk = record["shrunk"]
        assert shrunk["problem"] == {
            "kind": "expectation",
            "what": "at 120 s (line 34)",
            "actor": "viewer",
        }
        assert shrunk["replay"].endswith(f"--fault-plan '{shrunk['fault_plan']}'")
        assert shrunk["runs"] > 0
        assert shrunk["fault_plan_file"] == plan_to_dict(parse_plan(shrunk["fault_plan"]))
        assert shrunk["budget_spent"] is False


def test_shrinking_can_be_turned_off_or_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*EXPLORE_OFFLINE, "--shrink-runs", "0"]) == 1
    out = capsys.readouterr().out
    assert "seed " in out
    assert "minimal faults:" not in out
    assert main([*EXPLORE_OFFLINE, "--shrink-runs", "2"]) == 1
    assert "; 2 runs; shrinking stopped at its budget of 2 runs)" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="2"):
        main(["explore", RACE.name, "--seeds", "1", "--shrink-runs", "-1"])
    assert "--shrink-runs: expected a whole number from 0, got '-1'" in capsys.readouterr().err
