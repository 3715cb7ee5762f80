"""A viewer's pill bar and child panes, and the snapshot scenarios assert on.

The bar is a view of the viewer's `ChildRoster`: it keeps no state of its own,
so what it shows is always what the roster knows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from actors.rules.children import ChildRoster, PaneState, PillStatus
from actors.rules.names import ORCHESTRATOR, ResolvedName
from actors.rules.view import ViewScope

# PaneState and PillStatus are what panes and pills are made of, so they are importable here.
__all__ = ["Pane", "PaneState", "Pill", "PillBar", "PillStatus", "Reference", "ViewerSnapshot"]


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
    """A child's hidden pane as the viewer would find it on selecting the pill.

    `parent` is the parent its breadcrumb names, resolved through the child's
    `parent_agent_id`; None when that does not resolve.
    """

    task_id: str
    name: str
    state: PaneState
    parent: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"task_id": self.task_id, "name": self.name, "state": self.state.value}
        if self.parent is not None:
            out["parent"] = self.parent
        return out


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


class PillBar:
    """One viewer's orchestration pill bar: the orchestrator, then children as registered."""

    def __init__(
        self,
        children: ChildRoster,
        orchestrator_task_id: str | None = None,
        orchestrator_name: str | None = None,
    ) -> None:
        self._children = children
        self._orchestrator = Pill(
            (orchestrator_name or "").strip() or ORCHESTRATOR, orchestrator_task_id
        )

    @property
    def visible(self) -> bool:
        """The bar shows only once at least one child is registered."""
        return bool(self._children)

    def pills(self) -> tuple[Pill, ...]:
        if not self.visible:
            return ()
        children = (Pill(child.name, child.task_id, child.status) for child in self._children)
        return (self._orchestrator, *children)

    def panes(self) -> tuple[Pane, ...]:
        return tuple(
            Pane(child.task_id, child.name, child.pane, self._children.parent_name(child.task_id))
            for child in self._children
        )

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
