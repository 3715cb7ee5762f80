"""The pill bar, child panes and the viewer snapshot."""

from __future__ import annotations

import json

import pytest

from actors.rules import (
    AgentDirectory,
    ChildRoster,
    DiscoveryPoller,
    OpenPane,
    Pane,
    PaneState,
    Pill,
    PillBar,
    PillStatus,
    Profile,
    Reference,
    Resolution,
    ResolvedName,
    ViewScope,
    pill_status,
)
from protocol.runs import RunState

from .factories import ORCH, make_run


def _bar(orchestrator_name: str | None = None) -> tuple[PillBar, ChildRoster]:
    """A pill bar and the roster it reads."""
    children = ChildRoster(AgentDirectory())
    return PillBar(children, ORCH, orchestrator_name), children


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (RunState.QUEUED, PillStatus.IN_PROGRESS),
        (RunState.PENDING, PillStatus.IN_PROGRESS),
        (RunState.CLAIMED, PillStatus.IN_PROGRESS),
        (RunState.INPROGRESS, PillStatus.IN_PROGRESS),
        (RunState.RUNNING, PillStatus.IN_PROGRESS),
        (RunState.SUCCEEDED, PillStatus.SUCCESS),
        (RunState.FAILED, PillStatus.ERROR),
        (RunState.ERROR, PillStatus.ERROR),
        (RunState.BLOCKED, PillStatus.BLOCKED),
        (RunState.CANCELLED, PillStatus.CANCELLED),
    ],
)
def test_status_mapping(state: RunState, status: PillStatus) -> None:
    assert pill_status(state) is status


def test_bar_is_hidden_until_a_child_registers() -> None:
    bar, children = _bar()
    assert not bar.visible
    assert bar.pills() == ()
    children.merge([make_run("c1", RunState.QUEUED, name="Worker")])
    assert bar.visible
    assert bar.pills() == (
        Pill("Orchestrator", ORCH),
        Pill("Worker", "c1", PillStatus.IN_PROGRESS),
    )


def test_orchestrator_pill_uses_its_name_when_it_has_one() -> None:
    bar, children = _bar(orchestrator_name="  Planner ")
    children.merge([make_run("c1", RunState.QUEUED, name="Worker")])
    assert bar.pills()[0] == Pill("Planner", ORCH)
    blank, blank_children = _bar(orchestrator_name="   ")
    blank_children.merge([make_run("c1", RunState.QUEUED, name="Worker")])
    assert blank.pills()[0].label == "Orchestrator"


def test_children_keep_registration_order_and_first_name() -> None:
    bar, children = _bar()
    children.merge([make_run("c2", name="Second")])
    children.merge([make_run("c1", name="First")])
    children.merge([make_run("c2", RunState.SUCCEEDED, name="Renamed")])
    children.merge([make_run("c3", name="   ")])
    assert [p.label for p in bar.pills()] == ["Orchestrator", "Second", "First", "Agent"]
    # A known child's newer row moves its badge, never its name or place.
    assert bar.pills()[1].status is PillStatus.SUCCESS


def test_poller_drives_the_bar_and_nothing_is_dropped() -> None:
    bar, children = _bar()
    poller = DiscoveryPoller(ORCH, Profile.CURRENT.switches(), children)
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1", name="A"), make_run("c2", name="B")])
    poller.timer_fired()
    poller.fetch_succeeded(2, [make_run("c1", RunState.SUCCEEDED, session_id="s1")])
    # The connection is lost: discovery stops, the bar keeps what it knew.
    poller.stop()
    assert bar.pills() == (
        Pill("Orchestrator", ORCH),
        Pill("A", "c1", PillStatus.SUCCESS),
        Pill("B", "c2", PillStatus.IN_PROGRESS),
    )
    assert bar.panes() == (
        Pane("c1", "A", PaneState.LOADING),
        Pane("c2", "B", PaneState.LOADING),
    )


