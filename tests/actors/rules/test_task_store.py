"""Task server rules: lifecycle, gates, access and paging, without a network."""

from __future__ import annotations

import pytest

from actors.rules.task_store import PAGE_LIMIT, TaskGates, TaskRefused, TaskStore
from protocol.runs import AgentConfigSnapshot, Execution, RunState
from protocol.tasks import TaskErrorKind

OWNER = "user:alice"


def make_store(gates: TaskGates | None = None) -> TaskStore:
    store = TaskStore(gates or TaskGates())
    store.create_run(
        OWNER,
        "t-orch",
        title="Plan",
        execution=Execution.LOCAL,
        parent_run_id=None,
        agent_config_snapshot=None,
        now=0.0,
    )
    return store


def add_child(
    store: TaskStore, task_id: str, execution: Execution, name: str | None = None
) -> None:
    store.create_run(
        OWNER,
        task_id,
        title=f"title {task_id}",
        execution=execution,
        parent_run_id="t-orch",
        agent_config_snapshot=AgentConfigSnapshot(name),
        now=1.0,
    )


def refusal(call: object) -> TaskRefused:
    assert callable(call)
    with pytest.raises(TaskRefused) as caught:
        call()
    return caught.value


def test_new_runs_are_queued_and_children_belong_to_the_parent_owner() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.CLOUD)
    run = store.get_run(OWNER, "t-1")
    assert run.state is RunState.QUEUED
    assert run.parent_run_id == "t-orch"


def test_cloud_runs_claim_then_run_then_end() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.CLOUD)
    for state in (RunState.CLAIMED, RunState.RUNNING, RunState.SUCCEEDED):
        assert store.transition(OWNER, "t-1", state, now=2.0).state is state


def test_local_runs_end_from_claimed_and_never_run() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.LOCAL)
    store.transition(OWNER, "t-1", RunState.CLAIMED, now=2.0)
    error = refusal(lambda: store.transition(OWNER, "t-1", RunState.RUNNING, now=3.0))
    assert error.kind is TaskErrorKind.INVALID
    assert "cannot go from CLAIMED to RUNNING" in error.message
    assert store.transition(OWNER, "t-1", RunState.SUCCEEDED, now=3.0).state is RunState.SUCCEEDED


def test_a_finished_run_cannot_be_revived() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.CLOUD)
    store.transition(OWNER, "t-1", RunState.FAILED, now=2.0)
    assert (
        refusal(lambda: store.transition(OWNER, "t-1", RunState.RUNNING, now=3.0)).kind
        is TaskErrorKind.INVALID
    )


@pytest.mark.parametrize(
    ("accepts_claimed", "state", "accepted"),
    [
        (True, RunState.CLAIMED, True),
        (True, RunState.RUNNING, True),
        (True, RunState.QUEUED, False),
        (True, RunState.SUCCEEDED, False),
        (False, RunState.CLAIMED, False),
        (False, RunState.RUNNING, True),
    ],
)
def test_session_link_gate(accepts_claimed: bool, state: RunState, accepted: bool) -> None:
    store = make_store(TaskGates(link_gate_accepts_claimed=accepts_claimed))
    add_child(store, "t-1", Execution.CLOUD)
    path = {
        RunState.QUEUED: [],
        RunState.CLAIMED: [RunState.CLAIMED],
        RunState.RUNNING: [RunState.CLAIMED, RunState.RUNNING],
        RunState.SUCCEEDED: [RunState.CLAIMED, RunState.RUNNING, RunState.SUCCEEDED],
    }[state]
    for step in path:
        store.transition(OWNER, "t-1", step, now=2.0)
    update = lambda: store.update_agent_task(OWNER, "t-1", session_id="s-1", now=3.0)  # noqa: E731
    if accepted:
        assert update().session_id == "s-1"
    else:
        error = refusal(update)
        assert error.kind is TaskErrorKind.REJECTED_BY_GATE
        assert f"it is {state.value}" in error.message
        assert store.get_run(OWNER, "t-1").session_id is None


def finished_with_link(store: TaskStore, task_id: str, execution: Execution, *, ran: bool) -> None:
    add_child(store, task_id, execution)
    store.transition(OWNER, task_id, RunState.CLAIMED, now=2.0)
    if ran:
        store.transition(OWNER, task_id, RunState.RUNNING, now=2.0)
    store.update_agent_task(OWNER, task_id, session_id=f"s-{task_id}", now=2.5)
    store.transition(OWNER, task_id, RunState.SUCCEEDED, now=3.0)


