"""Display names, how a viewer's agent directory is filled, and how references render."""

from __future__ import annotations

import pytest

from actors.rules import (
    ORCHESTRATOR,
    UNKNOWN_AGENT,
    AgentDirectory,
    DirectoryEntry,
    EntryOrigin,
    Profile,
    Resolution,
    ResolvedName,
    ViewScope,
    display_name,
    resolve_reference,
)
from actors.rules.names import (
    NAME_LOOKUP_MAX_RETRY_S,
    NAME_LOOKUP_RETRY_S,
    name_lookup_waits,
)
from protocol.runs import RunState

from .factories import make_run


@pytest.mark.parametrize(
    ("name", "title", "expected"),
    [
        ("Worker", "Do the thing", "Worker"),
        ("  Worker \n", "Do the thing", "Worker"),
        ("   ", "  Do the thing ", "Do the thing"),
        ("", "Do the thing", "Do the thing"),
        (None, "Do the thing", "Do the thing"),
        (None, "   ", "Agent"),
        ("", "", "Agent"),
    ],
)
def test_display_name_precedence(name: str | None, title: str, expected: str) -> None:
    assert display_name(make_run("c1", RunState.RUNNING, name=name, title=title)) == expected


def test_name_only_entries_never_shadow_navigable_ones() -> None:
    directory = AgentDirectory()
    directory.register_child("c1", "Worker")
    directory.register_name_only("c1", "Other")
    directory.register_name_only("c2", "Sibling")
    entry = directory.lookup("c1")
    assert entry is not None
    assert entry.name == "Worker"
    assert entry.navigable
    sibling = directory.lookup("c2")
    assert sibling is not None
    assert sibling.origin is EntryOrigin.NAME_ONLY
    assert not sibling.navigable
    assert directory.navigable_ids() == ("c1",)


def test_discovery_upgrades_a_name_only_entry_but_never_the_root() -> None:
    directory = AgentDirectory()
    directory.register_name_only("c1", "Worker")
    directory.register_child("c1", "Worker")
    directory.register_root("me", "Me")
    directory.register_child("me", "Not me")
    assert directory.navigable_ids() == ("c1", "me")
    me = directory.lookup("me")
    assert me is not None
    assert me.origin is EntryOrigin.ROOT
    assert me.name == "Me"


PARENT, CHILD = ViewScope.PARENT, ViewScope.CHILD


def _parent_view_directory(profile: Profile) -> AgentDirectory:
    """What a parent-link viewer of orch knows after discovering c1, as `profile` registers it."""
    switches = profile.switches()
    directory = AgentDirectory(
        assigns_run_ids=switches.index_child_run_ids,
        backfills_parent_agent_ids=switches.backfill_parent_agent_id,
    )
    directory.register_root("orch", "Orchestrator")
    directory.register_child("c1", "Worker")
    return directory


def _child_view_directory(*, root_known: bool, name_only: bool) -> AgentDirectory:
    """What a child-link viewer of c1 knows; the name-only path (B4) adds orch and c2."""
    directory = AgentDirectory()
    if root_known:
        directory.register_root("c1")
    if name_only:
        directory.register_name_only("orch", "Planner")
        directory.register_name_only("c2", "Reviewer")
    return directory


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        # Before B1 children were registered with set_task_id: never in the index.
        (Profile.LEGACY, ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)),
        (Profile.CURRENT, ResolvedName("Worker", Resolution.RESOLVED)),
        (Profile.FOLLOWUPS, ResolvedName("Worker", Resolution.RESOLVED)),
    ],
)
def test_a_child_resolves_in_a_parent_link_only_once_its_run_id_is_indexed(
    profile: Profile, expected: ResolvedName
) -> None:
    directory = _parent_view_directory(profile)
    assert resolve_reference("c1", directory, scope=PARENT) == expected
    assert directory.navigable_ids() == ("orch", "c1")


@pytest.mark.parametrize("profile", list(Profile))
def test_parent_link_root_reference_always_resolves(profile: Profile) -> None:
    got = resolve_reference("orch", _parent_view_directory(profile), scope=PARENT)
    assert got == ResolvedName("Orchestrator", Resolution.RESOLVED)


@pytest.mark.parametrize("agent", ["orch", "c2"])
def test_a_child_link_without_its_own_run_id_shows_the_parent_placeholder(agent: str) -> None:
    """Gap 2: a share that carried no task id leaves the view's conversation unresolvable."""
    directory = _child_view_directory(root_known=False, name_only=False)
    got = resolve_reference(agent, directory, scope=CHILD)
    assert got == ResolvedName(ORCHESTRATOR, Resolution.PARENT_PLACEHOLDER)


