"""Findings: failing seeds grouped into holes, each shrunk, replayable, tried against switches."""

from __future__ import annotations

import json
import shlex

import pytest

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.cli import main
from scenarios.explore import SeedOutcome, explore_seed
from scenarios.faults import FaultKind
from scenarios.findings import HARDENED, Findings, switches_added
from scenarios.problems import Problem, ProblemKind

RACE = catalog.load("share-around-first-response")
OFFLINE = catalog.load("viewer-joins-before-first-response")
ALL_FAULTS = frozenset(FaultKind)
#: The race's one expectation: the viewer ends with the pill bar.
[RACE_END] = RACE.expectations_for(Profile.FOLLOWUPS)
RACE_PROBLEM = Problem(ProblemKind.EXPECTATION, f"at 200 s (line {RACE_END.line})", "viewer")
OFFLINE_PROBLEM = Problem(ProblemKind.EXPECTATION, "at 144 s (line 37)", "viewer")
INVARIANT = Problem(ProblemKind.INVARIANT, "pill-bar-keeps-children", "viewer")


def _failing(seed: int, *broke: Problem) -> SeedOutcome:
    return SeedOutcome(seed, tuple(f"{p}: seen on {seed}" for p in broke), "digest", "", broke)


def test_the_switches_a_profile_adds_over_followups() -> None:
    assert switches_added("followups", over=Profile.CURRENT) == {
        "fetch_error_backoff": True,
        "push_source_task_id": True,
        "sibling_name_resolution": True,
        "push_child_discovery": True,
    }
    assert switches_added("no-such-profile") == {}
    if HARDENED in {p.value for p in Profile}:
        assert switches_added(), f"{HARDENED} must set some switch apart from followups"
    else:
        assert switches_added() == {}


def test_seeds_group_by_what_they_broke_first_whatever_order_they_arrive_in() -> None:
    current = [
        _failing(7, RACE_PROBLEM),
        _failing(3, RACE_PROBLEM, INVARIANT),
        _failing(5, INVARIANT, RACE_PROBLEM),
        SeedOutcome(4, (), "digest"),
    ]
    followups = [_failing(2, RACE_PROBLEM)]
    reports = []
    for arrival in (current, current[::-1]):
        findings = Findings(ALL_FAULTS, {})
        for outcome in arrival:
            findings.add("race", RACE, Profile.CURRENT, outcome)
        for outcome in followups:
            findings.add("race", RACE, Profile.FOLLOWUPS, outcome)
        assert (findings.runs, findings.failing) == (5, 4)
        reports.append(
            [
                (h.problem, h.example, h.hits, h.detail, {p: sorted(s) for p, s in h.seeds.items()})
                for h in findings.holes()
            ]
        )
        assert [h.also for h in findings.holes()] == [{INVARIANT: 1}, {RACE_PROBLEM: 1}]
    assert reports[0] == reports[1]
    assert reports[0] == [
        (
            RACE_PROBLEM,
            (Profile.CURRENT, 3),
            3,
            f"{RACE_PROBLEM}: seen on 3",
            {Profile.CURRENT: [3, 7], Profile.FOLLOWUPS: [2]},
        ),
        (INVARIANT, (Profile.CURRENT, 5), 1, f"{INVARIANT}: seen on 5", {Profile.CURRENT: [5]}),
    ]


def test_a_new_hole_is_announced_once() -> None:
    findings = Findings(ALL_FAULTS, {})
    first = findings.add("race", RACE, Profile.CURRENT, _failing(1, RACE_PROBLEM))
    assert first is not None
    assert first.problem == RACE_PROBLEM
    assert findings.add("race", RACE, Profile.CURRENT, _failing(2, RACE_PROBLEM)) is None
    assert findings.add("race", RACE, Profile.CURRENT, SeedOutcome(3, (), "digest")) is None


def test_a_switch_that_closes_a_hole_is_named_and_one_that_does_not_is_not() -> None:
    # The race under `current` is what pushing the upgraded task id was proposed to fix.
    candidates = {"push_source_task_id": True, "sibling_name_resolution": True}
    findings = Findings(ALL_FAULTS, candidates)
    seed = next(s for s in range(12) if _race_fails(findings, s))
    [hole] = findings.holes()
    findings.settle(hole, budget=20)
    assert hole.closed_by == ("push_source_task_id",)
    assert hole.shrunk is not None
    assert hole.example == (Profile.CURRENT, seed)


def _race_fails(findings: Findings, seed: int) -> bool:
    """Explore one seed of the race under `current` into `findings`; whether it failed."""
    outcome = explore_seed(RACE.path, Profile.CURRENT, seed, ALL_FAULTS)
    findings.add(RACE.name, RACE, Profile.CURRENT, outcome)
    return not outcome.passed


def test_a_switch_the_profile_already_has_is_not_tried() -> None:
    findings = Findings(ALL_FAULTS, {"push_source_task_id": True})
    assert next(s for s in range(12) if _race_fails(findings, s)) is not None
    [hole] = findings.holes()
    hole.seeds = {Profile.FOLLOWUPS: hole.seeds[Profile.CURRENT]}
    findings.settle(hole, budget=0)
    assert hole.closed_by == ()


