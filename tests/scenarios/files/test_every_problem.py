"""A scenario file with several mistakes reports all of them at once, in file order."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.schema import ScenarioError, load_scenario

BROKEN = """\
name = "broken"
description = "several mistakes in different sections"
duration = "long"

[orchestrator]
name = "orchestrator"
location = "local"

[[children]]
name = "researcher"
location = "moon"
spawn_at = 5

[[viewers]]
name = "viewer"
opens = "orchestrator"
join_at = 20
colour = "red"

[[steps]]
at = "soon"
do = "share"
actor = "orchestrator"

[[steps]]
at = 4
do = "finish"
actor = "ghost"

[[expect]]
viewer = "viewer"
statuses = { ghost = "success", spectre = "error" }
pill_bar = "yes"
"""


def problems_in(tmp_path: Path, text: str, name: str = "broken") -> ScenarioError:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value


def where(error: ScenarioError) -> list[tuple[int | None, str | None]]:
    return [(problem.line, problem.field) for problem in error.problems]


def test_every_problem_is_reported_in_file_order_with_its_line(tmp_path: Path) -> None:
    error = problems_in(tmp_path, BROKEN)
    path = tmp_path / "broken.toml"
    agents = "orchestrator, researcher"
    assert str(error).splitlines() == [
        f"{path}:3: duration: expected a number, got 'long'",
        f"{path}:11: children[0].location: expected one of local, remote, got 'moon'",
        f"{path}:18: viewers[0].colour: unknown key",
        f"{path}:21: steps[0].at: expected a number, got 'soon'",
        f"{path}:28: steps[1].actor: expected one of {agents}, got 'ghost'",
        f"{path}:32: expect[0].statuses.ghost: expected an agent name ({agents})",
        f"{path}:32: expect[0].statuses.spectre: expected an agent name ({agents})",
        f"{path}:33: expect[0].pill_bar: expected true or false, got 'yes'",
    ]


def test_the_first_problem_in_the_file_is_the_errors_own(tmp_path: Path) -> None:
    error = problems_in(tmp_path, BROKEN)
    assert (error.line, error.field) == (3, "duration")
    assert error.message == "expected a number, got 'long'"


def test_a_missing_top_level_key_comes_first_without_a_line(tmp_path: Path) -> None:
    error = problems_in(tmp_path, BROKEN.replace('description = "several', 'descr = "several'))
    assert where(error)[:3] == [(None, "description"), (2, "descr"), (3, "duration")]


def test_a_name_used_twice_is_placed_at_its_second_use(tmp_path: Path) -> None:
    error = problems_in(tmp_path, BROKEN.replace('name = "viewer"', 'name = "researcher"'))
    assert (15, "viewers[0].name") in where(error)
    duplicate = error.problems[where(error).index((15, "viewers[0].name"))]
    assert "the name 'researcher' is used twice" in duplicate.message


def test_checks_that_build_on_a_broken_field_are_skipped(tmp_path: Path) -> None:
    text = (
        BROKEN.replace('name = "researcher"\n', "")
        .replace('do = "finish"', 'do = "teleport"\ntext = "far away"\noutcome = "lost"')
        .replace('actor = "ghost"', 'actor = "researcher"')
        .replace("[orchestrator]\n", "[conductor]\n")
    )
    error = problems_in(tmp_path, text)
    fields = [field for _, field in where(error)]
    assert "orchestrator" in fields
    assert "conductor" in fields
    assert "children[0].name" in fields
    assert "steps[1].do" in fields
    # Nothing that depends on the missing table, the unnamed child or the unknown kind:
    assert not [f for f in fields if f and f.startswith("orchestrator.")]
    assert "steps[1].actor" not in fields
    assert "steps[1].text" not in fields
    assert "steps[1].outcome" not in fields
    assert not [f for f in fields if f and f.startswith("expect[0].statuses")]
    # ...while the independent mistakes elsewhere are all still there.
    assert {"duration", "children[0].location", "viewers[0].colour", "steps[0].at"} <= set(fields)


def test_behaviours_that_are_not_numbers_are_an_error(tmp_path: Path) -> None:
    error = problems_in(tmp_path, BROKEN.replace("duration =", 'behaviours = ["x"]\nduration ='))
    assert (3, "behaviours") in where(error)
    assert "expected a list of behaviour numbers, got ['x']" in str(error)
