"""Scenario files: every mistake names the file, the line, the field and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.rules.profiles import Profile
from scenarios.schema import Access, ScenarioError, StepKind, load_scenario

GOOD = """\
name = "{name}"
description = "a small scenario"
duration = 60

[orchestrator]
name = "orchestrator"
location = "local"

[[children]]
name = "researcher"
location = "remote"
spawn_at = 5

[[viewers]]
name = "viewer"
opens = "orchestrator"
join_at = 20

[[steps]]
at = 3
do = "share"
actor = "orchestrator"

[[expect]]
profiles = ["current"]
viewer = "viewer"
pill_bar = true
"""


def write(tmp_path: Path, text: str, name: str = "small") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace("{name}", name))
    return path


def error_for(tmp_path: Path, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text))
    return caught.value


def test_a_good_file_loads_into_plain_data(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD))
    assert scenario.name == "small"
    assert scenario.children[0].name == "researcher"
    assert scenario.steps[0].kind is StepKind.SHARE
    assert scenario.profiles == (Profile.CURRENT,)
    assert scenario.default_profile is Profile.CURRENT


def test_an_unknown_key_is_an_error_with_its_line(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace("join_at = 20", "join_at = 20\njion_at = 30"))
    assert error.field == "viewers[0].jion_at"
    assert error.line == 18
    assert str(error).endswith("small.toml:18: viewers[0].jion_at: unknown key")


def test_a_missing_key_is_placed_at_its_own_table(tmp_path: Path) -> None:
    second = '\n[[children]]\nname = "writer"\nlocation = "local"\nspawn_at = 6\n'
    error = error_for(tmp_path, GOOD.replace("spawn_at = 5\n", "") + second)
    assert error.field == "children[0].spawn_at"
    assert error.line == 9


def test_a_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace("spawn_at = 5", 'spawn_at = "soon"'))
    assert error.field == "children[0].spawn_at"
    assert error.line == 12
    assert "expected a number, got 'soon'" in error.message


def test_a_bad_choice_lists_the_options(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace('location = "remote"', 'location = "moon"'))
    assert error.field == "children[0].location"
    assert "expected one of local, remote, got 'moon'" in error.message


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace('opens = "orchestrator"\n', ""))
    assert error.field == "viewers[0].opens"
    assert "missing" in error.message


def test_references_must_name_known_agents_and_viewers(tmp_path: Path) -> None:
    assert (
        error_for(tmp_path, GOOD.replace('opens = "orchestrator"', 'opens = "ghost"')).field
        == "viewers[0].opens"
    )
    assert (
        error_for(tmp_path, GOOD.replace('viewer = "viewer"', 'viewer = "ghost"')).field
        == "expect[0].viewer"
    )
    assert (
        error_for(tmp_path, GOOD.replace('actor = "orchestrator"', 'actor = "ghost"')).field
        == "steps[0].actor"
    )


def test_an_expectation_must_check_something(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace("pill_bar = true\n", ""))
    assert error.field == "expect[0]"
    assert "checks nothing" in error.message


def test_the_name_must_match_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('name = "{name}"', 'name = "other"'))
    with pytest.raises(ScenarioError, match="must match the file name 'small'"):
        load_scenario(path)


def test_invalid_toml_reports_its_line(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace("duration = 60", "duration = = 60"))
    assert error.line == 3
    assert "not valid TOML" in error.message


def test_steps_after_the_end_are_refused(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace("duration = 60", "duration = 10"))
    assert error.field == "duration"
    assert "at least 20 s" in error.message


def test_names_must_be_distinct(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace('name = "viewer"', 'name = "researcher"'))
    assert "used twice" in error.message


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "absent.toml")


def test_access_is_team_unless_the_file_says_link(tmp_path: Path) -> None:
    second = (
        '\n[[viewers]]\nname = "outsider"\nopens = "orchestrator"\njoin_at = 20\naccess = "link"\n'
    )
    scenario = load_scenario(write(tmp_path, GOOD + second))
    assert [v.access for v in scenario.viewers] == [Access.TEAM, Access.LINK]
    assert scenario.teammates() == ("viewer",)


def test_a_bad_access_lists_the_options(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD.replace("join_at = 20", 'join_at = 20\naccess = "guest"'))
    assert error.field == "viewers[0].access"
    assert error.message == "expected one of team, link, got 'guest'"


def test_one_user_is_in_the_team_or_not_for_all_its_viewers(tmp_path: Path) -> None:
    second = (
        '\n[[viewers]]\nname = "again"\nopens = "researcher"\njoin_at = 30\n'
        'user = "viewer"\naccess = "link"\n'
    )
    error = error_for(tmp_path, GOOD + second)
    assert error.field == "viewers[1].access"
    assert error.message == (
        "user 'viewer' is link here but team in viewer 'viewer'; "
        "a user is in the owner's team or not, for all its viewers"
    )


def test_the_owner_is_never_a_link_only_viewer(tmp_path: Path) -> None:
    text = GOOD.replace("join_at = 20", 'join_at = 20\nuser = "alice"\naccess = "link"')
    error = error_for(tmp_path, text)
    assert error.field == "viewers[0].access"
    assert "alice runs the agents and owns every run" in error.message
