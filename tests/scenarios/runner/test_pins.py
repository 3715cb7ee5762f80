"""Switches a scenario file pins: applied to its runs, named in every output, and the
command line's `--set` wins over them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actors.rules.profiles import Profile
from scenarios.cli import main
from scenarios.explore import explore
from scenarios.report import replay_command
from scenarios.runner import run_scenario
from scenarios.schema import load_scenario

POLLED = """\
name = "polled"
description = "Children are polled under followups: this file is about polling."
duration = 60

[orchestrator]
name = "orchestrator"
location = "local"

[[children]]
name = "researcher"
location = "local"
spawn_at = 5

[[viewers]]
name = "viewer"
opens = "orchestrator"
join_at = 20

[[steps]]
at = 3
do = "share"
actor = "orchestrator"

[switches]
stop_polling_when_empty = true

[switches.followups]
push_child_discovery = false

[[expect]]
profiles = ["followups"]
viewer = "viewer"
pill_bar = true
min_fetches = 3
"""


@pytest.fixture
def polled(tmp_path: Path) -> Path:
    path = tmp_path / "polled.toml"
    path.write_text(POLLED)
    return path


def test_the_file_pins_its_switches(polled: Path) -> None:
    result = run_scenario(load_scenario(polled), Profile.FOLLOWUPS)
    assert result.passed
    assert result.pinned == {"stop_polling_when_empty": True, "push_child_discovery": False}
    assert result.overrides == {"push_child_discovery": False}
    assert result.overruled == {}
    fetches = result.shown["viewer"]["fetches"]
    assert isinstance(fetches, int)
    assert fetches >= 3


def test_the_command_line_wins_over_the_file(polled: Path) -> None:
    result = run_scenario(
        load_scenario(polled), Profile.FOLLOWUPS, settings={"push_child_discovery": True}
    )
    assert not result.passed
    assert result.shown["viewer"]["fetches"] == 1  # the stream's one snapshot
    assert result.pinned == {"stop_polling_when_empty": True}
    assert result.overruled == {"push_child_discovery": False}
    assert result.overrides == {}


def test_run_names_what_the_file_pinned(polled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(polled), "--profile", "followups"]) == 0
    out = capsys.readouterr().out
    assert "followups with push_child_discovery=false (file)" in out
    assert main(["run", str(polled), "--profile", "followups", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["pinned"] == {"stop_polling_when_empty": True, "push_child_discovery": False}
    assert record["overruled"] == {}
    assert main(["run", str(polled), "--profile", "followups", "--show"]) == 0
    shown = capsys.readouterr().out
    assert (
        "# switches pinned by the file: stop_polling_when_empty=true, push_child_discovery=false"
        in shown
    )


def test_run_says_when_the_command_line_replaced_a_pin(
    polled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", str(polled), "--profile", "followups", "--set", "push_child_discovery=true"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "followups (over the file's push_child_discovery=false)" in out
    replay = next(line for line in out.splitlines() if "replay:" in line)
    assert replay.endswith(f"{polled} --profile followups --seed 0 --set push_child_discovery=true")
    assert main([*args, "--json"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["overruled"] == {"push_child_discovery": False}
    assert record["pinned"] == {"stop_polling_when_empty": True}


def test_a_replay_leaves_the_pins_to_the_file(polled: Path) -> None:
    text = POLLED.replace("min_fetches = 3", "min_fetches = 1000")
    polled.write_text(text)
    result = run_scenario(load_scenario(polled), Profile.FOLLOWUPS)
    assert not result.passed
    assert replay_command(result) == f"sharesim run {polled} --profile followups --seed 0"


def test_explore_runs_the_pinned_design_and_the_command_line_still_wins(polled: Path) -> None:
    pinned = explore(polled, Profile.FOLLOWUPS, range(3), frozenset())
    assert [o.passed for o in pinned] == [True, True, True]
    flipped = explore(
        polled, Profile.FOLLOWUPS, range(3), frozenset(), settings={"push_child_discovery": True}
    )
    assert [o.passed for o in flipped] == [False, False, False]


def test_explore_names_the_pinned_design(polled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explore", str(polled), "--profile", "followups", "--seeds", "2"]) == 0
    assert "polled [followups with push_child_discovery=false (file)]" in capsys.readouterr().out
