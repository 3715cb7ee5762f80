"""`[switches]` in a scenario file: switches pinned under every profile or under one."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.rules.profiles import Profile, Switches
from scenarios.schema import ScenarioError, load_scenario
from tests.scenarios.files.test_validation import GOOD, error_for, write


def test_a_file_without_switches_pins_nothing(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD))
    assert all(scenario.pinned(profile) == {} for profile in Profile)


def test_switches_apply_under_every_profile_and_a_profile_table_wins_for_its_profile(
    tmp_path: Path,
) -> None:
    text = GOOD + (
        "\n[switches]\npush_child_discovery = true\nfetch_error_backoff = true\n"
        "\n[switches.legacy]\npush_child_discovery = false\n"
    )
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.pinned(Profile.LEGACY) == {
        "push_child_discovery": False,
        "fetch_error_backoff": True,
    }
    assert scenario.pinned(Profile.CURRENT) == {
        "push_child_discovery": True,
        "fetch_error_backoff": True,
    }


def test_an_inline_profile_table_is_read_too(tmp_path: Path) -> None:
    text = GOOD + "\n[switches]\nfollowups = { push_child_discovery = false }\n"
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.pinned(Profile.FOLLOWUPS) == {"push_child_discovery": False}
    assert scenario.pinned(Profile.CURRENT) == {}


def test_an_unknown_switch_names_its_line_and_every_valid_name(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD + "\n[switches]\npush_child_discovry = true\n")
    assert error.field == "switches.push_child_discovry"
    assert error.line == GOOD.count("\n") + 3
    assert "unknown switch 'push_child_discovry'" in error.message
    for name in Switches.names():
        assert name in error.message
    assert "[switches.followups]" in error.message


def test_an_unknown_switch_in_a_profile_table_is_placed_under_its_header(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD + "\n[switches.current]\n\nbogus = true\n")
    assert error.field == "switches.current.bogus"
    assert error.line == GOOD.count("\n") + 4
    assert "unknown switch 'bogus'; valid switches: sidecar_source_task_id" in error.message


def test_a_switch_must_be_true_or_false(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD + '\n[switches.followups]\npush_child_discovery = "no"\n')
    assert error.field == "switches.followups.push_child_discovery"
    assert error.line == GOOD.count("\n") + 3
    assert error.message == "expected true or false, got 'no'"


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("switches = true\n", "switches", "expected a table, got True"),
        ("[switches]\ncurrent = true\n", "switches.current", "expected a table, got True"),
    ],
)
def test_switches_come_in_tables(tmp_path: Path, text: str, field: str, message: str) -> None:
    top = text.startswith("switches")
    error = error_for(tmp_path, (text + GOOD) if top else (GOOD + "\n" + text))
    assert error.field == field
    assert message in error.message


def test_every_mistake_in_the_switches_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD + "\n[switches]\nnope = true\n\n[switches.followups]\nnada = false\n"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text))
    assert [p.field for p in caught.value.problems] == [
        "switches.nope",
        "switches.followups.nada",
    ]