def test_a_finished_local_run_keeps_its_session_id() -> None:
    store = make_store()
    finished_with_link(store, "t-1", Execution.LOCAL, ran=False)
    assert store.get_run(OWNER, "t-1").session_id == "s-t-1"


def test_the_old_guard_hides_a_finished_local_runs_session_id() -> None:
    store = make_store(TaskGates(keep_finished_local_session_id=False))
    finished_with_link(store, "t-1", Execution.LOCAL, ran=False)
    assert store.get_run(OWNER, "t-1").session_id is None


def test_a_finished_cloud_run_without_transcript_hides_its_session_id() -> None:
    store = make_store()
    finished_with_link(store, "t-ran", Execution.CLOUD, ran=True)
    finished_with_link(store, "t-never", Execution.CLOUD, ran=False)
    assert store.get_run(OWNER, "t-ran").session_id == "s-t-ran"
    assert store.get_run(OWNER, "t-never").session_id is None


def test_list_children_returns_direct_children_in_pages() -> None:
    store = make_store()
    for i in range(PAGE_LIMIT + 5):
        add_child(store, f"t-{i:03}", Execution.LOCAL)
    first, cursor = store.list_children(OWNER, "t-orch")
    assert len(first) == PAGE_LIMIT
    assert cursor is not None
    rest, end = store.list_children(OWNER, "t-orch", cursor=cursor)
    assert [r.task_id for r in first + rest] == [f"t-{i:03}" for i in range(PAGE_LIMIT + 5)]
    assert end is None
    assert store.list_children(OWNER, "t-000") == ([], None)


@pytest.mark.behaviour(5)
def test_grandchildren_are_refused() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.LOCAL)
    error = refusal(
        lambda: store.create_run(
            OWNER,
            "t-2",
            title="x",
            execution=Execution.LOCAL,
            parent_run_id="t-1",
            agent_config_snapshot=None,
            now=1.0,
        )
    )
    assert "only one level" in error.message


@pytest.mark.behaviour(37, 38)
def test_who_can_view_the_parent_can_view_its_direct_children_only() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.LOCAL)
    add_child(store, "t-2", Execution.LOCAL)
    store.grant("viewer:team", "t-orch")
    store.grant("viewer:child-only", "t-1")
    assert [r.task_id for r in store.list_children("viewer:team", "t-orch")[0]] == ["t-1", "t-2"]
    assert store.get_run("viewer:child-only", "t-1").task_id == "t-1"
    for call in (
        lambda: store.list_children("viewer:child-only", "t-orch"),
        lambda: store.get_run("viewer:child-only", "t-2"),
        lambda: store.get_run("viewer:stranger", "t-orch"),
    ):
        assert refusal(call).kind is TaskErrorKind.FORBIDDEN


def test_only_the_owner_may_update_a_run() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.LOCAL)
    store.grant("viewer:team", "t-orch")
    error = refusal(lambda: store.update_agent_task("viewer:team", "t-1", session_id="s", now=1.0))
    assert error.kind is TaskErrorKind.FORBIDDEN
    assert refusal(lambda: store.get_run(OWNER, "t-missing")).kind is TaskErrorKind.NOT_FOUND


def test_agent_names_give_the_group_names_but_no_sessions() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.LOCAL, name="  Researcher ")
    add_child(store, "t-2", Execution.CLOUD)
    store.grant("viewer:child-only", "t-1")
    assert store.agent_names("viewer:child-only", "t-1") == {"t-orch": "Plan", "t-2": "title t-2"}


def test_requests_are_counted_per_principal_and_endpoint() -> None:
    store = make_store()
    store.count("viewer:1", "list_runs")
    store.count("viewer:1", "list_runs")
    store.count("viewer:1", "get_run")
    store.count("viewer:2", "list_runs")
    assert store.requests_by("viewer:1") == 3
    assert store.requests_by("viewer:1", "list_runs") == 2
    assert store.requests_by("viewer:3") == 0


@pytest.mark.parametrize("cursor", ["²", "9" * 5000, "-1", "1.5", ""])
def test_a_cursor_the_server_did_not_issue_is_refused(cursor: str) -> None:
    store = make_store()
    error = refusal(lambda: store.list_children(OWNER, "t-orch", cursor=cursor))
    assert error.kind is TaskErrorKind.INVALID
    assert "is not one this server issued" in error.message


