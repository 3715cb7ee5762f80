"""Who subscribed to which parent's children on the task server, link by link.

The follow-up design streams a parent's child changes to its viewers (the
ancestor event stream of orch-viewer-polling). The task server keeps, per
link, the parents it was asked about; a change of a child is pushed on every
link subscribed to its parent. A subscription lives as long as its link, and
a link may hold only so many, so one client cannot grow the table without end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol.tasks import TaskErrorKind, TaskRefused

#: Parents one link may follow at once; a viewer pane follows one.
MAX_SUBSCRIPTIONS_PER_LINK = 100


@dataclass
class ChildFeed:
    """Subscriptions by parent and by link; pure state, the server does the sending."""

    _by_parent: dict[str, set[int]] = field(default_factory=dict)
    _by_link: dict[int, set[str]] = field(default_factory=dict)

    def subscribe(self, link: int, parent_run_id: str) -> None:
        """Follow `parent_run_id` on `link`; following it again changes nothing."""
        parents = self._by_link.setdefault(link, set())
        if parent_run_id not in parents and len(parents) >= MAX_SUBSCRIPTIONS_PER_LINK:
            raise TaskRefused(
                TaskErrorKind.INVALID,
                f"a link may follow at most {MAX_SUBSCRIPTIONS_PER_LINK} parents at once",
            )
        parents.add(parent_run_id)
        self._by_parent.setdefault(parent_run_id, set()).add(link)

    def unsubscribe(self, link: int, parent_run_id: str) -> None:
        """Stop following `parent_run_id` on `link`; not following it is no error."""
        self._by_link.get(link, set()).discard(parent_run_id)
        links = self._by_parent.get(parent_run_id)
        if links is not None:
            links.discard(link)
            if not links:
                del self._by_parent[parent_run_id]

    def link_closed(self, link: int) -> None:
        """Forget every subscription of a link that is gone."""
        for parent_run_id in self._by_link.pop(link, set()):
            self.unsubscribe(link, parent_run_id)

    def subscribers(self, parent_run_id: str) -> tuple[int, ...]:
        """The links following `parent_run_id`, in a fixed order so runs replay exactly."""
        return tuple(sorted(self._by_parent.get(parent_run_id, ())))
