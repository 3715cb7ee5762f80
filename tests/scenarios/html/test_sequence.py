"""The sequence both diagrams draw: order, notes in place, partitions, folded repetition."""

from __future__ import annotations

import math

from actors.runtime.conditions import Partition
from actors.runtime.trace import TraceRecord
from scenarios.recording import LogEvent
from scenarios.sequence import Message, Note, NoteKind, Repeat, build

V, T, S = "viewer", "task-server", "session-server"


def rec(t: float, src: str, dst: str, kind: str, **ids: str) -> TraceRecord:
    return TraceRecord(t, src, dst, "tasks" if T in (src, dst) else "viewer-up", kind, ids)


def poll(t: float, request_id: int) -> list[TraceRecord]:
    rid = str(request_id)
    return [
        rec(t, V, T, "ListRuns", request_id=rid, task_id="t-1"),
        rec(t, T, V, "RunsListed", request_id=rid),
    ]


def event(position: int, t: float, name: str, level: str = "info", **fields: object) -> LogEvent:
    return LogEvent(position, t, name, level, fields)


def test_messages_keep_trace_order_and_lifelines_follow_the_given_order() -> None:
    records = [rec(1, V, S, "Initialize"), rec(1, S, V, "JoinedSuccessfully", viewer_id="v-1")]
    sequence = build(records, order=("orchestrator", S, T, V))
    assert sequence.actors == (S, V)
    assert [row.record.type for row in sequence.rows if isinstance(row, Message)] == [
        "Initialize",
        "JoinedSuccessfully",
    ]
    assert sequence.messages == 2


def test_a_label_shows_deciding_ids_and_leaves_request_ids_to_the_hover() -> None:
    message = Message(0, rec(2, T, V, "RunReply", request_id="4", task_id="t-2"))
    assert message.label == "RunReply (task_id=t-2)"


def test_a_log_note_sits_after_exactly_the_records_logged_before_it() -> None:
    records = [rec(20, S, V, "JoinedSuccessfully"), rec(20, V, T, "GetAgentNames")]
    notes = [
        event(1, 20, "no_discovery", actor=V, reason="no orchestrator task id", viewer_id="v"),
        event(0, 19, "timeline", "debug", step="viewer opens orchestrator"),
    ]
    rows = build(records, events=notes).rows
    kinds = [type(row).__name__ if not isinstance(row, Note) else row.kind.value for row in rows]
    assert kinds == ["step", "Message", "decision", "Message"]
    decision = rows[2]
    assert isinstance(decision, Note)
    assert decision.text == "no discovery: no orchestrator task id"
    assert decision.actors == (V,)


def test_noise_and_debug_lines_make_no_notes() -> None:
    notes = [
        event(0, 0, "listening", actor=S),
        event(0, 0, "link_ended", "debug", actor=S),
        event(0, 1, "session_link_refused", "warning", actor="orchestrator", reason="gate"),
    ]
    rows = build([], events=notes).rows
    assert [(row.kind, row.text) for row in rows if isinstance(row, Note)] == [
        (NoteKind.PROBLEM, "session link refused: gate")
    ]


def test_a_fault_note_spans_the_actor_and_the_server() -> None:
    notes = [event(0, 5, "fault", kind="drop", actor=V, server=S, link="x")]
    (note,) = build([], events=notes).rows
    assert isinstance(note, Note)
    assert note.kind is NoteKind.FAULT
    assert note.actors == (V, S)
    assert note.text == "fault: drop viewer ⟷ session-server"


def test_secrets_in_logged_values_stay_out_of_notes() -> None:
    link = "Link#26(viewer->session-server /sessions/join/abc?pwd=a7333cb1&via=x)"
    notes = [
        event(0, 5, "fault", kind="drop", actor=V, server=S, link=link),
        event(0, 6, "share_lost", "warning", actor="o", reconnect_token="t0k", reason="gone"),
    ]
    rows = build([], events=notes).rows
    details = [row.detail for row in rows if isinstance(row, Note)]
    assert details[0]["link"] == "Link#26(viewer->session-server /sessions/join/abc?pwd=…&via=x)"
    assert "reconnect_token" not in details[1]
    assert "a7333cb1" not in repr(rows)
    assert "t0k" not in repr(rows)


def test_repeated_polling_folds_into_one_row_with_its_replies() -> None:
    records = [r for i in range(6) for r in poll(20 + 5 * i, i + 1)]
    (row,) = build(records).rows
    assert isinstance(row, Repeat)
    assert row.actors == (V, T)
    assert row.count == 6
    assert row.messages == 12
    assert row.summary == "ListRuns → RunsListed \u00d7 6, every 5 s, 20\u201345 s"


def test_polling_is_shown_in_full_when_folding_is_off_or_it_is_short() -> None:
    records = [r for i in range(6) for r in poll(20 + 5 * i, i + 1)]
    assert len(build(records, fold=False).rows) == 12
    assert all(isinstance(row, Message) for row in build(records[:4]).rows)


def test_another_message_between_the_same_actors_ends_a_run_of_polls() -> None:
    records = [r for i in range(3) for r in poll(5 * i, i + 1)]
    records.append(rec(16, V, T, "GetAgentNames", request_id="9"))
    records += [r for i in range(3) for r in poll(20 + 5 * i, 10 + i)]
    records.insert(3, rec(6, S, V, "OrderedTerminalEvent", event_no="1"))
    rows = build(records).rows
    assert [type(row).__name__ for row in rows] == ["Repeat", "Message", "Message", "Repeat"]
    assert [row.count for row in rows if isinstance(row, Repeat)] == [3, 3]


def test_retries_fold_too() -> None:
    records = [rec(31 + i, V, S, "ConnectionRefused") for i in range(5)]
    notes = [event(i + 1, 31 + i, "view_connect_refused", actor=V, view="root") for i in range(5)]
    rows = build(records, events=notes).rows
    assert [(type(row).__name__, row.count) for row in rows if isinstance(row, Repeat)] == [
        ("Repeat", 5),
        ("Repeat", 5),
    ]
    assert len(rows) == 2


def test_a_partition_is_a_band_with_notes_where_it_starts_and_ends() -> None:
    records = [rec(10, V, T, "GetRun", request_id="1"), rec(95, V, T, "GetRun", request_id="2")]
    partitions = [
        Partition(V, S, 30, 90),
        Partition(V, T, 30, 90),
        Partition("orchestrator", S, 100, math.inf),
    ]
    sequence = build(records, partitions=partitions)
    assert [(b.actor, b.servers, b.start, b.end) for b in sequence.bands] == [
        (V, (S, T), 30, 90),
        ("orchestrator", (S,), 100, math.inf),
    ]
    texts = [row.text for row in sequence.rows if isinstance(row, Note)]
    assert texts == [
        "partition: viewer cut off from session-server, task-server until 90 s",
        "partition over: viewer reaches session-server, task-server again",
        "partition: orchestrator cut off from session-server until the end",
    ]
    assert [row.t for row in sequence.rows] == [10, 30, 90, 95, 100]
