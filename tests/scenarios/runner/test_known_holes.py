"""A profile the file marks as a known hole is checked against what the design should do:
`run` reports the hole (not a failure) with the findings command, and explore and
findings see it fail, so a design review finds it and the switch that closes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.cli import main
from scenarios.runner import Verdict, run_scenario
from scenarios.schema import ScenarioError, load_scenario

AWAY = "viewer-away-during-task-id-push"


def test_the_viewer_away_during_the_push_is_a_known_hole_of_followups_only() -> None:
    scenario = catalog.load(AWAY)
    assert scenario.holes == (Profile.FOLLOWUPS,)
    hole = run_scenario(scenario, Profile.FOLLOWUPS)
    assert hole.verdict is Verdict.HOLE
    assert not hole.failed
    assert [m.key for f in hole.failures for m in f.mismatches] == ["pill_bar", "pills", "loaded"]
    assert run_scenario(scenario, Profile.HARDENED).verdict is Verdict.PASS


def test_run_reports_a_known_hole_with_the_command_that_lists_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", AWAY, "--profile", "followups"]) == 0
    out = capsys.readouterr().out
    assert "known hole" in out
    assert f"sharesim findings {AWAY} --profiles followups" in out


def test_findings_reports_the_hole_and_the_switch_that_closes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["findings", AWAY, "--profiles", "followups", "--seeds", "3"]) == 1
    out = capsys.readouterr().out
    assert "replay_source_task_id_on_rejoin |" in out


def test_a_hole_needs_a_known_profile_with_expectations(tmp_path: Path) -> None:
    text = catalog.resolve(AWAY).read_text()
    path = tmp_path / f"{AWAY}.toml"
    path.write_text(text.replace('holes = ["followups"]', 'holes = ["nope"]'))
    with pytest.raises(ScenarioError, match="holes: expected profiles from"):
        load_scenario(path)