@pytest.mark.parametrize("limit", [0, PAGE_LIMIT + 1, -5])
def test_a_page_limit_outside_1_to_100_is_refused(limit: int) -> None:
    store = make_store()
    error = refusal(lambda: store.list_children(OWNER, "t-orch", limit=limit))
    assert error.message == f"limit must be 1..{PAGE_LIMIT}, got {limit}"


def test_an_update_can_move_a_run_and_link_its_session_at_once() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.CLOUD)
    store.transition(OWNER, "t-1", RunState.CLAIMED, now=2.0)
    run = store.update_agent_task(OWNER, "t-1", state=RunState.RUNNING, session_id="s-1", now=3.0)
    assert (run.state, run.session_id, run.updated_at) == (RunState.RUNNING, "s-1", 3.0)
    error = refusal(lambda: store.update_agent_task(OWNER, "t-1", state=RunState.QUEUED, now=4.0))
    assert error.kind is TaskErrorKind.INVALID
    assert store.get_run(OWNER, "t-1").state is RunState.RUNNING


# --- event sequences, child changes and the replay of a subscription -----------------------------


def test_every_real_change_takes_the_next_sequence_and_a_rewrite_takes_none() -> None:
    store = make_store()
    add_child(store, "c1", Execution.LOCAL)
    assert [r.last_event_sequence for r in store.rows()] == [1, 2]
    claimed = store.transition(OWNER, "c1", RunState.CLAIMED, now=2.0)
    assert claimed.last_event_sequence == 3
    assert claimed.started_at == 2.0
    again = store.transition(OWNER, "c1", RunState.CLAIMED, now=3.0)
    assert (again.last_event_sequence, again.started_at, again.updated_at) == (3, 2.0, 3.0)
    linked = store.update_agent_task(OWNER, "c1", session_id="s1", now=4.0)
    assert linked.last_event_sequence == 4
    same = store.update_agent_task(OWNER, "c1", session_id="s1", now=5.0)
    assert same.last_event_sequence == 4


def test_only_child_changes_are_kept_for_pushing_and_taking_them_empties_the_list() -> None:
    store = make_store()
    store.transition(OWNER, "t-orch", RunState.CLAIMED, now=1.0)
    add_child(store, "c1", Execution.CLOUD)
    store.transition(OWNER, "c1", RunState.CLAIMED, now=2.0)
    changes = store.take_child_changes()
    assert [(r.task_id, r.state) for r in changes] == [
        ("c1", RunState.QUEUED),
        ("c1", RunState.CLAIMED),
    ]
    assert store.take_child_changes() == []


def test_a_pushed_change_is_the_row_as_readers_see_it() -> None:
    store = make_store()
    add_child(store, "c1", Execution.CLOUD)
    store.transition(OWNER, "c1", RunState.CLAIMED, now=2.0)
    store.update_agent_task(OWNER, "c1", session_id="s1", now=3.0)
    store.take_child_changes()
    store.transition(OWNER, "c1", RunState.SUCCEEDED, now=4.0)
    # A finished cloud run that never ran hides its session.
    (change,) = store.take_child_changes()
    assert (change.state, change.session_id) == (RunState.SUCCEEDED, None)


def test_children_since_replays_each_child_changed_after_the_cursor_oldest_first() -> None:
    store = make_store()
    add_child(store, "c1", Execution.LOCAL)
    add_child(store, "c2", Execution.LOCAL)
    store.transition(OWNER, "c1", RunState.CLAIMED, now=2.0)
    assert [r.task_id for r in store.children_since(OWNER, "t-orch", None)] == ["c2", "c1"]
    assert [r.task_id for r in store.children_since(OWNER, "t-orch", 3)] == ["c1"]
    assert store.children_since(OWNER, "t-orch", 4) == []
    assert refusal(lambda: store.children_since("user:eve", "t-orch", None)).kind is (
        TaskErrorKind.FORBIDDEN
    )


def test_a_teammate_sees_every_run_of_the_owner_including_later_ones() -> None:
    store = make_store()
    store.join_team(OWNER, "user:bob")
    add_child(store, "c1", Execution.LOCAL)
    assert store.can_view("user:bob", "t-orch")
    assert store.can_view("user:bob", "c1")
    assert not store.can_view("user:eve", "c1")
