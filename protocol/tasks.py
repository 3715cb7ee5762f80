"""Request and reply traffic with the task server, which owns the `ai_tasks` rows.

Every request and reply carries the `request_id` of the request it belongs
to, so a client can match replies and drop stale ones. The one push,
`ChildRunChanged`, belongs to no request: it follows a `SubscribeChildren`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, TypeAlias

from ._refined import Usize
from .errors import SharesimError
from .message import Message
from .runs import AgentConfigSnapshot, Execution, RunRecord, RunState

#: Most rows one `ListRuns` returns. Viewers ask for exactly this many and, like the
#: client, read only that first page of a run's children.
PAGE_LIMIT: Final = 100

# -- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateRun(Message):
    """Create the row for an agent that is starting; the server assigns the task id."""

    request_id: int
    title: str
    execution: Execution
    parent_run_id: str | None = None
    agent_config_snapshot: AgentConfigSnapshot | None = None
    idempotency_key: str | None = None
    """Added by the simulation: a retried create with the same key returns the first row
    instead of minting a second one (the first reply may have been lost, not the request)."""


@dataclass(frozen=True, slots=True)
class ListRuns(Message):
    """One page of the direct children of `parent_run_id`; `cursor` continues a listing."""

    request_id: int
    parent_run_id: str
    limit: int = PAGE_LIMIT
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class GetRun(Message):
    """Fetch one row."""

    request_id: int
    task_id: str


@dataclass(frozen=True, slots=True)
class UpdateAgentTask(Message):
    """Set some fields of a row; None leaves a field as it is.

    The server's gates apply: a `session_id` is accepted only while the row is
    CLAIMED or RUNNING.
    """

    request_id: int
    task_id: str
    state: RunState | None = None
    session_id: str | None = None
    conversation_id: str | None = None
    status_message: str | None = None
    session_link: str | None = None
    """Added by the simulation: the join route (with its secret) of `session_id`, so that
    whoever may view the run can open its session."""


@dataclass(frozen=True, slots=True)
class TransitionRun(Message):
    """The row's owner moving its run through its lifecycle."""

    request_id: int
    task_id: str
    state: RunState


@dataclass(frozen=True, slots=True)
class GetAgentNames(Message):
    """Not in the real API: the proposed name-only lookup for a child link.

    Names of the run's orchestration group (its parent and siblings) and
    nothing else, so a child link can resolve references without learning
    any session it could open.
    """

    request_id: int
    task_id: str


@dataclass(frozen=True, slots=True)
class SubscribeChildren(Message):
    """Not in the real API: the proposed ancestor event stream as a subscription on this link.

    The follow-up spec (orch-viewer-polling) has the server stream every change
    of a direct child of `parent_run_id` to whoever may view the parent, from
    a cursor: the server pushes a `ChildRunChanged` for every child whose last
    change has a sequence above `since` (every child when None), in sequence
    order, then one for each later change, until the link closes or the
    subscription is dropped. Subscribing again on the same link replays from
    the new `since`.
    """

    request_id: int
    parent_run_id: str
    since: Usize | None = None


@dataclass(frozen=True, slots=True)
class UnsubscribeChildren(Message):
    """Not in the real API: stop the pushes a `SubscribeChildren` started on this link."""

    request_id: int
    parent_run_id: str


TaskRequest: TypeAlias = (
    CreateRun
    | ListRuns
    | GetRun
    | UpdateAgentTask
    | TransitionRun
    | GetAgentNames
    | SubscribeChildren
    | UnsubscribeChildren
)

# -- replies -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunReply(Message):
    """The row a CreateRun, GetRun or TransitionRun produced or found."""

    request_id: int
    run: RunRecord


@dataclass(frozen=True, slots=True)
class RunsListed(Message):
    """One page of children; `next_cursor` is None on the last page."""

    request_id: int
    runs: tuple[RunRecord, ...]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class AgentTaskUpdated(Message):
    """The row after an UpdateAgentTask."""

    request_id: int
    run: RunRecord


class TaskErrorKind(enum.Enum):
    """Why a request failed."""

    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    REJECTED_BY_GATE = "REJECTED_BY_GATE"
    """The row's state does not allow the change (e.g. a session link on a finished run)."""
    INVALID = "INVALID"


@dataclass(frozen=True, slots=True)
class TaskError(Message):
    """A request that failed, and why."""

    request_id: int
    kind: TaskErrorKind
    message: str


class TaskCallFailed(SharesimError):
    """A task-server request that did not succeed: refused, unanswered, or never sent.

    `request` names the request when the caller knows it (the client does, the
    store does not).
    """

    def __init__(self, reason: str, *, request: str | None = None) -> None:
        self.reason = reason
        self.request = request
        super().__init__(reason if request is None else f"{request} failed: {reason}")


class TaskRefused(TaskCallFailed):
    """The task server turned a request down; on the wire this is a `TaskError` reply.

    `reason` is what the client is told; `detail`, for the server's own log, may
    say more (why a run is hidden from the caller, which it must not learn).
    """

    def __init__(
        self,
        kind: TaskErrorKind,
        reason: str,
        *,
        request: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.kind = kind
        self.detail = detail or reason
        super().__init__(reason, request=request)


@dataclass(frozen=True, slots=True)
class AgentName:
    """One agent of an orchestration group and the name it is shown under."""

    task_id: str
    name: str


@dataclass(frozen=True, slots=True)
class AgentNames(Message):
    """The answer to GetAgentNames: names only, no session ids."""

    request_id: int
    names: tuple[AgentName, ...]


@dataclass(frozen=True, slots=True)
class ChildrenSubscribed(Message):
    """The answer to SubscribeChildren; the replayed changes follow it."""

    request_id: int
    parent_run_id: str


@dataclass(frozen=True, slots=True)
class ChildrenUnsubscribed(Message):
    """The answer to UnsubscribeChildren; no further change of that parent follows."""

    request_id: int
    parent_run_id: str


@dataclass(frozen=True, slots=True)
class ChildRunChanged(Message):
    """Not in the real API, and no reply: a direct child of a subscribed parent changed.

    `run` is the child's row after the change and `sequence` the server's event
    sequence of that change (the row's `last_event_sequence`); sequences only
    grow, so a subscriber resumes with the highest one it has applied.
    """

    parent_run_id: str
    sequence: Usize
    run: RunRecord


TaskReply: TypeAlias = (
    RunReply
    | RunsListed
    | AgentTaskUpdated
    | TaskError
    | AgentNames
    | ChildrenSubscribed
    | ChildrenUnsubscribed
)

TaskPush: TypeAlias = ChildRunChanged
"""What the server sends on its own, outside any request."""

TaskMessage: TypeAlias = TaskRequest | TaskReply | TaskPush
