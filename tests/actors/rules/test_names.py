"""Display names, the viewer's agent directory, and reference resolution per design."""

from __future__ import annotations

import pytest

from actors.rules import (
    ORCHESTRATOR,
    UNKNOWN_AGENT,
    AgentDirectory,
    EntryOrigin,
    Profile,
    Resolution,
    ResolvedName,
    ViewContext,
    ViewScope,
    display_name,
    resolve_reference,
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


PARENT_USER = ViewContext(ViewScope.PARENT, user_share=True)
CHILD_USER = ViewContext(ViewScope.CHILD, user_share=True)
CHILD_AMBIENT = ViewContext(ViewScope.CHILD, user_share=False)


def _parent_view_directory() -> AgentDirectory:
    directory = AgentDirectory()
    directory.register_root("orch", "Orchestrator")
    directory.register_child("c1", "Worker")
    return directory


def _child_view_directory() -> AgentDirectory:
    """What a child-link viewer of c1 knows; the name-only path adds orch and c2."""
    directory = AgentDirectory()
    directory.register_root("c1", "Worker")
    directory.register_name_only("orch", "Planner")
    directory.register_name_only("c2", "Reviewer")
    return directory


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (Profile.LEGACY, ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)),
        (Profile.CURRENT, ResolvedName("Worker", Resolution.RESOLVED)),
        (Profile.FOLLOWUPS, ResolvedName("Worker", Resolution.RESOLVED)),
    ],
)
def test_parent_link_child_reference(profile: Profile, expected: ResolvedName) -> None:
    got = resolve_reference(
        "c1", _parent_view_directory(), view=PARENT_USER, switches=profile.switches()
    )
    assert got == expected


@pytest.mark.parametrize("profile", list(Profile))
def test_parent_link_root_reference_always_resolves(profile: Profile) -> None:
    got = resolve_reference(
        "orch", _parent_view_directory(), view=PARENT_USER, switches=profile.switches()
    )
    assert got == ResolvedName("Orchestrator", Resolution.RESOLVED)


@pytest.mark.parametrize(
    ("profile", "view", "expected"),
    [
        (Profile.LEGACY, CHILD_USER, ResolvedName(ORCHESTRATOR, Resolution.PARENT_PLACEHOLDER)),
        (Profile.LEGACY, CHILD_AMBIENT, ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)),
        (Profile.CURRENT, CHILD_USER, ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)),
        (Profile.CURRENT, CHILD_AMBIENT, ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)),
        (Profile.FOLLOWUPS, CHILD_USER, ResolvedName("Reviewer", Resolution.RESOLVED)),
        (Profile.FOLLOWUPS, CHILD_AMBIENT, ResolvedName("Reviewer", Resolution.RESOLVED)),
    ],
)
def test_child_link_sibling_reference(
    profile: Profile, view: ViewContext, expected: ResolvedName
) -> None:
    got = resolve_reference("c2", _child_view_directory(), view=view, switches=profile.switches())
    assert got == expected


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (Profile.LEGACY, ResolvedName(ORCHESTRATOR, Resolution.PARENT_PLACEHOLDER)),
        (Profile.CURRENT, ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)),
        (Profile.FOLLOWUPS, ResolvedName("Planner", Resolution.RESOLVED)),
    ],
)
def test_child_link_parent_reference(profile: Profile, expected: ResolvedName) -> None:
    got = resolve_reference(
        "orch", _child_view_directory(), view=CHILD_USER, switches=profile.switches()
    )
    assert got == expected


@pytest.mark.parametrize("profile", list(Profile))
def test_child_link_self_reference_resolves(profile: Profile) -> None:
    got = resolve_reference(
        "c1", _child_view_directory(), view=CHILD_AMBIENT, switches=profile.switches()
    )
    assert got == ResolvedName("Worker", Resolution.RESOLVED)


def test_unknown_id_in_a_parent_view_never_shows_the_placeholder() -> None:
    got = resolve_reference(
        "stranger",
        _parent_view_directory(),
        view=PARENT_USER,
        switches=Profile.LEGACY.switches(),
    )
    assert got == ResolvedName(UNKNOWN_AGENT, Resolution.FALLBACK)
