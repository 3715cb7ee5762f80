"""The task server's view of an agent run: one `ai_tasks` row.

For agents the task id doubles as the run id. A child's row names its
orchestrator in `parent_run_id`; a shared run's row carries the `session_id`
viewers join.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._refined import Usize


class RunState(enum.Enum):
    """Lifecycle of a run, as the task server spells it on the wire."""

    QUEUED = "QUEUED"
    PENDING = "PENDING"
    CLAIMED = "CLAIMED"
    INPROGRESS = "INPROGRESS"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    BLOCKED = "BLOCKED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        """True once the run will not work any more; BLOCKED counts, as in the client."""
        return self not in _WORKING

    @property
    def is_working(self) -> bool:
        return self in _WORKING


_WORKING = frozenset(
    {RunState.QUEUED, RunState.PENDING, RunState.CLAIMED, RunState.INPROGRESS, RunState.RUNNING}
)


class Execution(enum.Enum):
    """Where a run executes: on a user's client (or a driver's own process) or in the cloud."""

    LOCAL = "LOCAL"
    CLOUD = "CLOUD"


@dataclass(frozen=True, slots=True)
class AgentConfigSnapshot:
    """The launch configuration recorded on the row; `name` is the agent's short label."""

    name: str | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One `ai_tasks` row as the task server returns it.

    `session_link` is the join route of the shared session (with its `pwd`), so
    that whoever may view the run can open its session. Times are virtual
    seconds since the start of the simulation, so traces hold no wall-clock
    values.
    """

    task_id: str
    title: str
    state: RunState
    execution: Execution
    parent_run_id: str | None = None
    agent_config_snapshot: AgentConfigSnapshot | None = None
    session_id: str | None = None
    session_link: str | None = None
    conversation_id: str | None = None
    status_message: str | None = None
    created_at: float = 0.0
    started_at: float | None = None
    """When the run was first claimed (began executing); None while it never has been,
    as for a launch that failed before any worker or client took it up."""
    updated_at: float = 0.0
    children: tuple[str, ...] = ()
    last_event_sequence: Usize | None = None
    """The server's event sequence of the row's latest change; a subscriber seeds its
    cursor from the highest one in a listing (orch-viewer-polling, cold-start seeding)."""
