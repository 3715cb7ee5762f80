"""Small builders for task rows, so each test states only what it is about."""

from __future__ import annotations

from protocol.runs import AgentConfigSnapshot, Execution, RunRecord, RunState

ORCH = "orch"


def make_run(
    task_id: str,
    state: RunState = RunState.RUNNING,
    *,
    parent: str | None = ORCH,
    name: str | None = None,
    title: str = "",
    session_id: str | None = None,
    session_link: str | None = None,
    execution: Execution = Execution.CLOUD,
    started_at: float | None = None,
    sequence: int | None = None,
) -> RunRecord:
    snapshot = AgentConfigSnapshot(name) if name is not None else None
    return RunRecord(
        task_id=task_id,
        title=title,
        state=state,
        execution=execution,
        parent_run_id=parent,
        agent_config_snapshot=snapshot,
        session_id=session_id,
        session_link=session_link,
        started_at=started_at,
        last_event_sequence=sequence,
    )
