"""Reports that say why: decisions, deciding fields, faults, frames, sequence numbers, --show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.cli import main
from scenarios.explore import explore
from scenarios.faults import FaultKind

PARENT = "local-local-share-parent"
RACE = "share-around-first-response"
RECONNECT = "reconnect-while-children-change"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _in_order(text: str, *parts: str) -> bool:
    """Whether every part occurs in `text`, each after the one before."""
    at = 0
    for part in parts:
        at = text.find(part, at)
        if at < 0:
            return False
    return True


def test_a_failure_shows_the_decisions_behind_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", PARENT, "--set", "discover_user_shares=false"]) == 1
    out = capsys.readouterr().out
    assert "why (the decisions that led here, latest last):" in out
    assert _in_order(
        out,
        "orchestrator             share_requested  source_task_id='t-1'",
        "session-server           session_created",
        "viewer                   joined  source_task_id='t-1'",
        "viewer                   no_discovery",
        "reason='no orchestrator task id'",
        "trace (latest messages of this viewer):",
    )


def test_the_race_reads_as_a_chain_of_decisions_and_faults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    failing = next(
        o
        for o in explore(catalog.resolve(RACE), Profile.CURRENT, range(12), frozenset(FaultKind))
        if not o.passed
    )
    args = ["run", RACE, "--seed", str(failing.seed), "--faults", "latency,drop,partition"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert _in_order(
        out,
        "share_requested  source_task_id=None",
        "session_created",
        "source_task_id=None",
        "first_response  task_id='t-1'",
        "sidecar_upgraded  task_id='t-1'",
        "pushed=False",
        "joined  source_task_id=None",
        "no_discovery",
        "faults injected:",
    )
    assert "fault                    PartitionStarted " in out


@pytest.mark.parametrize(
    ("settings", "task_id"), [([], "t-1"), (["--set", "sidecar_source_task_id=false"], "None")]
)
def test_the_trace_carries_the_fields_that_decide(
    tmp_path: Path, settings: list[str], task_id: str
) -> None:
    trace = tmp_path / "trace.jsonl"
    main(["run", PARENT, "--trace", str(trace), *settings])
    _, *records = _lines(trace)
    share = next(r for r in records if r["type"] == "Initialize" and r["from"] == "orchestrator")
    assert share["ids"] == {"source_type": "User", "source_task_id": task_id}
    join = next(r for r in records if r["type"] == "JoinedSuccessfully" and r["to"] == "viewer")
    assert join["ids"]["source_type"] == "User"
    assert join["ids"]["source_task_id"] == task_id


def test_log_and_trace_share_sequence_numbers(tmp_path: Path) -> None:
    trace, log = tmp_path / "trace.jsonl", tmp_path / "log.jsonl"
    assert main(["run", PARENT, "--trace", str(trace), "--log-json", str(log)]) == 0
    _, *records = _lines(trace)
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    times = {r["seq"]: r["t"] for r in records}
    events = [e for e in _lines(log) if "seq" in e]
    assert events
    for event in events:
        seq = event["seq"]
        assert isinstance(seq, int)
        # A log line comes after the record it names and before the next one.
        assert times.get(seq, 0.0) <= event["t"] <= times.get(seq + 1, float("inf"))
    joined = next(e for e in events if e["event"] == "joined")
    assert records[joined["seq"] - 1]["type"] == "JoinedSuccessfully"
    assert joined["decision"] is True


def test_faults_are_events_in_the_log_and_the_trace(tmp_path: Path) -> None:
    trace, log = tmp_path / "trace.jsonl", tmp_path / "log.jsonl"
    args = ["run", RACE, "--seed", "1", "--faults", "drop,partition"]
    main([*args, "--trace", str(trace), "--log-json", str(log)])
    faults = [r for r in _lines(trace)[1:] if r["channel"] == "fault"]
    kinds = [r["type"] for r in faults]
    assert "Drop" in kinds
    assert kinds.index("PartitionStarted") < kinds.index("PartitionEnded")
    assert all(r["to"] in ("session-server", "task-server") for r in faults)
    logged = [(e["event"], e["kind"]) for e in _lines(log) if e["event"].startswith("fault")]
    assert ("fault", "drop") in logged
    assert ("fault", "partition") in logged
    assert ("fault_ended", "partition") in logged


def test_a_disconnect_step_is_a_partition_in_the_trace(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    assert main(["run", RECONNECT, "--trace", str(trace)]) == 0
    faults = [(r["type"], r["from"], r["to"]) for r in _lines(trace)[1:] if r["channel"] == "fault"]
    assert ("PartitionStarted", "viewer", "session-server") in faults
    assert ("PartitionEnded", "viewer", "session-server") in faults


def test_fault_records_are_not_counted_as_messages(capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", RECONNECT, "--json"])
    (run,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert run["messages"] == 165, "the same count as before faults were recorded"


def test_frames_are_recorded_whole_and_decode_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frames, trace = tmp_path / "frames.jsonl", tmp_path / "trace.jsonl"
    assert main(["run", PARENT, "--frames", str(frames), "--trace", str(trace)]) == 0
    captured = _lines(frames)[1:]
    received = [r for r in _lines(trace)[1:] if r["channel"] != "fault"]
    assert [c["seq"] for c in captured] == [r["seq"] for r in received]
    capsys.readouterr()
    assert main(["decode", str(frames)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"# {PARENT} [current, seed 0]"
    assert len(out) == 1 + len(captured)
    assert main(["decode", "--channel", "viewer-down", str(frames)]) == 0
    shown = capsys.readouterr().out.splitlines()[1:]
    assert shown
    assert all(" -> viewer  " in line for line in shown)
    assert any("JoinedSuccessfully" in line and "source_task_id='t-1'" in line for line in shown)


def test_bare_frames_need_a_channel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = tmp_path / "bare.jsonl"
    frames.write_text('{"SourceTaskIdUpdated":{"source_task_id":"t-9"}}\n')
    assert main(["decode", str(frames)]) == 2
    assert "bare frames need --channel" in capsys.readouterr().err


def test_show_writes_what_each_viewer_saw_as_expectations_that_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", PARENT, "--show"]) == 0
    out = capsys.readouterr().out
    block = out[out.index("[[expect]]") :]
    assert 'pills = ["Orchestrator", "researcher", "writer"]' in block
    assert "pill_bar = true" in block
    # Pasted into the scenario, what --show printed is an expectation that holds.
    original = catalog.resolve(PARENT).read_text()
    extended = tmp_path / f"{PARENT}.toml"
    extended.write_text(original + "\n" + block)
    assert main(["run", str(extended)]) == 0
    assert f"{PARENT}  current  pass (2)" in capsys.readouterr().out
