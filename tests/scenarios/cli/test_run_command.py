"""`sharesim run`, `list` and `matrix`: exit codes and the shape of what they print."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.cli import main


def test_run_passes_and_prints_a_summary_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "local-local-share-parent"]) == 0
    out, err = capsys.readouterr()
    header, rule, row, legend = out.splitlines()
    assert header.split() == [
        "scenario",
        "profile",
        "result",
        "virtual",
        "time",
        "messages",
        "task",
        "requests",
    ]
    assert set(rule) <= {"-", " "}
    assert row.split()[:3] == ["local-local-share-parent", "current", "pass"]
    assert legend.startswith("pass (N): ")
    assert "[1/1] local-local-share-parent (current) ..." in err


def test_a_broken_expectation_exits_1_and_explains_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "local-local-share-parent", "--set", "discover_user_shares=false"]) == 1
    out = capsys.readouterr().out
    assert "FAIL (1)" in out
    assert "pill_bar: expected true" in out
    assert "but saw  false" in out
    assert '"type":"JoinedSuccessfully"' in out


def test_bad_options_are_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "no-such-scenario"]) == 2
    assert main(["run", "local-local-share-parent", "--set", "nonsense"]) == 2
    assert main(["run", "--diagram", "x.mmd"]) == 2
    err = capsys.readouterr().err
    assert "no scenario of that name" in err
    assert "--set expects SWITCH=true or SWITCH=false" in err
    assert "--diagram draws one run" in err
    assert "Traceback" not in err


def test_a_scenario_file_error_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "broken"\ndescription = "x"\nduration = 5\ncolour = "red"\n')
    assert main(["run", str(broken)]) == 2
    assert "broken.toml" in capsys.readouterr().err


def test_every_scenario_file_error_is_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "broken"\nduration = "long"\ncolour = "red"\n')
    assert main(["run", str(broken)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"sharesim run: {broken}: description: missing; expected a string"
    assert f"sharesim run: {broken}:2: duration: expected a number, got 'long'" in lines
    assert f"sharesim run: {broken}:3: colour: unknown key" in lines
    assert all(line.startswith(f"sharesim run: {broken}") for line in lines)


def test_trace_and_diagram_files(tmp_path: Path) -> None:
    trace, diagram = tmp_path / "trace.jsonl", tmp_path / "flow.mmd"
    args = ["run", "remote-local-share-parent", "--trace", str(trace), "--diagram", str(diagram)]
    assert main(args) == 0
    header, *records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert header["run"]["scenario"] == "remote-local-share-parent"
    assert {"seq", "t", "from", "to", "channel", "type", "ids"} == set(records[0])
    assert any(r["type"] == "UpdateAgentTask" for r in records)
    text = diagram.read_text()
    assert text.startswith("sequenceDiagram\n")
    assert "participant" in text
    assert "->>" in text
    first = trace.read_text()
    assert main(args) == 0
    assert trace.read_text() == first, "the same seed must give the same trace"


def test_log_json_has_virtual_time_and_context(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    assert main(["run", "mixed-children", "--log-json", str(log)]) == 0
    events = [json.loads(line) for line in log.read_text().splitlines()]
    joined = next(e for e in events if e["event"] == "joined")
    assert joined["actor"] == "viewer"
    assert joined["scenario"] == "mixed-children"
    assert joined["t"] == 20.0
    assert "timestamp" not in joined


def test_list_shows_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "topologies/local-local-share-parent" in out
    assert "edge/non-orchestrator-share" in out


def test_matrix_prints_the_design_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["#", "topology", "legacy", "current", "followups", "hardened"]
    rows = {line.split()[1]: line for line in lines[2:]}
    assert "no pill bar" in rows["local-local-share-parent"]
    assert 'names show "Orchestrator"' in rows["local-local-share-child"]
    assert "stuck loading" in rows["remote-local-share-parent"]
    assert "never past loading" in rows["remote-local-share-child"]
    assert rows["remote-remote-share-child"].endswith("child only; sibling names resolve")
