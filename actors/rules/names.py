"""Agent names: the label of a run, and how a viewer renders an agent id in a transcript.

The table of what each design shows lives in `resolve_reference`, the single
place that decides between a resolved name and a fallback.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from actors.rules.profiles import Switches
from actors.rules.view import ViewContext, ViewScope
from protocol.runs import RunRecord

#: Label of a run that has neither a configured name nor a title.
AGENT_FALLBACK = "Agent"
#: How a transcript renders an agent id the viewer cannot resolve.
UNKNOWN_AGENT = "Unknown agent"
#: The parent's placeholder name; also the orchestrator pill's label when it has no name.
ORCHESTRATOR = "Orchestrator"


def display_name(run: RunRecord) -> str:
    """The run's short label: configured name, else title, else "Agent" (all trimmed)."""
    if run.agent_config_snapshot is not None and run.agent_config_snapshot.name:
        name = run.agent_config_snapshot.name.strip()
        if name:
            return name
    return run.title.strip() or AGENT_FALLBACK


class EntryOrigin(enum.Enum):
    """How an agent id got into a viewer's directory."""

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


class AgentDirectory:
    """One viewer's run id -> name index, recording how each entry was learnt."""

    def __init__(self) -> None:
        self._entries: dict[str, DirectoryEntry] = {}

    def register_root(self, run_id: str, name: str) -> None:
        self._entries[run_id] = DirectoryEntry(name, EntryOrigin.ROOT)

    def register_child(self, run_id: str, name: str) -> None:
        """A discovered child; replaces a name-only entry but never the root."""
        current = self._entries.get(run_id)
        if current is None or current.origin is EntryOrigin.NAME_ONLY:
            self._entries[run_id] = DirectoryEntry(name, EntryOrigin.CHILD)

    def register_name_only(self, run_id: str, name: str) -> None:
        """A name for display only; never shadows an entry the viewer can navigate to."""
        if run_id not in self._entries:
            self._entries[run_id] = DirectoryEntry(name, EntryOrigin.NAME_ONLY)

    def lookup(self, run_id: str) -> DirectoryEntry | None:
        return self._entries.get(run_id)

    def navigable_ids(self) -> tuple[str, ...]:
        return tuple(rid for rid, entry in self._entries.items() if entry.navigable)


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
    agent_id: str, directory: AgentDirectory, *, view: ViewContext, switches: Switches
) -> ResolvedName:
    """Render `agent_id` as a transcript in this view would.

    Children resolve only when their run ids are indexed (B1); name-only entries
    only with the follow-up path (B4). Anything else falls back, and a legacy
    child-link view of a user share shows the parent's placeholder (gap 2).
    """
    entry = directory.lookup(agent_id)
    if entry is not None and _usable(entry, switches):
        return ResolvedName(entry.name, Resolution.RESOLVED)
    if view.scope is ViewScope.CHILD and view.user_share and switches.parent_placeholder_names:
        return ResolvedName(ORCHESTRATOR, Resolution.PARENT_PLACEHOLDER)
    return ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)


def _usable(entry: DirectoryEntry, switches: Switches) -> bool:
    if entry.origin is EntryOrigin.CHILD:
        return switches.index_child_run_ids
    if entry.origin is EntryOrigin.NAME_ONLY:
        return switches.sibling_name_resolution
    return True
