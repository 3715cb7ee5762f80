"""Task-server frames: RunRecord field names and values, and state errors by path."""

from __future__ import annotations

import json

import pytest

from protocol import (
    AgentConfigSnapshot,
    Channel,
    Execution,
    ListRuns,
    ProtocolError,
    RunRecord,
    RunReply,
    RunsListed,
    RunState,
    TaskError,
    TaskErrorKind,
    UpdateAgentTask,
    decode,
    encode,
)

ROW: dict[str, object] = {
    "task_id": "T2",
    "title": "Build the parser",
    "state": "RUNNING",
    "execution": "LOCAL",
    "parent_run_id": "T1",
    "agent_config_snapshot": {"name": "parser-agent"},
    "session_id": "s-2",
    "session_link": None,
    "conversation_id": None,
    "status_message": None,
    "created_at": 1.5,
    "started_at": 2.0,
    "updated_at": 3.0,
    "children": [],
    "last_event_sequence": 7,
}


def test_a_run_reply_decodes_with_its_field_names() -> None:
    message = decode(Channel.TASKS, json.dumps({"RunReply": {"request_id": 4, "run": ROW}}))
    assert message == RunReply(
        4,
        RunRecord(
            "T2",
            "Build the parser",
            RunState.RUNNING,
            Execution.LOCAL,
            parent_run_id="T1",
            agent_config_snapshot=AgentConfigSnapshot("parser-agent"),
            session_id="s-2",
            created_at=1.5,
            started_at=2.0,
            updated_at=3.0,
            last_event_sequence=7,
        ),
    )
    assert json.loads(encode(message)) == {"RunReply": {"request_id": 4, "run": ROW}}


def test_an_unknown_state_names_its_path() -> None:
    frame = {"RunsListed": {"request_id": 1, "runs": [ROW, {**ROW, "state": "DREAMING"}]}}
    with pytest.raises(ProtocolError) as caught:
        decode(Channel.TASKS, json.dumps(frame))
    assert caught.value.path == "$.RunsListed.runs[1].state"
    assert '"RUNNING"' in caught.value.expected


def test_request_defaults() -> None:
    message = decode(Channel.TASKS, '{"ListRuns":{"request_id":2,"parent_run_id":"T1"}}')
    assert message == ListRuns(request_id=2, parent_run_id="T1", limit=100, cursor=None)
    update = decode(
        Channel.TASKS, '{"UpdateAgentTask":{"request_id":3,"task_id":"T2","session_id":"s"}}'
    )
    assert update == UpdateAgentTask(3, "T2", session_id="s")


def test_replies_carry_kind_and_cursor() -> None:
    assert json.loads(encode(TaskError(5, TaskErrorKind.REJECTED_BY_GATE, "row is SUCCEEDED"))) == {
        "TaskError": {"request_id": 5, "kind": "REJECTED_BY_GATE", "message": "row is SUCCEEDED"}
    }
    assert json.loads(encode(RunsListed(6, ())))["RunsListed"] == {
        "request_id": 6,
        "runs": [],
        "next_cursor": None,
    }