@pytest.mark.parametrize("agent", ["orch", "c2"])
def test_a_child_link_with_its_own_run_id_leaves_other_agents_unknown(agent: str) -> None:
    directory = _child_view_directory(root_known=True, name_only=False)
    got = resolve_reference(agent, directory, scope=CHILD)
    assert got == ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)


@pytest.mark.parametrize(("agent", "name"), [("orch", "Planner"), ("c2", "Reviewer")])
@pytest.mark.parametrize("root_known", [True, False])
def test_the_name_only_path_resolves_parent_and_siblings(
    agent: str, name: str, root_known: bool
) -> None:
    directory = _child_view_directory(root_known=root_known, name_only=True)
    assert resolve_reference(agent, directory, scope=CHILD) == ResolvedName(
        name, Resolution.RESOLVED
    )


def test_unknown_id_in_a_parent_view_never_shows_the_placeholder() -> None:
    directory = AgentDirectory()
    got = resolve_reference("stranger", directory, scope=PARENT)
    assert got == ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)


# --- B2: parent_agent_id and its backfill -------------------------------------------------------


def test_a_child_created_after_the_root_got_its_run_id_has_its_parent() -> None:
    directory = AgentDirectory(backfills_parent_agent_ids=False)
    directory.register_root("orch", "Orchestrator")
    directory.register_child("c1", "Worker")
    assert directory.parent_of("c1") == DirectoryEntry("Orchestrator", EntryOrigin.ROOT)


def test_b2_backfills_children_registered_before_the_root_had_a_run_id() -> None:
    directory = AgentDirectory()
    directory.register_child("c1", "Worker")
    directory.register_child("c2", "Reviewer")
    assert directory.parent_of("c1") is None
    directory.register_root("orch", "Orchestrator")
    assert directory.parent_of("c1") == DirectoryEntry("Orchestrator", EntryOrigin.ROOT)
    assert directory.parent_of("c2") == DirectoryEntry("Orchestrator", EntryOrigin.ROOT)


def test_b2_does_not_overwrite_an_existing_parent_agent_id() -> None:
    directory = AgentDirectory()
    directory.register_root("orch", "Orchestrator")
    directory.register_child("c1", "Worker")
    directory.register_root("other", "Someone else")
    assert directory.parent_of("c1") == DirectoryEntry("Orchestrator", EntryOrigin.ROOT)


def test_without_b2_a_child_registered_too_early_never_finds_its_parent() -> None:
    directory = AgentDirectory(backfills_parent_agent_ids=False)
    directory.register_child("c1", "Worker")
    directory.register_root("orch", "Orchestrator")
    assert directory.parent_of("c1") is None


def test_an_unknown_child_has_no_parent() -> None:
    assert AgentDirectory().parent_of("c9") is None


def test_a_name_lookup_is_tried_once_without_retries() -> None:
    assert list(name_lookup_waits(retries=False)) == []


def test_name_lookups_back_off_1_2_5_then_10_s_for_at_most_30_minutes() -> None:
    waits = list(name_lookup_waits(retries=True))
    assert waits[:5] == [*NAME_LOOKUP_RETRY_S, NAME_LOOKUP_RETRY_S[-1]]
    assert sum(waits) <= NAME_LOOKUP_MAX_RETRY_S < sum(waits) + NAME_LOOKUP_RETRY_S[-1]


def test_the_views_own_conversation_is_named_as_its_scope_says_now() -> None:
    """A child view that comes to list children of its own becomes a parent view and
    names its conversation as the bar's first pill; the label follows the scope."""
    directory = AgentDirectory()
    directory.register_root("lead")
    assert directory.lookup("lead") is None
    directory.name_root(ORCHESTRATOR)
    assert directory.lookup("lead") == DirectoryEntry(ORCHESTRATOR, EntryOrigin.ROOT)
    directory.name_root(None)
    assert directory.lookup("lead") is None


def test_taking_the_root_label_away_keeps_a_name_only_entry() -> None:
    directory = AgentDirectory()
    directory.register_root("scout")
    directory.register_name_only("scout", "scout")
    directory.name_root(None)
    assert directory.lookup("scout") == DirectoryEntry("scout", EntryOrigin.NAME_ONLY)
