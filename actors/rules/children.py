"""Every child one viewer knows, each kept once: its row, name, status and pane.

Discovery (polling or pushes) hands child rows to a `ChildRoster`; the roster is
the only place they change what the viewer shows. The pill bar and the
snapshot only read it, and the viewer only carries out the `OpenPane` it
returns. Children are added, updated and filled in, never removed, so a viewer
never loses a pill when refreshes are late or the connection drops.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from actors.rules.names import AgentDirectory, display_name
from protocol.runs import RunRecord, RunState


class PillStatus(enum.Enum):
    """The status badge on a child pill."""

    IN_PROGRESS = "in_progress"
    SUCCESS = "success"
    ERROR = "error"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


_STATUS_OF: dict[RunState, PillStatus] = {
    RunState.QUEUED: PillStatus.IN_PROGRESS,
    RunState.PENDING: PillStatus.IN_PROGRESS,
    RunState.CLAIMED: PillStatus.IN_PROGRESS,
    RunState.INPROGRESS: PillStatus.IN_PROGRESS,
    RunState.RUNNING: PillStatus.IN_PROGRESS,
    RunState.SUCCEEDED: PillStatus.SUCCESS,
    RunState.FAILED: PillStatus.ERROR,
    RunState.ERROR: PillStatus.ERROR,
    RunState.BLOCKED: PillStatus.BLOCKED,
    RunState.CANCELLED: PillStatus.CANCELLED,
}


def pill_status(state: RunState) -> PillStatus:
    """The badge a run state shows as."""
    return _STATUS_OF[state]


class PaneState(enum.Enum):
    """What selecting a child (or opening a link) shows."""

    #: No session id yet, or the join has not completed.
    LOADING = "loading"
    LOADED = "loaded"
    #: The child's launch failed or joining its session failed.
    UNAVAILABLE = "unavailable"


#: Row states that, for a run never started and without a session, mean its launch failed.
_LAUNCH_FAILURES: Final = frozenset({RunState.FAILED, RunState.ERROR})


@dataclass(frozen=True, slots=True)
class OpenPane:
    """Open the child's hidden pane by joining its session through the parent; once per child.

    `session_link` is the join route on the child's row, None when the row has none.
    """

    task_id: str
    session_link: str | None


@dataclass(slots=True)
class Child:
    """One child as its viewer knows it; only its `ChildRoster` changes it.

    `row` is the newest row any answer brought, even one discovery dropped as
    stale; `state` is the state discovery last accepted, which sets the poll
    cadence. The two differ only while a dropped answer was newer.
    """

    task_id: str
    #: Registration order, the order of the pills.
    position: int
    name: str
    row: RunRecord
    state: RunState
    status: PillStatus
    #: The first session id discovery accepted; the pane opens when it is set.
    session_id: str | None
    pane: PaneState


class ChildRoster:
    """The children of one viewer, in registration order; see the module docstring.

    Names of registered children also go into the viewer's `directory`, where
    transcripts resolve agent ids.
    """

    def __init__(self, directory: AgentDirectory, *, order_by_creation: bool = False) -> None:
        self._directory = directory
        self._children: dict[str, Child] = {}
        self._working = 0
        #: Pills in the order the rows were created (`created_at`), not as registered.
        self._order_by_creation = order_by_creation

    def __len__(self) -> int:
        return len(self._children)

    def __iter__(self) -> Iterator[Child]:
        """The children in pill order."""
        if self._order_by_creation:
            return iter(sorted(self._children.values(), key=self._pill_order))
        return iter(self._children.values())

    def _pill_order(self, child: Child) -> tuple[float, int]:
        """Registration order, or creation first when pills follow it."""
        return (child.row.created_at if self._order_by_creation else 0.0), child.position

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._children

    def get(self, task_id: str) -> Child | None:
        return self._children.get(task_id)

    @property
    def all_terminal(self) -> bool:
        """True when there are children and none of them works any more."""
        return bool(self._children) and self._working == 0

    def merge(
        self, runs: Iterable[RunRecord], *, has_parent_conversation: bool = True
    ) -> tuple[OpenPane, ...]:
        """Take in rows discovery accepted (the parent's own row already left out).

        A new child is registered with its display name, but only under the
        viewer's active (orchestrator) conversation: without one, the client
        skips it, and only a later answer that lists it again can register it.
        A known child keeps its place and first name, and its status changes
        only when its state does. The first session id opens the pane; openings
        come after all pill changes, in pill order, as in the client.
        """
        touched: list[Child] = []
        opened: list[Child] = []
        for run in runs:
            child = self._children.get(run.task_id)
            if child is None:
                if not has_parent_conversation:
                    continue
                child = self._register(run)
            else:
                child.row = run
                self._restate(child, run.state)
            if child.session_id is None and run.session_id:
                child.session_id = run.session_id
                opened.append(child)
            touched.append(child)
        self._check_launches(touched)
        opened.sort(key=self._pill_order)
        return tuple(OpenPane(child.task_id, child.row.session_link) for child in opened)

    def refresh(self, runs: Iterable[RunRecord]) -> None:
        """Keep the newest rows of known children from an answer discovery dropped.

        Nothing is registered, restated or opened, but a failed launch still shows.
        """
        touched: list[Child] = []
        for run in runs:
            child = self._children.get(run.task_id)
            if child is not None:
                child.row = run
                touched.append(child)
        self._check_launches(touched)

    def parent_name(self, task_id: str) -> str | None:
        """The name of the child's parent as the client resolves it (its breadcrumb), if any."""
        parent = self._directory.parent_of(task_id)
        return parent.name if parent is not None else None

    def pane_joined(self, task_id: str) -> None:
        """The child's pane joined its session: a loading pane has loaded."""
        child = self._known(task_id)
        if child.session_id is None:
            raise ValueError(f"child {task_id} has no session id to have joined")
        if child.pane is PaneState.LOADING:
            child.pane = PaneState.LOADED

    def pane_join_failed(self, task_id: str) -> None:
        """The join failed: the pane is unavailable; the bar and other panes stay usable."""
        child = self._known(task_id)
        if child.pane is PaneState.LOADING:
            child.pane = PaneState.UNAVAILABLE

    def _register(self, run: RunRecord) -> Child:
        name = display_name(run)
        child = Child(
            task_id=run.task_id,
            position=len(self._children),
            name=name,
            row=run,
            state=run.state,
            status=pill_status(run.state),
            session_id=None,
            pane=PaneState.LOADING,
        )
        self._children[run.task_id] = child
        self._working += int(run.state.is_working)
        self._directory.register_child(run.task_id, name)
        return child

    def _restate(self, child: Child, state: RunState) -> None:
        if child.state is state:
            return
        self._working += int(state.is_working) - int(child.state.is_working)
        child.state = state
        child.status = pill_status(state)

    @staticmethod
    def _check_launches(children: Iterable[Child]) -> None:
        """A child whose launch failed (behaviour 48) can only be shown unavailable.

        Its newest row failed without ever starting and without a session. A run
        that failed after it started keeps its status and, without a session,
        stays loading, as in the client. Only children whose rows just changed
        can newly qualify, so only they are looked at.
        """
        for child in children:
            row = child.row
            if (
                child.pane is PaneState.LOADING
                and row.state in _LAUNCH_FAILURES
                and row.started_at is None
                and row.session_id is None
            ):
                child.status = PillStatus.ERROR
                child.pane = PaneState.UNAVAILABLE

    def _known(self, task_id: str) -> Child:
        child = self._children.get(task_id)
        if child is None:
            raise ValueError(f"child {task_id} is not on the pill bar")
        return child