def test_the_report_has_a_row_per_hole_and_its_replay_reproduces_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scenarios.cli.findings.switches_added", dict)
    args = ["findings", OFFLINE.name, "--profiles", "followups", "--start", "40", "--seeds", "10"]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert f"  new hole: {OFFLINE.name}: {OFFLINE_PROBLEM} (seed " in err
    assert "Switches tried for closing each hole: none" in out
    [row] = [line for line in out.splitlines() if line.startswith("| 1 |")]
    cells = [cell.strip() for cell in row.strip("|").split(" | ")]
    _, scenario, broke, actor, profiles, hits, minimal, replay, closed = cells
    assert (scenario, broke, actor) == (OFFLINE.name, "expectation at 144 s (line 37)", "viewer")
    assert profiles == f"followups ({hits})"
    assert minimal not in ("`none`", "`not shrunk`")
    assert replay == (
        f"`sharesim run {OFFLINE.name} --profile followups --seed "
        f"{replay.split('--seed ')[1].split()[0]} --fault-plan '{minimal.strip('`')}'`"
    )
    assert closed == "none known"
    assert main([*shlex.split(replay.strip("`"))[1:], "--json"]) == 1
    record = json.loads(capsys.readouterr().out)
    broken = [(e["viewer"], e["at"], e["line"]) for e in record["expectations"] if not e["held"]]
    assert broken == [("viewer", 144.0, 37)]


def test_the_json_report_says_the_same(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scenarios.cli.findings.switches_added", dict)
    args = ["findings", OFFLINE.name, "--profiles", "followups", "--start", "40", "--seeds", "10"]
    assert main(args) == 1
    markdown = capsys.readouterr().out
    assert main([*args, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["profiles"] == ["followups"]
    assert report["seeds"] == {"start": 40, "count": 10}
    assert report["runs"] == 10
    [hole] = report["holes"]
    assert hole["problem"] == {
        "kind": "expectation",
        "what": "at 144 s (line 37)",
        "actor": "viewer",
    }
    assert hole["hits"] == len(hole["seeds"]["followups"])
    assert f"`{hole['replay']}`" in markdown
    assert f"`{hole['minimal_faults']}`" in markdown
    assert hole["closed_by"] == []


def test_a_switch_set_closes_holes_in_the_report(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "scenarios.cli.findings.switches_added", lambda: {"push_source_task_id": True}
    )
    assert main(["findings", RACE.name, "--profiles", "current", "--seeds", "6"]) == 1
    out = capsys.readouterr().out
    assert "Switches tried for closing each hole: push_source_task_id=true." in out
    [row] = [line for line in out.splitlines() if line.startswith("| 1 |")]
    assert row.endswith("| push_source_task_id |")


def test_no_hole_exits_0_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["findings", "local-local-share-parent", "--profiles", "followups", "--seeds", "3"])
        == 0
    )
    assert "No holes found." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profiles", "hardend"], "unknown profile 'hardend'; valid profiles: "),
        (["--seeds", "0"], "--seeds must be at least 1, got 0"),
        (["--jobs", "0"], "--jobs must be between 1 and "),
        (["--faults", "lag"], "unknown fault 'lag'"),
        (["no-such-scenario"], "no-such-scenario: no scenario of that name"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["findings", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sharesim findings: ")
    assert message in err
    assert len(err.splitlines()) == 1


def test_followups_keeps_the_hole_of_child_updates_before_the_upgrade(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Child updates that reach the viewer before the task-id upgrade are dropped, and the
    # viewer ends with no pill bar: a hole of the follow-ups as proposed.
    args = ["findings", RACE.name, "--profiles", "followups", "--seeds", "40", "--json"]
    assert main(args) == 1
    holes = json.loads(capsys.readouterr().out)["holes"]
    [hole] = [h for h in holes if h["problem"]["actor"] == "viewer"]
    assert hole["problem"] == {
        "kind": "expectation",
        "what": RACE_PROBLEM.what,
        "actor": "viewer",
    }
    assert "pill_bar: expected True, saw False" in hole["example"]["detail"]


def test_the_seeds_runs_print_no_log_lines(capfd: pytest.CaptureFixture[str]) -> None:
    """Its seeds' warnings (ended children's refused links) carry no seed: none is printed."""
    args = ["findings", "children-ended-before-share", "--profiles", "current", "--seeds", "1"]
    main(args)
    assert "session_link_refused" not in capfd.readouterr().err


def test_the_report_names_scenarios_whose_passing_seeds_checked_no_expectation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A hole-free row of seeds means little where every check assumes no faults."""
    args = ["findings", "pill-selection", "child-launch-failure", "--profiles", "hardened"]
    assert main([*args, "--seeds", "2"]) == 0
    assert (
        "Passed checking no expectation (every check assumes no faults): "
        "pill-selection [hardened] 2 of 2 seeds." in capsys.readouterr().out
    )
    assert main([*args, "--seeds", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    unchecked = {"scenario": "pill-selection", "profile": "hardened", "seeds": 2}
    assert report["unchecked"] == [unchecked]
