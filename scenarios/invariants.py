"""Safety invariants checked after every delivered message of a run.

Expectations say what a viewer shows at chosen moments; invariants say what
must never happen at any moment, whatever the seed and the faults. Each check
reads the actors' state directly (the run is single-threaded, so a check sees
a consistent picture) and records the first breach per invariant and actor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.hosts.agents import ChildAgent, Location, Orchestrator
from actors.rules.pill_bar import PillStatus
from actors.runtime.trace import FAULT_CHANNEL, TraceRecord
from actors.viewers.viewer import Viewer
from actors.world import World


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken invariant: which, the product behaviours it protects, when, who, what."""

    invariant: str
    behaviours: tuple[int, ...]
    at: float
    actor: str
    detail: str

    def __str__(self) -> str:
        numbers = ", ".join(str(b) for b in self.behaviours)
        protects = f" (behaviours {numbers})" if numbers else ""
        return f"{self.invariant}{protects} broken at {self.at:g} s by {self.actor}: {self.detail}"


_TERMINAL_STATUSES = frozenset(
    {PillStatus.SUCCESS, PillStatus.ERROR, PillStatus.BLOCKED, PillStatus.CANCELLED}
)


@dataclass
class InvariantMonitor:
    """Watches one world; `after_delivery` runs for every traced message."""

    world: World
    violations: list[Violation] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _known: dict[str, dict[str, PillStatus | None]] = field(default_factory=dict)

    def after_delivery(self, record: TraceRecord) -> None:
        if record.channel == FAULT_CHANNEL:
            return  # nothing was delivered; the next delivery shows what the fault did
        if record.type == "UpdateAgentTask":
            self._check_link_writer(record)
        for name, viewer in list(self.world.viewers.items()):
            self._check_viewer(name, viewer, record.t)

    # -- per viewer -----------------------------------------------------------------

    def _check_viewer(self, name: str, viewer: Viewer, now: float) -> None:
        self._check_scope(name, viewer, now)
        self._check_roles(viewer, now)
        self._check_never_drops(viewer, now)
        self._check_event_order(viewer, now)

    def _check_scope(self, name: str, viewer: Viewer, now: float) -> None:
        """A link shows the agent it opens and that agent's direct children, nothing else.

        A parent link must not reach past the orchestrator's direct children (38); a child
        link must not reach its parent or siblings (17, 39). A child that orchestrates has
        children of its own, and its link may show them as the client does (its root pane
        discovers the runs whose parent is the child's run).
        """
        opened = self._opened_task_id(name)
        allowed = self._direct_children(opened) if opened is not None else set()
        shown = [pane.task_id for pane in viewer.pill_bar.panes()]
        shown += [p.task_id for p in viewer.pill_bar.pills()[1:] if p.task_id is not None]
        anchor = next(iter(viewer.pill_bar.pills()), None)
        if anchor is not None and anchor.task_id not in (None, opened):
            shown.append(anchor.task_id)
        outside = sorted({task_id for task_id in shown if task_id not in allowed})
        if not outside:
            return
        if self._opened_a_child(name):
            self._breach(
                "child-link-scope",
                (17, 39),
                now,
                viewer.name,
                f"the child link of {opened} shows {outside}, not its own direct children",
            )
        else:
            self._breach(
                "parent-link-scope",
                (38,),
                now,
                viewer.name,
                f"the parent link shows {outside}, not direct children of {opened}",
            )

    def _check_roles(self, viewer: Viewer, now: float) -> None:
        """Roles as they are now, so a role granted after joining is held to the cap too.

        Only where the design caps at all: the shipped client does not (behaviour 41 is
        broken as shipped, and `share-roles` shows it), the spec's switch does.
        """
        if not self.world.switches.cap_child_role_at_parent:
            return
        root = viewer.root
        if root is None or root.joined is None:
            return
        for task_id, pane in viewer.panes.items():
            if pane.joined is not None and pane.role.rank > root.role.rank:
                self._breach(
                    "role-cap",
                    (41,),
                    now,
                    viewer.name,
                    f"child {task_id} holds {pane.role.value}, "
                    f"above {root.role.value} on the parent",
                )

    def _check_never_drops(self, viewer: Viewer, now: float) -> None:
        known = self._known.setdefault(viewer.name, {})
        current = {
            pill.task_id: pill.status
            for pill in viewer.pill_bar.pills()
            if pill.task_id is not None
        }
        for task_id, status in known.items():
            if task_id not in current:
                self._breach(
                    "pill-bar-keeps-children",
                    (46, 49),
                    now,
                    viewer.name,
                    f"dropped child {task_id}",
                )
            elif status in _TERMINAL_STATUSES and current[task_id] not in _TERMINAL_STATUSES:
                self._breach(
                    "pill-bar-keeps-status",
                    (46, 49),
                    now,
                    viewer.name,
                    f"child {task_id} went back from {status.value} to {current[task_id]}",
                )
        known.update(current)

    def _check_event_order(self, viewer: Viewer, now: float) -> None:
        views = ([viewer.root] if viewer.root is not None else []) + list(viewer.panes.values())
        for view in views:
            for problem in view.sequence_errors:
                self._breach(
                    "events-exactly-once-in-order",
                    (43,),
                    now,
                    viewer.name,
                    f"{view.key}: {problem}",
                )

    # -- task links ---------------------------------------------------------------------

    def _check_link_writer(self, record: TraceRecord) -> None:
        task_id = record.ids.get("task_id")
        if record.src in self.world.viewers:
            self._breach(
                "link-writer",
                (),
                record.t,
                record.src,
                f"a viewer sent update_agent_task for {task_id}",
            )
            return
        hosts: list[Orchestrator | ChildAgent] = [
            *self.world.orchestrators.values(),
            *self.world.children(),
        ]
        for host in hosts:
            child = host.children.get(task_id or "")
            if child is not None and child.location is Location.REMOTE and record.src == host.name:
                self._breach(
                    "link-writer",
                    (),
                    record.t,
                    record.src,
                    f"the host wrote a session link for its remote child {task_id}",
                )

    # -- helpers ---------------------------------------------------------------------

    def _opened_task_id(self, viewer: str) -> str | None:
        """The run of the agent whose link the viewer opened, as the world knows it."""
        target = self.world.opened.get(viewer)
        return self.world.agent(target).task_id if target is not None else None

    def _opened_a_child(self, viewer: str) -> bool:
        """Whether the viewer opened a child's link, as the world knows it: the monitor
        judges the view, so it never takes the view's own word for its scope."""
        target = self.world.opened.get(viewer)
        return target is not None and isinstance(self.world.agent(target), ChildAgent)

    def _direct_children(self, parent: str | None) -> set[str]:
        return {row.task_id for row in self.world.tasks.store.rows() if row.parent_run_id == parent}

    def _breach(
        self, invariant: str, behaviours: tuple[int, ...], at: float, actor: str, detail: str
    ) -> None:
        key = (invariant, actor)
        if key in self._seen:
            return
        self._seen.add(key)
        self.violations.append(Violation(invariant, behaviours, at, actor, detail))
