"""A viewer's pill bar and child panes, and the snapshot scenarios assert on.

The bar only ever grows: it keeps the last known children and statuses when
refreshes are late or the connection drops, so a viewer never loses a pill.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from actors.rules.children import PaneState, PillStatus, pill_status
from actors.rules.discovery import DiscoveryEffect, MaterializeChild, RegisterChild, UpdateStatus
from actors.rules.names import AGENT_FALLBACK, ORCHESTRATOR, ResolvedName
from actors.rules.view import ViewScope
from protocol.runs import RunState

# PaneState and PillStatus are what panes and pills are made of, so they are importable here.
__all__ = [
    "Pane",
    "PaneState",
    "Pill",
    "PillBar",
    "PillStatus",
    "Reference",
    "ViewerSnapshot",
    "pill_status",
]


@dataclass(frozen=True, slots=True)
class Pill:
    """One pill; the orchestrator's pill has no status."""

    label: str
    task_id: str | None = None
    status: PillStatus | None = None

    def to_dict(self) -> dict[str, str]:
        """Absent values are left out, since TOML has no null."""
        out = {"label": self.label}
        if self.task_id is not None:
            out["task_id"] = self.task_id
        if self.status is not None:
            out["status"] = self.status.value
        return out


@dataclass(frozen=True, slots=True)
class Pane:
    """A child's hidden pane as the viewer would find it on selecting the pill."""

    task_id: str
    name: str
    state: PaneState

    def to_dict(self) -> dict[str, str]:
        return {"task_id": self.task_id, "name": self.name, "state": self.state.value}


@dataclass(frozen=True, slots=True)
class Reference:
    """How one agent id in a transcript rendered in this view."""

    agent_id: str
    resolved: ResolvedName

    def to_dict(self) -> dict[str, str]:
        return {
            "agent_id": self.agent_id,
            "label": self.resolved.label,
            "how": self.resolved.how.value,
        }


@dataclass(frozen=True, slots=True)
class ViewerSnapshot:
    """Everything a viewer shows that the product spec makes promises about."""

    viewer: str
    scope: ViewScope
    root: PaneState
    pill_bar_visible: bool
    pills: tuple[Pill, ...]
    panes: tuple[Pane, ...]
    references: tuple[Reference, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Plain JSON/TOML-comparable data (no None anywhere)."""
        return {
            "viewer": self.viewer,
            "scope": self.scope.value,
            "root": self.root.value,
            "pill_bar_visible": self.pill_bar_visible,
            "pills": [pill.to_dict() for pill in self.pills],
            "panes": [pane.to_dict() for pane in self.panes],
            "references": [ref.to_dict() for ref in self.references],
        }


@dataclass(frozen=True, slots=True)
class _Child:
    name: str
    status: PillStatus
    session_id: str | None
    pane: PaneState


class PillBar:
    """One viewer's orchestration pill bar: the orchestrator, then children as registered."""

    def __init__(
        self, orchestrator_task_id: str | None = None, orchestrator_name: str | None = None
    ) -> None:
        self._orchestrator = Pill(
            (orchestrator_name or "").strip() or ORCHESTRATOR, orchestrator_task_id
        )
        self._children: dict[str, _Child] = {}

    @property
    def visible(self) -> bool:
        """The bar shows only once at least one child is registered."""
        return bool(self._children)

    def pills(self) -> tuple[Pill, ...]:
        if not self.visible:
            return ()
        children = (
            Pill(child.name, task_id, child.status) for task_id, child in self._children.items()
        )
        return (self._orchestrator, *children)

    def panes(self) -> tuple[Pane, ...]:
        return tuple(Pane(tid, child.name, child.pane) for tid, child in self._children.items())

    def register_child(self, task_id: str, name: str, state: RunState) -> None:
        """Add a child pill; a child already on the bar keeps its place and name."""
        if task_id not in self._children:
            label = name.strip() or AGENT_FALLBACK
            self._children[task_id] = _Child(label, pill_status(state), None, PaneState.LOADING)

    def update_status(self, task_id: str, state: RunState) -> None:
        child = self._child(task_id)
        self._children[task_id] = replace(child, status=pill_status(state))

    def session_known(self, task_id: str, session_id: str) -> None:
        """The child's session can be joined; the pane loads once the join succeeds."""
        child = self._child(task_id)
        if child.session_id is None:
            self._children[task_id] = replace(child, session_id=session_id)

    def pane_joined(self, task_id: str) -> None:
        child = self._child(task_id)
        if child.session_id is None:
            raise ValueError(f"child {task_id} has no session id to have joined")
        if child.pane is PaneState.LOADING:
            self._children[task_id] = replace(child, pane=PaneState.LOADED)

    def pane_join_failed(self, task_id: str) -> None:
        """The join failed: the pane is unavailable; the bar and other panes stay usable."""
        child = self._child(task_id)
        if child.pane is PaneState.LOADING:
            self._children[task_id] = replace(child, pane=PaneState.UNAVAILABLE)

    def launch_failed(self, task_id: str, name: str) -> None:
        """The orchestrator reported a failed launch: show the child as errored and unavailable."""
        self.register_child(task_id, name, RunState.ERROR)
        child = self._children[task_id]
        if child.pane is PaneState.LOADING:
            self._children[task_id] = replace(
                child, status=PillStatus.ERROR, pane=PaneState.UNAVAILABLE
            )

    def apply(self, effects: Iterable[DiscoveryEffect]) -> None:
        """Take in what discovery found; timer and fetch effects are not the bar's business."""
        for effect in effects:
            if isinstance(effect, RegisterChild):
                self.register_child(effect.run.task_id, effect.name, effect.run.state)
            elif isinstance(effect, UpdateStatus):
                self.update_status(effect.task_id, effect.state)
            elif isinstance(effect, MaterializeChild):
                self.session_known(effect.task_id, effect.session_id)

    def snapshot(
        self,
        *,
        viewer: str,
        scope: ViewScope,
        root: PaneState,
        references: Iterable[Reference] = (),
    ) -> ViewerSnapshot:
        return ViewerSnapshot(
            viewer=viewer,
            scope=scope,
            root=root,
            pill_bar_visible=self.visible,
            pills=self.pills(),
            panes=self.panes(),
            references=tuple(references),
        )

    def _child(self, task_id: str) -> _Child:
        child = self._children.get(task_id)
        if child is None:
            raise ValueError(f"child {task_id} is not on the pill bar")
        return child
