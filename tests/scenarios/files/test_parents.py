"""`parent` on a child: who spawns it. A parent the system could not have is refused
with the file, the line and the field; every location pairing is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.schema import load_scenario
from tests.scenarios.files.test_validation import error_for, write

BASE = """\
name = "{{name}}"
description = "children of children"
duration = 120

[orchestrator]
name = "orchestrator"
location = "{orchestrator}"

[[children]]
name = "lead"
location = "{lead}"
spawn_at = 5

[[children]]
name = "broken"
location = "local"
spawn_at = 5
launch_fails = true

[[children]]
name = "scout"
location = "{scout}"
spawn_at = {scout_at}
parent = "{parent}"

[[children]]
name = "scribe"
location = "remote"
spawn_at = 30
parent = "{scribe_parent}"

[[viewers]]
name = "viewer"
opens = "orchestrator"
join_at = 40

[[expect]]
viewer = "viewer"
root = "loaded"
"""


def text(
    *,
    orchestrator: str = "remote",
    lead: str = "remote",
    scout: str = "local",
    scout_at: float = 20,
    parent: str = "lead",
    scribe_parent: str = "lead",
) -> str:
    return BASE.format(
        orchestrator=orchestrator,
        lead=lead,
        scout=scout,
        scout_at=scout_at,
        parent=parent,
        scribe_parent=scribe_parent,
    )


def line_of(text: str, setting: str, occurrence: int = 0) -> int:
    lines = [n + 1 for n, line in enumerate(text.splitlines()) if line.startswith(setting)]
    return lines[occurrence]


@pytest.mark.parametrize("orchestrator", ["local", "remote"])
@pytest.mark.parametrize("lead", ["local", "remote"])
@pytest.mark.parametrize("scout", ["local", "remote"])
def test_every_location_pairing_loads(
    tmp_path: Path, orchestrator: str, lead: str, scout: str
) -> None:
    scenario = load_scenario(
        write(tmp_path, text(orchestrator=orchestrator, lead=lead, scout=scout))
    )
    parents = {child.name: child.parent for child in scenario.children}
    assert parents == {"lead": None, "broken": None, "scout": "lead", "scribe": "lead"}


def test_the_orchestrator_may_be_named_as_parent(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, text(parent="orchestrator")))
    assert scenario.children[2].parent == "orchestrator"


@pytest.mark.parametrize(
    ("settings", "field", "line_setting", "message"),
    [
        pytest.param(
            {"parent": "ghost"},
            "children[2].parent",
            'parent = "ghost"',
            "expected an agent name (orchestrator, lead, broken, scout, scribe), got 'ghost'",
            id="unknown-parent",
        ),
        pytest.param(
            {"parent": "viewer"},
            "children[2].parent",
            'parent = "viewer"',
            "'viewer' is a viewer; only an agent spawns children",
            id="viewer-as-parent",
        ),
        pytest.param(
            {"parent": "scout"},
            "children[2].parent",
            'parent = "scout"',
            "scout's parents lead back to scout",
            id="own-parent",
        ),
        pytest.param(
            {"parent": "scribe", "scribe_parent": "scout", "scout_at": 40},
            "children[2].parent",
            'parent = "scribe"',
            "scout's parents lead back to scout",
            id="cycle",
        ),
        pytest.param(
            {"parent": "broken"},
            "children[2].parent",
            'parent = "broken"',
            "broken's launch fails (launch_fails = true): it never runs, so it cannot spawn scout",
            id="launch-failed-parent",
        ),
        pytest.param(
            {"scout_at": 5},
            "children[2].spawn_at",
            "spawn_at = 5",
            "lead is spawned at 5 s and exists once its run is created, "
            "so it cannot spawn scout at 5 s",
            id="parent-spawned-with-its-child",
        ),
        pytest.param(
            {"parent": "scribe"},
            "children[2].spawn_at",
            "spawn_at = 20",
            "scribe is spawned at 30 s and exists once its run is created, "
            "so it cannot spawn scout at 20 s",
            id="parent-spawned-after-its-child",
        ),
    ],
)
def test_an_impossible_parent_is_refused_where_it_is_written(
    tmp_path: Path, settings: dict[str, object], field: str, line_setting: str, message: str
) -> None:
    written = text(**settings)  # type: ignore[arg-type]
    error = error_for(tmp_path, written)
    assert error.field == field
    occurrence = 2 if line_setting.startswith("spawn_at = 5") else 0
    assert error.line == line_of(written, line_setting, occurrence)
    assert message in error.message
    assert error.message.count("\n") == 0


def test_a_share_step_on_a_child_running_on_a_cloud_driver_is_refused(tmp_path: Path) -> None:
    """scout is local to lead, which runs in the cloud: scout runs on lead's cloud driver,
    where no user clicks share; it inherits lead's share instead."""
    written = text(lead="remote") + '\n[[steps]]\nat = 25\ndo = "share"\nactor = "scout"\n'
    error = error_for(tmp_path, written)
    assert error.field == "steps[0].actor"
    assert "scout runs on the cloud driver of an agent in the cloud" in error.message


def test_a_share_step_on_a_grandchild_on_the_users_client_is_accepted(tmp_path: Path) -> None:
    written = text(orchestrator="local", lead="local") + (
        '\n[[steps]]\nat = 25\ndo = "share"\nactor = "scout"\n'
    )
    assert load_scenario(write(tmp_path, written)).steps[0].actor == "scout"
