"""Agent names: the label of a run, and how a viewer renders an agent id in a transcript.

What each design shows follows from how the viewer's `AgentDirectory` is
filled; `resolve_reference` is the single place that decides between a
resolved name and a fallback.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from actors.rules.view import ViewScope
from protocol.runs import RunRecord

#: Label of a run that has neither a configured name nor a title.
AGENT_FALLBACK = "Agent"
#: How a transcript renders an agent id the viewer cannot resolve.
UNKNOWN_AGENT = "Unknown agent"
#: The parent's placeholder name; also the orchestrator pill's label when it has no name.
ORCHESTRATOR = "Orchestrator"
#: With `retry_name_lookup`, the waits before a child link asks for names again after a
#: lookup that got no answer: 1, 2 and 5 s, then 10 s, as the event stream backs off,
NAME_LOOKUP_RETRY_S: Final = (1.0, 2.0, 5.0, 10.0)
#: for at most this long in all.
NAME_LOOKUP_MAX_RETRY_S: Final = 30 * 60.0


def name_lookup_waits(*, retries: bool) -> Iterator[float]:
    """The waits between name lookups that got no answer; none without `retries`.

    A refusal (no such run, or no access) is an answer and is not retried.
    """
    if not retries:
        return
    waited = 0.0
    for attempt in range(int(NAME_LOOKUP_MAX_RETRY_S)):
        wait = NAME_LOOKUP_RETRY_S[min(attempt, len(NAME_LOOKUP_RETRY_S) - 1)]
        if waited + wait > NAME_LOOKUP_MAX_RETRY_S:
            return
        waited += wait
        yield wait


def display_name(run: RunRecord) -> str:
    """The run's short label: configured name, else title, else "Agent" (all trimmed)."""
    if run.agent_config_snapshot is not None and run.agent_config_snapshot.name:
        name = run.agent_config_snapshot.name.strip()
        if name:
            return name
    return run.title.strip() or AGENT_FALLBACK


class EntryOrigin(enum.Enum):
    """How an agent id got into a viewer's index."""

    #: The conversation the view was opened on.
    ROOT = "root"
    #: A child registered by discovery; navigable from the pill bar.
    CHILD = "child"
    #: A parent or sibling known by name only: no conversation, no pill, no navigation.
    NAME_ONLY = "name_only"


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    name: str
    origin: EntryOrigin

    @property
    def navigable(self) -> bool:
        """Name-only entries must never become something a child link can open."""
        return self.origin is not EntryOrigin.NAME_ONLY


@dataclass(slots=True)
class _ChildConversation:
    name: str
    #: The parent's agent id, copied from the root when the child is created (or backfilled).
    parent_agent_id: str | None


