"""A race-marked profile is reported as a race to explore, never judged by one seed's luck;
the profiles it does not name are judged as ever, and so are invariants and steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actors.rules.profiles import Profile
from actors.runtime.transport import Mode
from scenarios import catalog
from scenarios.cli import main
from scenarios.expectations import Mismatch
from scenarios.explore import explore
from scenarios.faults import FaultKind
from scenarios.invariants import Violation
from scenarios.runner import Failure, RunResult, Verdict, run_scenario
from scenarios.schema import Scenario

RACE = "share-around-first-response"
SEEDS = range(10)
#: What makes a race show: with no latency the side with fewer hops always wins.
LATENCY = frozenset({FaultKind.LATENCY})


def _seeds(scenario: Scenario, profile: Profile) -> tuple[list[int], list[int]]:
    """(passing, failing) seeds of a scenario with network latency."""
    outcomes = explore(scenario.path, profile, SEEDS, LATENCY)
    return [o.seed for o in outcomes if o.passed], [o.seed for o in outcomes if not o.passed]


@pytest.mark.parametrize(
    ("scenario", "profile"),
    [pytest.param(s, p, id=f"{s.name}-{p.value}") for s in catalog.load_all() for p in s.races],
)
def test_every_race_marked_in_the_bundle_is_a_race(scenario: Scenario, profile: Profile) -> None:
    """Some seeds pass and some fail: a marker must not outlive its race, nor cover a
    profile that now fails under every interleaving."""
    passing, failing = _seeds(scenario, profile)
    assert passing, f"{scenario.name} fails under every seed of {profile.value}: a regression"
    assert failing, f"{scenario.name} no longer races under {profile.value}: drop the marker"


def test_the_race_is_marked_for_current_only() -> None:
    assert catalog.load(RACE).races == (Profile.CURRENT,)


def test_the_create_time_race_is_marked_where_no_switch_closes_it() -> None:
    """Seeds 0-9 with latency split under current and followups alike."""
    assert catalog.load("share-while-spawning").races == (Profile.CURRENT, Profile.FOLLOWUPS)


def test_a_race_is_neither_pass_nor_fail_whatever_seed_0_did() -> None:
    scenario = catalog.load(RACE)
    passing, failing = _seeds(scenario, Profile.CURRENT)
    for seed in (passing[0], failing[0]):
        result = run_scenario(scenario, Profile.CURRENT, seed=seed, faults=LATENCY)
        assert result.verdict is Verdict.RACE


def test_run_reports_the_race_with_the_command_to_explore_it_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", RACE, "--transport", Mode.TCP.value]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith(RACE))
    assert row.split()[1:3] == ["current", "race"]
    assert f"sharesim explore {RACE} --profile current --seeds 100" in out
    assert main(["run", RACE, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["verdict"] == "race"
    assert record["explore"] == f"sharesim explore {RACE} --profile current --seeds 100"


def test_a_named_seed_is_judged_so_a_replay_reproduces_the_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    passing, failing = _seeds(catalog.load(RACE), Profile.CURRENT)
    replay = ["run", RACE, "--faults", "latency", "--seed"]
    assert main([*replay, str(failing[0])]) == 1
    assert "a race under current: this is one seed's interleaving" in capsys.readouterr().out
    assert main([*replay, str(passing[0])]) == 0


def test_explore_still_reports_the_failing_seeds_of_a_race(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["explore", RACE, "--seeds", "10", "--faults", "latency"]) == 1
    assert "replay: sharesim run share-around-first-response --profile current" in (
        capsys.readouterr().out
    )


def test_the_profiles_not_named_are_still_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A regression under followups fails though current is marked as a race."""
    text = catalog.load(RACE).path.read_text()
    broken = text.replace('pills = ["Orchestrator", "researcher"]', 'pills = ["Orchestrator"]')
    assert broken != text
    path = tmp_path / f"{RACE}.toml"
    path.write_text(broken)
    assert main(["run", str(path), "--profile", "current"]) == 0
    assert main(["run", str(path), "--profile", "followups"]) == 1
    assert main(["run", str(path), "--profile", "all"]) == 1
    out = capsys.readouterr().out
    assert "FAIL (1)" in out


def test_a_broken_invariant_or_step_fails_a_race_too() -> None:
    scenario = catalog.load(RACE)
    violation = Violation("pill bar keeps its children", (46,), 3.0, "viewer", "dropped one")
    broken = RunResult(scenario, Profile.CURRENT, 0, violations=[violation], checked=1)
    assert broken.verdict is Verdict.FAIL
    stuck = RunResult(scenario, Profile.CURRENT, 0, failures=[Failure("viewer opens", 30.0)])
    assert stuck.verdict is Verdict.FAIL
    mismatched = RunResult(scenario, Profile.CURRENT, 0, checked=1)
    mismatch = Mismatch("pill_bar", True, False)
    mismatched.failures.append(Failure("viewer at 200 s", 200.0, mismatches=(mismatch,)))
    assert mismatched.verdict is Verdict.RACE
    mismatched.seed_chosen = True
    assert mismatched.failed


def test_the_matrix_marks_a_race_without_failing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", RACE, "--profile", "current,followups"]) == 0
    row = capsys.readouterr().out.splitlines()[-1]
    assert "(race: explore it)" in row
    assert "FAIL" not in row
