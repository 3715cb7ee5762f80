"""Designs compared everywhere: profiles and --set on every command, named in every output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from actors.rules.profiles import Profile, Switches
from scenarios import catalog
from scenarios.cli import main
from scenarios.designs import MEANINGS

RACE = "share-around-first-response"
PARENT = "local-local-share-parent"


def _json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_every_switch_has_a_meaning() -> None:
    assert list(MEANINGS) == list(Switches.names())


def test_profiles_lists_every_switch_with_its_value_in_each_profile(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["profiles"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["switch", "legacy", "current", "followups", "when", "on"]
    rows = {line.split()[0]: line.split()[1:4] for line in lines[2:] if line[:1].strip()}
    for name in Switches.names():
        assert rows[name] == ["on" if getattr(p.switches(), name) else "off" for p in Profile], name
    assert max(len(line) for line in lines) <= 100


def test_run_takes_every_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", PARENT, "--profile", "all"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:5]]
    assert [row[:2] for row in rows] == [[PARENT, p.value] for p in Profile]


def test_a_profile_list_refuses_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", PARENT, "--profile", "current,newest"]) == 2
    assert "unknown profile 'newest'; valid profiles: legacy, current, followups, or all" in (
        capsys.readouterr().err
    )


def test_run_names_the_overrides_in_its_table_and_failure_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", PARENT, "--set", "discover_user_shares=false"]) == 1
    out = capsys.readouterr().out
    assert f"{PARENT}  current with discover_user_shares=false  FAIL (1)" in out
    assert f"{PARENT} [current with discover_user_shares=false, seed 0]" in out
    assert (
        f"replay: sharesim run {PARENT} --profile current --seed 0 "
        "--set discover_user_shares=false" in out
    )


def test_explore_takes_overrides_and_names_them(capsys: pytest.CaptureFixture[str]) -> None:
    # The pushed task id is the fix for the race; switched on alone it makes every seed pass.
    args = ["explore", RACE, "--seeds", "6", "--set", "push_source_task_id=true"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{RACE} [current with push_source_task_id=true], faults ")
    assert main(["explore", RACE, "--seeds", "6", "--set", "push_child_discovery=true"]) == 1
    out = capsys.readouterr().out
    assert "--set push_child_discovery=true --faults latency,drop,partition" in out


def test_matrix_takes_scenario_paths_profile_lists_and_overrides(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(catalog.resolve("mixed-children"))
    args = [
        "matrix",
        path,
        RACE,
        "--profile",
        "followups,legacy",
        "--set",
        "index_child_run_ids=false",
    ]
    main(args)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "set on every profile: index_child_run_ids=false"
    assert lines[1].split() == ["#", "scenario", "followups", "legacy"]
    assert [line.split()[1] for line in lines[3:]] == ["mixed-children", RACE]


def test_run_json_is_one_object_per_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", PARENT, "--profile", "legacy,current", "--json"]) == 0
    runs = _json_lines(capsys.readouterr().out)
    assert [(r["scenario"], r["profile"]) for r in runs] == [
        (PARENT, "legacy"),
        (PARENT, "current"),
    ]
    current = runs[1]
    assert current["verdict"] == "pass"
    assert current["seed"] == 0
    assert current["overrides"] == {}
    assert current["faults"] == []
    (expectation,) = current["expectations"]
    checks = {check["key"]: check for check in expectation["checks"]}
    assert checks["pill_bar"] == {"key": "pill_bar", "expected": True, "seen": True, "held": True}
    assert checks["pills"]["seen"] == ["Orchestrator", "researcher", "writer"]
    viewers = current["viewers"]
    assert isinstance(viewers, dict)
    assert viewers["viewer"]["pill_bar_visible"] is True


def test_a_failed_check_shows_expected_and_seen_in_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["run", PARENT, "--set", "discover_user_shares=false", "--json"]
    assert main(args) == 1
    (run,) = _json_lines(capsys.readouterr().out)
    assert run["verdict"] == "fail"
    assert run["overrides"] == {"discover_user_shares": False}
    (expectation,) = run["expectations"]
    assert expectation["held"] is False
    broken = [c for c in expectation["checks"] if not c["held"]]
    assert {"key": "pill_bar", "expected": True, "seen": False, "held": False} in broken


def test_explore_and_matrix_json(capsys: pytest.CaptureFixture[str]) -> None:
    main(["explore", RACE, "--seeds", "3", "--json"])
    seeds = _json_lines(capsys.readouterr().out)
    assert sorted(r["seed"] for r in seeds) == [0, 1, 2]
    assert all(r["faults"] == ["latency", "drop", "partition"] for r in seeds)
    events = [e for r in seeds for e in r["fault_events"]]
    assert {e["type"] for e in events} >= {"Drop", "PartitionStarted"}
    assert all(e["server"] in ("session-server", "task-server") for e in events)
    main(["matrix", PARENT, "--json"])
    cells = _json_lines(capsys.readouterr().out)
    assert [c["profile"] for c in cells] == ["legacy", "current", "followups"]
    assert cells[0]["cell"] == "no pill bar"


def test_trace_header_and_json_log_name_the_design(tmp_path: Path) -> None:
    trace, log = tmp_path / "trace.jsonl", tmp_path / "log.jsonl"
    args = ["run", PARENT, "--set", "index_child_run_ids=false", "--trace", str(trace)]
    main([*args, "--log-json", str(log)])
    header = json.loads(trace.read_text().splitlines()[0])
    assert header == {
        "run": {
            "scenario": PARENT,
            "profile": "current",
            "overrides": {"index_child_run_ids": False},
            "pinned": {},
            "seed": 0,
            "faults": "",
            "fault_plan": "none",
        }
    }
    joined = next(json.loads(line) for line in log.read_text().splitlines() if '"joined"' in line)
    assert joined["profile"] == "current"
    assert joined["overrides"] == {"index_child_run_ids": False}
