"""How shares are stamped, inherited by local children, caught up and stopped.

A child that is local to its host inherits the host's share with the same
variant kind but its own task id; the ledger remembers who inherited from whom
(the host's cascade set), so stopping a host reaches exactly those children and
never one that only ever shared on its own. What a reached child stops is
`stops_with_host`'s call.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from actors.rules.profiles import Switches
from protocol.source import AmbientAgent, SessionSourceType, User, resolve_orchestrator_task_id


class ShareKind(enum.Enum):
    """Who started a share: a person (share modal, copy link) or the cloud on an agent's behalf."""

    USER = "user"
    AMBIENT = "ambient"


@dataclass(frozen=True, slots=True)
class ShareSource:
    """The source type and `source_task_id` sidecar a sharer sends in its InitPayload."""

    source_type: SessionSourceType
    source_task_id: str | None = None

    @property
    def kind(self) -> ShareKind:
        return ShareKind.AMBIENT if isinstance(self.source_type, AmbientAgent) else ShareKind.USER

    @property
    def orchestrator_task_id(self) -> str | None:
        """The task a viewer would discover children of: sidecar first, then the variant."""
        return resolve_orchestrator_task_id(self.source_type, self.source_task_id)


def share_source(kind: ShareKind, task_id: str | None, switches: Switches) -> ShareSource:
    """The source of a fresh share of a conversation whose task id is `task_id` (None if unknown).

    Without the sidecar switch a user share carries no task id at all and an
    ambient share keeps it only inside the variant, as pre-change sharers did.
    """
    sidecar = task_id if switches.sidecar_source_task_id else None
    if kind is ShareKind.AMBIENT:
        return ShareSource(AmbientAgent(task_id), sidecar)
    return ShareSource(User(), sidecar)


def inherit_share_for_local_child(
    host: ShareSource | None, child_task_id: str, switches: Switches
) -> ShareSource | None:
    """The share a new local child of `host` starts with, or None if it stays unshared.

    A host without a resolved task id does not cascade: its viewers could not
    enumerate the children, so the shares would only produce stuck pills.
    """
    if host is None or host.orchestrator_task_id is None:
        return None
    if host.kind is ShareKind.USER and not switches.cascade_user_shares:
        return None
    return share_source(host.kind, child_task_id, switches)


def upgrade_sidecar(host: ShareSource, task_id: str, switches: Switches) -> ShareSource | None:
    """The upgraded source once a user share's conversation gets its task id (first response).

    None when nothing changes: not a user share, a sidecar already present, or
    a design that never stamps the sidecar. Only the sharer's copy changes unless
    `push_source_task_id` carries it to viewers.
    """
    if not switches.sidecar_source_task_id:
        return None
    if host.kind is not ShareKind.USER or host.source_task_id is not None:
        return None
    return ShareSource(host.source_type, task_id)


def stops_with_host(*, sharing: bool, inherited: bool, switches: Switches) -> bool:
    """Whether a child in the host's cascade set stops sharing when the host's share stops.

    The shipped client stops every pane of the set that is still a sharer,
    whatever share it holds by then; the spec stops only the share the cascade
    started (`inherited`), so a share the user opened on the child stays up.
    """
    if not sharing:
        return False
    return inherited or not switches.stop_only_inherited_shares


class PaneShareState(enum.Enum):
    """Whether a child's pane on the host is already part of a share."""

    NOT_SHARED = "not_shared"
    SHARING = "sharing"
    VIEWING = "viewing"


@dataclass(frozen=True, slots=True)
class LocalChild:
    """A child agent pane as the host sees it when its own share gets established.

    Remote children are panes that view the cloud share, hence `VIEWING`.
    """

    parent_task_id: str
    task_id: str | None
    pane_alive: bool
    share_state: PaneShareState


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Share child `task_id` with `source`, inherited from the host."""

    task_id: str
    source: ShareSource


def catch_up_candidates(
    host: ShareSource | None, children: Iterable[LocalChild], switches: Switches
) -> tuple[CatchUp, ...]:
    """The host's direct children that should start sharing now that the host's share is up.

    Only live panes with a task id that are neither sharing nor viewing qualify;
    grandchildren are reached when each child's own share is established.
    """
    if not switches.catch_up_existing_children or host is None:
        return ()
    host_task_id = host.orchestrator_task_id
    chosen: list[CatchUp] = []
    for child in children:
        if child.parent_task_id != host_task_id or child.task_id is None:
            continue
        if not child.pane_alive or child.share_state is not PaneShareState.NOT_SHARED:
            continue
        source = inherit_share_for_local_child(host, child.task_id, switches)
        if source is not None:
            chosen.append(CatchUp(child.task_id, source))
    return tuple(chosen)


class CascadeLedger:
    """Which shares were inherited from which host, and which catch-ups already ran.

    Keys are task ids. A child whose only share was started independently (a
    cloud child, a child the user shared before the host) is never recorded, so
    stopping a host never touches it.
    """

    def __init__(self) -> None:
        self._inherited: dict[str, list[str]] = {}
        self._caught_up: set[tuple[str, str]] = set()

    def inherited_from(self, host_task_id: str) -> tuple[str, ...]:
        """Children currently sharing because `host_task_id` shared, in the order they joined."""
        return tuple(self._inherited.get(host_task_id, ()))

    def share_new_child(
        self, host: ShareSource | None, child_task_id: str, switches: Switches
    ) -> ShareSource | None:
        """Apply the creation-time cascade to a new local child and record it if it inherits."""
        source = inherit_share_for_local_child(host, child_task_id, switches)
        if source is not None and host is not None and host.orchestrator_task_id is not None:
            self._record(host.orchestrator_task_id, child_task_id)
        return source

    def catch_up(
        self,
        host: ShareSource,
        session_id: str,
        children: Iterable[LocalChild],
        switches: Switches,
    ) -> tuple[CatchUp, ...]:
        """Run the one-shot catch-up for one establishment of the host's share.

        A repeated establishment event for the same session does nothing; the
        chosen children are recorded so the host's stop reaches them.
        """
        host_task_id = host.orchestrator_task_id
        if host_task_id is None or (host_task_id, session_id) in self._caught_up:
            return ()
        self._caught_up.add((host_task_id, session_id))
        chosen = catch_up_candidates(host, children, switches)
        for item in chosen:
            self._record(host_task_id, item.task_id)
        return chosen

    def stop(self, host_task_id: str) -> tuple[str, ...]:
        """Forget the host's cascade and return every share to stop with it, depth first.

        Each inherited child's own inherited children stop too, as each child's
        stop re-enters the cascade in the client.
        """
        stopped: list[str] = []
        for child in self._inherited.pop(host_task_id, []):
            stopped.append(child)
            stopped.extend(self.stop(child))
        return tuple(stopped)

    def forget(self, task_id: str) -> None:
        """Drop a closed pane wherever it appears, as host or as inheriting child."""
        self._inherited.pop(task_id, None)
        for children in self._inherited.values():
            if task_id in children:
                children.remove(task_id)

    def _record(self, host_task_id: str, child_task_id: str) -> None:
        children = self._inherited.setdefault(host_task_id, [])
        if child_task_id not in children:
            children.append(child_task_id)
