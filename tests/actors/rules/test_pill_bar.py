"""The pill bar, child panes and the viewer snapshot."""

from __future__ import annotations

import json

import pytest

from actors.rules import (
    DiscoveryPoller,
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
    bar = PillBar(ORCH)
    assert not bar.visible
    assert bar.pills() == ()
    bar.register_child("c1", "Worker", RunState.QUEUED)
    assert bar.visible
    assert bar.pills() == (
        Pill("Orchestrator", ORCH),
        Pill("Worker", "c1", PillStatus.IN_PROGRESS),
    )


def test_orchestrator_pill_uses_its_name_when_it_has_one() -> None:
    bar = PillBar(ORCH, orchestrator_name="  Planner ")
    bar.register_child("c1", "Worker", RunState.QUEUED)
    assert bar.pills()[0] == Pill("Planner", ORCH)
    blank = PillBar(ORCH, orchestrator_name="   ")
    blank.register_child("c1", "Worker", RunState.QUEUED)
    assert blank.pills()[0].label == "Orchestrator"


def test_children_keep_registration_order_and_first_name() -> None:
    bar = PillBar(ORCH)
    bar.register_child("c2", "Second", RunState.RUNNING)
    bar.register_child("c1", "First", RunState.RUNNING)
    bar.register_child("c2", "Renamed", RunState.SUCCEEDED)
    bar.register_child("c3", "   ", RunState.RUNNING)
    assert [p.label for p in bar.pills()] == ["Orchestrator", "Second", "First", "Agent"]
    assert bar.pills()[1].status is PillStatus.IN_PROGRESS


def test_poller_effects_drive_the_bar_and_nothing_is_dropped() -> None:
    bar = PillBar(ORCH)
    poller = DiscoveryPoller(ORCH, Profile.CURRENT.switches())
    bar.apply(poller.start())
    bar.apply(poller.fetch_succeeded(1, [make_run("c1", name="A"), make_run("c2", name="B")]))
    bar.apply(poller.timer_fired())
    bar.apply(poller.fetch_succeeded(2, [make_run("c1", RunState.SUCCEEDED, session_id="s1")]))
    # The connection is lost: discovery stops, the bar keeps what it knew.
    bar.apply(poller.stop())
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
    bar = PillBar(ORCH)
    bar.register_child("c1", "A", RunState.RUNNING)
    with pytest.raises(ValueError, match="no session id"):
        bar.pane_joined("c1")
    bar.session_known("c1", "s1")
    assert bar.panes()[0].state is PaneState.LOADING
    bar.pane_joined("c1")
    assert bar.panes()[0].state is PaneState.LOADED
    bar.pane_join_failed("c1")
    assert bar.panes()[0].state is PaneState.LOADED


def test_failed_join_leaves_other_panes_alone() -> None:
    bar = PillBar(ORCH)
    bar.register_child("c1", "A", RunState.RUNNING)
    bar.register_child("c2", "B", RunState.RUNNING)
    bar.session_known("c1", "s1")
    bar.pane_join_failed("c1")
    bar.pane_joined("c1")
    assert [p.state for p in bar.panes()] == [PaneState.UNAVAILABLE, PaneState.LOADING]


def test_failed_launch_shows_an_errored_unavailable_child() -> None:
    bar = PillBar(ORCH)
    bar.launch_failed("c9", "Broken")
    assert bar.visible
    assert bar.pills()[1] == Pill("Broken", "c9", PillStatus.ERROR)
    assert bar.panes() == (Pane("c9", "Broken", PaneState.UNAVAILABLE),)
    bar.register_child("c1", "A", RunState.RUNNING)
    bar.launch_failed("c1", "A")
    assert bar.pills()[2] == Pill("A", "c1", PillStatus.ERROR)


def test_unknown_child_is_an_error() -> None:
    bar = PillBar(ORCH)
    with pytest.raises(ValueError, match="c1 is not on the pill bar"):
        bar.update_status("c1", RunState.RUNNING)


def test_snapshot_is_plain_data_without_nulls() -> None:
    bar = PillBar(ORCH)
    bar.register_child("c1", "Worker", RunState.SUCCEEDED)
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
    snapshot = PillBar("c1").snapshot(viewer="bob", scope=ViewScope.CHILD, root=PaneState.LOADING)
    assert snapshot.to_dict()["pill_bar_visible"] is False
    assert snapshot.pills == ()
    assert snapshot.to_dict()["pills"] == []
    assert "task_id" not in Pill("Orchestrator").to_dict()
