"""`races = [...]` in a scenario file: profiles whose outcome depends on the interleaving."""

from __future__ import annotations

from pathlib import Path

from actors.rules.profiles import Profile
from scenarios.schema import load_scenario
from tests.scenarios.files.test_validation import GOOD, error_for, write


def test_races_name_profiles(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, 'races = ["current"]\n' + GOOD))
    assert scenario.races == (Profile.CURRENT,)
    assert load_scenario(write(tmp_path, GOOD)).races == ()


def test_a_race_must_name_a_profile(tmp_path: Path) -> None:
    error = error_for(tmp_path, 'races = ["curent"]\n' + GOOD)
    assert error.field == "races"
    assert error.line == 1
    assert error.message == (
        "expected profiles from legacy, current, followups, hardened, got 'curent'"
    )


def test_a_race_needs_expectations_to_explore(tmp_path: Path) -> None:
    error = error_for(tmp_path, 'races = ["legacy"]\n' + GOOD)
    assert error.field == "races"
    assert "'legacy' has no expectations in this file" in error.message


def test_races_are_a_list(tmp_path: Path) -> None:
    error = error_for(tmp_path, 'races = "current"\n' + GOOD)
    assert error.field == "races"
    assert "expected a list of names" in error.message