class AgentDirectory:
    """One viewer's agent conversations and its agent id -> conversation index.

    It models the part of the client's history model that names come from:
    the index is filled only where the client fills it. The root conversation
    enters it once the viewer knows the root's run id (from the share, or a
    pushed task id); a discovered child only when it is registered through
    `assign_run_id_for_conversation` (fix B1, `assigns_run_ids`), not through
    the older `set_task_id`, which leaves the index alone; a name-only entry
    (B4) whenever the name-only path delivers one. A child records its
    parent's agent id when it is created, if the root has one by then; with
    fix B2 (`backfills_parent_agent_ids`) the root's id, once known, is
    stamped on every child still without one, and never over an existing one.
    """

    def __init__(
        self, *, assigns_run_ids: bool = True, backfills_parent_agent_ids: bool = True
    ) -> None:
        self._assigns_run_ids = assigns_run_ids
        self._backfills = backfills_parent_agent_ids
        self._index: dict[str, DirectoryEntry] = {}
        self._root: str | None = None
        self._children: dict[str, _ChildConversation] = {}
        #: Every conversation's run id, in the order the viewer came to hold it.
        self._conversations: dict[str, None] = {}

    @property
    def root_run_id(self) -> str | None:
        """The run id of the view's own conversation, once the viewer knows it."""
        return self._root

    def register_root(self, run_id: str, name: str | None = None) -> None:
        """The view's own conversation is run `run_id` (ConversationServerTokenAssigned).

        It enters the index under `name`, if the view has a label for it.
        """
        self._root = run_id
        self._conversations.setdefault(run_id)
        if name is not None:
            self._index[run_id] = DirectoryEntry(name, EntryOrigin.ROOT)
        if self._backfills:
            for child in self._children.values():
                if child.parent_agent_id is None:
                    child.parent_agent_id = run_id

    def name_root(self, name: str | None) -> None:
        """Index the view's own conversation under `name`, or take its label away (None).

        Which it is follows the view's scope, which can change as children come, so the
        viewer says it again before each read. A name-only entry is left alone.
        """
        root = self._root
        if root is None:
            return
        if name is not None:
            self._index[root] = DirectoryEntry(name, EntryOrigin.ROOT)
            return
        current = self._index.get(root)
        if current is not None and current.origin is EntryOrigin.ROOT:
            del self._index[root]

    def register_child(self, run_id: str, name: str) -> None:
        """A discovered child's conversation; indexed only on the B1 path.

        Its index entry replaces a name-only one; the view's own conversation is
        never its own child.
        """
        if run_id == self._root:
            return
        self._children.setdefault(run_id, _ChildConversation(name, self._root))
        self._conversations.setdefault(run_id)
        if not self._assigns_run_ids:
            return
        current = self._index.get(run_id)
        if current is None or current.origin is EntryOrigin.NAME_ONLY:
            self._index[run_id] = DirectoryEntry(name, EntryOrigin.CHILD)

    def register_name_only(self, run_id: str, name: str) -> None:
        """A name for display only; never shadows an entry the viewer can navigate to."""
        if run_id not in self._index:
            self._index[run_id] = DirectoryEntry(name, EntryOrigin.NAME_ONLY)

    def lookup(self, agent_id: str) -> DirectoryEntry | None:
        """`conversation_id_for_agent_id`: what the index holds for `agent_id`."""
        return self._index.get(agent_id)

    def parent_of(self, run_id: str) -> DirectoryEntry | None:
        """The child's parent as the client resolves it: through its `parent_agent_id`."""
        child = self._children.get(run_id)
        if child is None or child.parent_agent_id is None:
            return None
        return self.lookup(child.parent_agent_id)

    def navigable_ids(self) -> tuple[str, ...]:
        """Every conversation the viewer holds: its own and the registered children."""
        return tuple(self._conversations)


class Resolution(enum.Enum):
    """Why a reference rendered the way it did, so snapshots can say which rule applied."""

    RESOLVED = "resolved"
    FALLBACK = "fallback"
    PARENT_PLACEHOLDER = "parent_placeholder"


@dataclass(frozen=True, slots=True)
class ResolvedName:
    label: str
    how: Resolution


def resolve_reference(
    agent_id: str, directory: AgentDirectory, *, scope: ViewScope
) -> ResolvedName:
    """Render `agent_id` as a transcript in this view would.

    An id the index holds shows its name. Otherwise the renderer falls back on
    the view's own conversation. In a child link whose conversation has no run
    id (a share that carried no task id) it cannot resolve that conversation,
    and the viewer holds no parent for it either, so it takes it for the
    orchestrator and every unresolved agent shows the parent's placeholder
    (gap 2). Anywhere else an unresolved agent is "Unknown agent".
    """
    entry = directory.lookup(agent_id)
    if entry is not None:
        return ResolvedName(entry.name, Resolution.RESOLVED)
    if scope is ViewScope.CHILD and directory.root_run_id is None:
        return ResolvedName(ORCHESTRATOR, Resolution.PARENT_PLACEHOLDER)
    return ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)
