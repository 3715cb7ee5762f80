"""The child roster: the one place a viewer keeps each child's row, name, status and pane."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.rules import (
    AgentDirectory,
    ChildRoster,
    EntryOrigin,
    OpenPane,
    PaneState,
    PillStatus,
    display_name,
    pill_status,
)
from protocol.runs import RunRecord, RunState

from .factories import make_run


def _roster() -> ChildRoster:
    return ChildRoster(AgentDirectory())


def _shown(children: ChildRoster) -> list[tuple[str, str, PillStatus, PaneState]]:
    return [(c.task_id, c.name, c.status, c.pane) for c in children]


# --- registration and names -------------------------------------------------------------------


def test_registered_children_are_indexed_by_name_without_shadowing_the_root() -> None:
    directory = AgentDirectory()
    directory.register_root("me", "Me")
    directory.register_name_only("c2", "Sibling")
    children = ChildRoster(directory)
    children.merge([make_run("c1", name="Worker"), make_run("c2", title="Reviewer")])
    children.merge([make_run("me", name="Not me")])
    origins = {rid: directory.lookup(rid) for rid in ("c1", "c2", "me")}
    assert {rid: (e.name, e.origin) for rid, e in origins.items() if e is not None} == {
        "c1": ("Worker", EntryOrigin.CHILD),
        "c2": ("Reviewer", EntryOrigin.CHILD),
        "me": ("Me", EntryOrigin.ROOT),
    }


def test_a_child_is_registered_once_with_its_first_row() -> None:
    children = _roster()
    first = make_run("c1", RunState.QUEUED, name="First")
    children.merge([first])
    newer = make_run("c1", RunState.RUNNING, name="Second")
    children.merge([newer])
    assert len(children) == 1
    assert "c1" in children
    assert "c2" not in children
    child = children.get("c1")
    assert child is not None
    assert (child.name, child.position, child.row, child.state) == (
        "First",
        0,
        newer,
        RunState.RUNNING,
    )


# --- cadence input ----------------------------------------------------------------------------


def test_all_terminal_needs_children_and_follows_every_state_change() -> None:
    children = _roster()
    assert not children.all_terminal
    children.merge([make_run("c1", RunState.SUCCEEDED), make_run("c2", RunState.QUEUED)])
    assert not children.all_terminal
    children.merge([make_run("c2", RunState.BLOCKED)])
    assert children.all_terminal
    children.merge([make_run("c1", RunState.RUNNING)])
    assert not children.all_terminal
    children.merge([make_run("c1", RunState.CANCELLED), make_run("c3", RunState.FAILED)])
    assert children.all_terminal


# --- panes ------------------------------------------------------------------------------------


def test_pane_opens_with_the_newest_rows_link_once_in_pill_order() -> None:
    children = _roster()
    children.merge([make_run("c1"), make_run("c2")])
    assert children.merge(
        [
            make_run("c2", session_id="s2", session_link="/j/s2"),
            make_run("c1", session_id="s1", session_link="/j/s1"),
        ]
    ) == (OpenPane("c1", "/j/s1"), OpenPane("c2", "/j/s2"))
    assert children.merge([make_run("c1", session_id="s9", session_link="/j/s9")]) == ()
    assert [c.session_id for c in children] == ["s1", "s2"]


def test_a_pane_stays_as_it_ended_up() -> None:
    children = _roster()
    children.merge([make_run("c1", session_id="s1"), make_run("c2", session_id="s2")])
    children.pane_joined("c1")
    children.pane_join_failed("c1")
    children.pane_join_failed("c2")
    children.pane_joined("c2")
    assert [c.pane for c in children] == [PaneState.LOADED, PaneState.UNAVAILABLE]


# --- failed launches --------------------------------------------------------------------------


@pytest.mark.parametrize("state", [RunState.FAILED, RunState.ERROR])
def test_a_failure_of_a_run_never_started_without_a_session_is_a_failed_launch(
    state: RunState,
) -> None:
    children = _roster()
    children.merge([make_run("c1", state, name="Broken")])
    assert _shown(children) == [("c1", "Broken", PillStatus.ERROR, PaneState.UNAVAILABLE)]


@pytest.mark.parametrize("state", [RunState.FAILED, RunState.ERROR])
def test_a_run_that_failed_after_it_started_keeps_its_status_and_stays_loading(
    state: RunState,
) -> None:
    """As in the client: only a launch failure is unavailable; a started run waits for a link."""
    children = _roster()
    children.merge([make_run("c1", state, name="Crashed", started_at=4.0)])
    assert _shown(children) == [("c1", "Crashed", PillStatus.ERROR, PaneState.LOADING)]


def test_other_endings_and_failures_with_a_session_are_no_failed_launch() -> None:
    children = _roster()
    children.merge(
        [
            make_run("c1", RunState.CANCELLED),
            make_run("c2", RunState.BLOCKED),
            make_run("c3", RunState.FAILED, session_id="s3"),
        ]
    )
    assert [(c.status, c.pane) for c in children] == [
        (PillStatus.CANCELLED, PaneState.LOADING),
        (PillStatus.BLOCKED, PaneState.LOADING),
        (PillStatus.ERROR, PaneState.LOADING),
    ]


def test_a_loaded_pane_is_no_failed_launch() -> None:
    children = _roster()
    children.merge([make_run("c1", session_id="s1")])
    children.pane_joined("c1")
    children.merge([make_run("c1", RunState.FAILED)])
    assert [(c.status, c.pane) for c in children] == [(PillStatus.ERROR, PaneState.LOADED)]


def test_a_dropped_answer_refreshes_known_rows_only() -> None:
    children = _roster()
    children.merge([make_run("c1", RunState.RUNNING), make_run("c2", RunState.RUNNING)])
    late = make_run("c2", RunState.SUCCEEDED, session_id="s2")
    children.refresh([make_run("c1", RunState.ERROR), late, make_run("c3")])
    assert "c3" not in children
    assert _shown(children) == [
        ("c1", "Agent", PillStatus.ERROR, PaneState.UNAVAILABLE),
        ("c2", "Agent", PillStatus.IN_PROGRESS, PaneState.LOADING),
    ]
    c2 = children.get("c2")
    assert c2 is not None
    assert (c2.row, c2.state, c2.session_id) == (late, RunState.RUNNING, None)


# --- errors -----------------------------------------------------------------------------------


def test_pane_news_for_an_unknown_child_or_one_without_a_session_is_an_error() -> None:
    children = _roster()
    with pytest.raises(ValueError, match="child c1 is not on the pill bar"):
        children.pane_join_failed("c1")
    children.merge([make_run("c1")])
    with pytest.raises(ValueError, match="child c1 has no session id to have joined"):
        children.pane_joined("c1")


# --- the roster against the three reconciled copies it replaced --------------------------------

_FAILED_LAUNCH = frozenset({RunState.FAILED, RunState.ERROR})


@dataclass
class _Pill:
    name: str
    status: PillStatus
    session_id: str | None
    pane: PaneState


@dataclass
class _Entry:
    state: RunState
    session_id: str | None
    materialized: bool


class _ThreeCopies:
    """The earlier viewer, step for step: a child table, a pill bar and the newest rows.

    After every update the viewer rescanned every pill to mark failed launches.
    """

    def __init__(self) -> None:
        self.table: dict[str, _Entry] = {}
        self.bar: dict[str, _Pill] = {}
        self.rows: dict[str, RunRecord] = {}

    def accepted(self, runs: list[RunRecord]) -> list[OpenPane]:
        for run in runs:
            if run.task_id in self.rows:
                self.rows[run.task_id] = run
        registered: list[tuple[RunRecord, str]] = []
        updated: list[tuple[str, RunState]] = []
        for run in runs:
            entry = self.table.get(run.task_id)
            if entry is None:
                self.table[run.task_id] = _Entry(run.state, run.session_id or None, False)
                registered.append((run, display_name(run)))
                continue
            if entry.state is not run.state:
                entry.state = run.state
                updated.append((run.task_id, run.state))
            if entry.session_id is None and run.session_id:
                entry.session_id = run.session_id
        materialized: list[tuple[str, str]] = []
        for task_id, entry in self.table.items():
            if entry.session_id is not None and not entry.materialized:
                entry.materialized = True
                materialized.append((task_id, entry.session_id))
        for run, name in registered:
            self.bar.setdefault(run.task_id, _Pill(name, pill_status(run.state), None, LOADING))
        for task_id, state in updated:
            self.bar[task_id].status = pill_status(state)
        for task_id, session_id in materialized:
            if self.bar[task_id].session_id is None:
                self.bar[task_id].session_id = session_id
        for run, _ in registered:
            self.rows[run.task_id] = run
        opened = [OpenPane(tid, self.rows[tid].session_link) for tid, _ in materialized]
        self.mark_launch_failures()
        return opened

    def dropped(self, runs: list[RunRecord]) -> None:
        for run in runs:
            if run.task_id in self.rows:
                self.rows[run.task_id] = run
        self.mark_launch_failures()

    def mark_launch_failures(self) -> None:
        for task_id, pill in self.bar.items():
            row = self.rows.get(task_id)
            if (
                row is not None
                and pill.pane is LOADING
                and row.state in _FAILED_LAUNCH
                and row.session_id is None
            ):
                pill.status = PillStatus.ERROR
                pill.pane = PaneState.UNAVAILABLE

    def shown(self) -> list[tuple[str, str, PillStatus, PaneState]]:
        return [(tid, p.name, p.status, p.pane) for tid, p in self.bar.items()]


LOADING = PaneState.LOADING
_IDS = ["c1", "c2", "c3"]
#: Every state, with a working one and the two launch failures drawn more often.
_states = st.sampled_from(list(RunState)) | st.sampled_from(
    [RunState.RUNNING, RunState.FAILED, RunState.ERROR]
)
_model_row = st.builds(
    make_run,
    st.sampled_from(_IDS),
    _states,
    name=st.sampled_from([None, "A", "B"]),
    session_id=st.sampled_from([None, "", "s1", "s2"]),
    session_link=st.sampled_from([None, "/j/1", "/j/2"]),
)
_rows = st.lists(_model_row, max_size=4, unique_by=lambda run: run.task_id)
_model_action = st.one_of(
    st.tuples(st.just("accepted"), _rows),
    st.tuples(st.just("dropped"), _rows),
    st.tuples(st.just("joined"), st.sampled_from(_IDS)),
    st.tuples(st.just("join_failed"), st.sampled_from(_IDS)),
)


@settings(max_examples=300, deadline=None)
@given(actions=st.lists(_model_action, max_size=30))
def test_the_roster_shows_what_the_three_reconciled_copies_showed(
    actions: list[tuple[str, object]],
) -> None:
    children = _roster()
    model = _ThreeCopies()
    for kind, argument in actions:
        if kind in ("accepted", "dropped"):
            assert isinstance(argument, list)
            if kind == "accepted":
                assert list(children.merge(argument)) == model.accepted(argument)
            else:
                children.refresh(argument)
                model.dropped(argument)
        else:
            task_id = str(argument)
            pill = model.bar.get(task_id)
            if pill is None or (kind == "joined" and pill.session_id is None):
                continue
            if kind == "joined":
                children.pane_joined(task_id)
                if pill.pane is LOADING:
                    pill.pane = PaneState.LOADED
            else:
                children.pane_join_failed(task_id)
                if pill.pane is LOADING:
                    pill.pane = PaneState.UNAVAILABLE
        assert _shown(children) == model.shown()
        states = [entry.state for entry in model.table.values()]
        assert children.all_terminal == (bool(states) and all(s.is_terminal for s in states))


def test_pills_follow_creation_order_only_when_asked_whatever_order_rows_come_in() -> None:
    """A subscription's replay lists rows by their latest change, not by creation."""
    late = replace(make_run("c-late"), created_at=40.0)
    early = replace(make_run("c-early"), created_at=31.0)
    as_shipped = _roster()
    as_shipped.merge([late, early])
    assert [c.task_id for c in as_shipped] == ["c-late", "c-early"]
    by_creation = ChildRoster(AgentDirectory(), order_by_creation=True)
    by_creation.merge([late])
    by_creation.merge([early])
    assert [c.task_id for c in by_creation] == ["c-early", "c-late"]
