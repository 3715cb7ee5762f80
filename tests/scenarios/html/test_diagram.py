"""`--diagram`: the Mermaid picture has the same content as the report."""

from __future__ import annotations

from pathlib import Path

from scenarios.cli import main
from scenarios.diagram import mermaid
from scenarios.recording import LogEvent
from scenarios.sequence import build


def diagram(tmp_path: Path, *args: str) -> list[str]:
    path = tmp_path / "flow.mmd"
    assert main(["run", *args, "--diagram", str(path)]) in (0, 1)
    return path.read_text().splitlines()


def test_the_title_names_seed_faults_and_switches(tmp_path: Path) -> None:
    lines = diagram(
        tmp_path,
        "share-around-first-response",
        "--seed",
        "3",
        "--faults",
        "drop,partition",
        "--set",
        "push_source_task_id=true",
    )
    assert lines[0] == "sequenceDiagram"
    assert lines[1] == (
        "    title share-around-first-response (current), seed 3, faults drop,partition, "
        "set push_source_task_id=true"
    )


def test_decisions_are_notes_over_the_actor_that_took_them(tmp_path: Path) -> None:
    lines = diagram(tmp_path, "local-local-share-parent", "--profile", "legacy")
    assert "    Note over p5_viewer: no discovery: no orchestrator task id" in lines
    joined = next(i for i, line in enumerate(lines) if "JoinedSuccessfully" in line)
    # Both decisions follow the frame they were taken on, in the order they were taken.
    assert lines[joined + 1].startswith("    Note over p5_viewer: joined: ")
    assert "source_task_id=None" in lines[joined + 1]
    assert lines[joined + 2].endswith("no discovery: no orchestrator task id")


def test_partitions_and_drops_are_drawn(tmp_path: Path) -> None:
    lines = diagram(tmp_path, "reconnect-while-children-change")
    text = "\n".join(lines)
    assert "partition: viewer cut off from session-server, task-server until 90 s" in text
    assert "partition over: viewer reaches session-server, task-server again" in text
    assert "p5_viewer-xp3_session_server: 30.000s ConnectionDropped" in text


def test_polling_is_left_out_on_request(tmp_path: Path) -> None:
    full = diagram(tmp_path, "local-local-share-parent")
    folded = diagram(tmp_path, "local-local-share-parent", "--hide-polling")
    assert sum("ListRuns" in line for line in full) == 20
    assert [line for line in folded if "ListRuns" in line] == [
        "    Note over p4_task_server,p5_viewer: 20.000s ⟳ ListRuns → RunsListed \u00d7 20, "
        "every 5 s, 20\u2013115 s"
    ]
    assert len(folded) == len(full) - 40 + 1


def test_mermaid_syntax_in_a_label_is_escaped() -> None:
    event = LogEvent(0, 1.0, "share_lost", "warning", {"actor": "a", "reason": "x; y #2"})
    text = mermaid(build([], events=[event]))
    assert "    Note over p0_a: share lost: x#59; y #35;2" in text