def test_pane_loads_only_after_session_known_and_joined() -> None:
    bar, children = _bar()
    children.merge([make_run("c1", name="A")])
    with pytest.raises(ValueError, match="no session id"):
        children.pane_joined("c1")
    assert children.merge([make_run("c1", session_id="s1")]) == (OpenPane("c1", None),)
    assert bar.panes()[0].state is PaneState.LOADING
    children.pane_joined("c1")
    assert bar.panes()[0].state is PaneState.LOADED
    children.pane_join_failed("c1")
    assert bar.panes()[0].state is PaneState.LOADED


def test_failed_join_leaves_other_panes_alone() -> None:
    bar, children = _bar()
    children.merge([make_run("c1", session_id="s1", name="A"), make_run("c2", name="B")])
    children.pane_join_failed("c1")
    children.pane_joined("c1")
    assert [p.state for p in bar.panes()] == [PaneState.UNAVAILABLE, PaneState.LOADING]


def test_failed_launch_shows_an_errored_unavailable_child() -> None:
    bar, children = _bar()
    children.merge([make_run("c9", RunState.FAILED, name="Broken")])
    assert bar.visible
    assert bar.pills()[1] == Pill("Broken", "c9", PillStatus.ERROR)
    assert bar.panes() == (Pane("c9", "Broken", PaneState.UNAVAILABLE),)
    children.merge([make_run("c1", name="A")])
    children.merge([make_run("c1", RunState.ERROR, name="A")])
    assert bar.pills()[2] == Pill("A", "c1", PillStatus.ERROR)
    assert bar.panes()[1] == Pane("c1", "A", PaneState.UNAVAILABLE)


def test_unknown_child_is_an_error() -> None:
    _, children = _bar()
    with pytest.raises(ValueError, match="c1 is not on the pill bar"):
        children.pane_joined("c1")
    with pytest.raises(ValueError, match="c1 is not on the pill bar"):
        children.pane_join_failed("c1")


def test_snapshot_is_plain_data_without_nulls() -> None:
    bar, children = _bar()
    children.merge([make_run("c1", RunState.SUCCEEDED, name="Worker")])
    snapshot = bar.snapshot(
        viewer="alice",
        scope=ViewScope.PARENT,
        root=PaneState.LOADED,
        references=[Reference("c1", ResolvedName("Worker", Resolution.RESOLVED))],
    )
    expected = {
        "viewer": "alice",
        "scope": "parent",
        "root": "loaded",
        "pill_bar_visible": True,
        "pills": [
            {"label": "Orchestrator", "task_id": ORCH},
            {"label": "Worker", "task_id": "c1", "status": "success"},
        ],
        "panes": [{"task_id": "c1", "name": "Worker", "state": "loading"}],
        "references": [{"agent_id": "c1", "label": "Worker", "how": "resolved"}],
    }
    assert snapshot.to_dict() == expected
    assert json.loads(json.dumps(snapshot.to_dict())) == expected


def test_snapshot_of_a_child_link_view_has_no_pills() -> None:
    bar = PillBar(ChildRoster(AgentDirectory()), "c1")
    snapshot = bar.snapshot(viewer="bob", scope=ViewScope.CHILD, root=PaneState.LOADING)
    assert snapshot.to_dict()["pill_bar_visible"] is False
    assert snapshot.pills == ()
    assert snapshot.to_dict()["pills"] == []
    assert "task_id" not in Pill("Orchestrator").to_dict()


@pytest.mark.parametrize("backfill", [True, False])
def test_a_pane_names_the_parent_its_parent_agent_id_resolves_to(backfill: bool) -> None:
    directory = AgentDirectory(backfills_parent_agent_ids=backfill)
    children = ChildRoster(directory)
    bar = PillBar(children, ORCH)
    children.merge([make_run("early", name="Early")])
    directory.register_root(ORCH, "Orchestrator")
    children.merge([make_run("late", name="Late")])
    assert [(p.name, p.parent) for p in bar.panes()] == [
        ("Early", "Orchestrator" if backfill else None),
        ("Late", "Orchestrator"),
    ]
    assert bar.panes()[1].to_dict()["parent"] == "Orchestrator"
    assert ("parent" in bar.panes()[0].to_dict()) is backfill
