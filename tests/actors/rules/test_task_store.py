"""Task server rules: lifecycle, gates, access and paging, without a network."""

from __future__ import annotations

from functools import partial

import pytest

from actors.rules.task_store import TaskGates, TaskStore
from protocol.runs import AgentConfigSnapshot, Execution, RunRecord, RunState
from protocol.tasks import PAGE_LIMIT, TaskErrorKind, TaskRefused

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
    assert "cannot go from CLAIMED to RUNNING" in error.reason
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

    def update() -> RunRecord:
        return store.update_agent_task(OWNER, "t-1", session_id="s-1", now=3.0)

    if accepted:
        assert update().session_id == "s-1"
    else:
        error = refusal(update)
        assert error.kind is TaskErrorKind.REJECTED_BY_GATE
        assert f"it is {state.value}" in error.reason
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


@pytest.mark.behaviour(38)
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


@pytest.mark.behaviour(38)
def test_a_childs_run_parents_runs_of_its_own_owned_down_the_chain() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.LOCAL)
    store.create_run(
        OWNER,
        "t-2",
        title="x",
        execution=Execution.CLOUD,
        parent_run_id="t-1",
        agent_config_snapshot=None,
        now=1.0,
    )
    assert store.get_run(OWNER, "t-2").parent_run_id == "t-1"
    assert [r.task_id for r in store.list_children(OWNER, "t-1")[0]] == ["t-2"]
    assert [r.task_id for r in store.list_children(OWNER, "t-orch")[0]] == ["t-1"]


def test_a_grandchild_is_visible_to_the_owners_team_and_hidden_from_strangers() -> None:
    store = TaskStore(TaskGates())
    store.add_team("team", [OWNER, "user:bob"])
    make_run = partial(store.create_run, OWNER, execution=Execution.LOCAL, now=0.0)
    make_run("t-orch", title="o", parent_run_id=None, agent_config_snapshot=None)
    make_run("t-1", title="c", parent_run_id="t-orch", agent_config_snapshot=None)
    make_run("t-2", title="g", parent_run_id="t-1", agent_config_snapshot=None)
    assert store.can_view("user:bob", "t-2")
    assert not store.can_view("user:mallory", "t-2")
    refused = refusal(lambda: store.list_children("user:mallory", "t-1"))
    assert refused.kind is TaskErrorKind.NOT_FOUND


TEAMMATE = "user:bob"
STRANGER = "user:mallory"


def team_store() -> TaskStore:
    """Alice's orchestration with two children; Bob is in her team, Mallory is not."""
    store = make_store()
    store.add_team("owners", [OWNER, TEAMMATE])
    add_child(store, "t-1", Execution.LOCAL)
    add_child(store, "t-2", Execution.CLOUD)
    return store


@pytest.mark.behaviour(37)
def test_the_owner_and_her_team_view_the_run_and_its_children() -> None:
    store = team_store()
    for principal in (OWNER, TEAMMATE):
        listed, _ = store.list_children(principal, "t-orch")
        assert [r.task_id for r in listed] == ["t-1", "t-2"]
        assert store.get_run(principal, "t-2").title == "title t-2"
        assert store.agent_names(principal, "t-1") == {"t-orch": "Plan", "t-2": "title t-2"}


def test_children_belong_to_the_parents_owner_whoever_creates_them() -> None:
    """A child's row is the parent owner's: her teammates view it, nobody else does."""
    store = team_store()
    assert store.can_view(TEAMMATE, "t-1")
    assert not store.can_view(STRANGER, "t-1")
    store.add_team("others", [STRANGER])
    assert not store.can_view(STRANGER, "t-1"), "a team of one's own opens nothing of hers"


def test_a_stranger_is_told_a_hidden_run_does_not_exist() -> None:
    """Unknown and hidden runs get the same kind and the same words."""
    store = team_store()
    for task_id in ("t-orch", "t-1", "t-missing"):
        for read in (store.get_run, store.list_children, store.agent_names):
            error = refusal(partial(read, STRANGER, task_id))
            assert (error.kind, error.reason) == (TaskErrorKind.NOT_FOUND, f"no run {task_id}")


def test_only_the_server_log_learns_why_a_run_is_hidden() -> None:
    store = team_store()
    assert (
        refusal(lambda: store.get_run(STRANGER, "t-1")).detail
        == "user:mallory may not view run t-1"
    )
    assert refusal(lambda: store.get_run(STRANGER, "t-9")).detail == "no run t-9"


def test_a_stranger_hears_nothing_from_the_gates_behind_the_owner_check() -> None:
    """What a write would have run into (the link gate, a bad move, a bad page) stays hidden.

    The run is QUEUED, so the owner's own link is refused by the gate, and
    a move to RUNNING is invalid for a local run; a stranger's attempts at
    either, and a listing with an impossible limit, are all just NOT_FOUND.
    """
    store = team_store()
    assert (
        refusal(lambda: store.update_agent_task(OWNER, "t-1", session_id="s", now=2.0)).kind
        is TaskErrorKind.REJECTED_BY_GATE
    )
    for call in (
        lambda: store.update_agent_task(STRANGER, "t-1", session_id="s", now=2.0),
        lambda: store.transition(STRANGER, "t-1", RunState.RUNNING, now=2.0),
        lambda: store.list_children(STRANGER, "t-orch", limit=0),
        lambda: store.create_run(
            STRANGER,
            "t-3",
            title="x",
            execution=Execution.LOCAL,
            parent_run_id="t-orch",
            agent_config_snapshot=None,
            now=2.0,
        ),
    ):
        assert refusal(call).kind is TaskErrorKind.NOT_FOUND
    assert store.get_run(OWNER, "t-1").session_id is None
    assert [r.task_id for r in store.rows()] == ["t-orch", "t-1", "t-2"]


def test_only_the_owner_may_change_a_run_her_team_may_only_view() -> None:
    store = team_store()
    for call in (
        lambda: store.update_agent_task(TEAMMATE, "t-1", session_id="s", now=1.0),
        lambda: store.transition(TEAMMATE, "t-1", RunState.CLAIMED, now=1.0),
    ):
        error = refusal(call)
        assert (error.kind, error.reason) == (
            TaskErrorKind.FORBIDDEN,
            "user:bob does not own run t-1",
        )
    assert store.get_run(TEAMMATE, "t-1").state is RunState.QUEUED


def test_without_a_team_only_the_owner_views_her_runs() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.LOCAL)
    assert store.can_view(OWNER, "t-1")
    assert not store.can_view(TEAMMATE, "t-1")
    assert store.team_of(OWNER) is None


@pytest.mark.parametrize(
    ("team", "members", "message"),
    [
        ("owners", [OWNER], "team owners is defined twice"),
        ("others", [STRANGER, TEAMMATE], "user:bob is in team owners already"),
        ("empty", [], "team empty has no members"),
        ("two words", [STRANGER], "team name must be printable with no spaces"),
        ("others", ["mal lory"], "principal must be printable with no spaces"),
    ],
)
def test_a_team_that_cannot_be_set_up_says_why(team: str, members: list[str], message: str) -> None:
    store = team_store()
    with pytest.raises(ValueError, match=message):
        store.add_team(team, members)
    assert store.team_of(STRANGER) is None


def test_agent_names_give_the_group_names_but_no_sessions() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.LOCAL, name="  Researcher ")
    add_child(store, "t-2", Execution.CLOUD)
    assert store.agent_names(OWNER, "t-1") == {"t-orch": "Plan", "t-2": "title t-2"}


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
    assert "is not one this server issued" in error.reason


@pytest.mark.parametrize("limit", [0, PAGE_LIMIT + 1, -5])
def test_a_page_limit_outside_1_to_100_is_refused(limit: int) -> None:
    store = make_store()
    error = refusal(lambda: store.list_children(OWNER, "t-orch", limit=limit))
    assert error.reason == f"limit must be 1..{PAGE_LIMIT}, got {limit}"


def test_an_update_can_move_a_run_and_link_its_session_at_once() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.CLOUD)
    store.transition(OWNER, "t-1", RunState.CLAIMED, now=2.0)
    run = store.update_agent_task(OWNER, "t-1", state=RunState.RUNNING, session_id="s-1", now=3.0)
    assert (run.state, run.session_id, run.updated_at) == (RunState.RUNNING, "s-1", 3.0)
    error = refusal(lambda: store.update_agent_task(OWNER, "t-1", state=RunState.QUEUED, now=4.0))
    assert error.kind is TaskErrorKind.INVALID
    assert store.get_run(OWNER, "t-1").state is RunState.RUNNING


def listed_ids(store: TaskStore, *, rows: int, limit: int = PAGE_LIMIT) -> list[list[str]]:
    """Every page of t-orch's `rows` children, following cursors until the store gives none.

    One page more than `rows` needs is allowed, so a cursor to an empty page shows as [].
    """
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(-(-rows // limit) + 1):
        page, cursor = store.list_children(OWNER, "t-orch", limit=limit, cursor=cursor)
        pages.append([run.task_id for run in page])
        if cursor is None:
            return pages
    raise AssertionError(f"the cursors never ended: {pages}")


def test_an_exactly_full_last_page_ends_the_listing() -> None:
    store = make_store()
    ids = [f"t-{i:03}" for i in range(2 * PAGE_LIMIT)]
    for task_id in ids:
        add_child(store, task_id, Execution.LOCAL)
    assert listed_ids(store, rows=len(ids)) == [ids[:PAGE_LIMIT], ids[PAGE_LIMIT:]]
    assert listed_ids(store, rows=len(ids), limit=8)[-1] == ids[-8:]


def test_a_page_of_exactly_page_limit_rows_comes_whole_and_alone() -> None:
    store = make_store()
    ids = [f"t-{i:03}" for i in range(PAGE_LIMIT)]
    for task_id in ids:
        add_child(store, task_id, Execution.LOCAL)
    page, cursor = store.list_children(OWNER, "t-orch", limit=PAGE_LIMIT)
    assert [run.task_id for run in page] == ids
    assert cursor is None


def create_keyed(store: TaskStore, task_id: str, key: str, principal: str = OWNER) -> None:
    store.create_run(
        principal,
        task_id,
        title="Plan",
        execution=Execution.LOCAL,
        parent_run_id=None,
        agent_config_snapshot=None,
        now=1.0,
        idempotency_key=key,
    )


def test_a_create_with_a_key_is_found_again_by_that_key_only() -> None:
    store = make_store()
    create_keyed(store, "t-1", "orch/run")
    found = store.created_for(OWNER, "orch/run")
    assert found is not None
    assert found == store.get_run(OWNER, "t-1")
    assert store.created_for(OWNER, "orch/other") is None
    assert store.created_for("user:bob", "orch/run") is None
    assert store.created_for(OWNER, None) is None


def test_a_refused_create_leaves_no_key_behind() -> None:
    store = make_store()
    add_child(store, "t-1", Execution.LOCAL)
    with pytest.raises(TaskRefused):
        store.create_run(
            OWNER,
            "t-2",
            title="x",
            execution=Execution.LOCAL,
            parent_run_id="t-missing",
            agent_config_snapshot=None,
            now=1.0,
            idempotency_key="orch/orphan",
        )
    assert store.created_for(OWNER, "orch/orphan") is None


def linked_child(store: TaskStore) -> None:
    add_child(store, "t-1", Execution.CLOUD)
    store.transition(OWNER, "t-1", RunState.CLAIMED, now=2.0)


@pytest.mark.parametrize(
    "scheme", ["javascript", "JavaScript", "data", "vbscript", "file", "ws", "blob"]
)
def test_a_session_link_with_a_scheme_other_than_http_is_refused(scheme: str) -> None:
    store = make_store()
    linked_child(store)
    link = f"{scheme}:/sessions/join/s-1?pwd=x"
    error = refusal(
        lambda: store.update_agent_task(OWNER, "t-1", session_id="s-1", session_link=link, now=3.0)
    )
    assert error.kind is TaskErrorKind.INVALID
    assert f"scheme {scheme.lower()}:" in error.reason
    assert "only a path or http(s)" in error.reason
    assert store.get_run(OWNER, "t-1").session_link is None


@pytest.mark.parametrize(
    "prefix", ["", "http://sessions.example", "https://sessions.example:8443", "https://[::1]"]
)
def test_a_session_link_that_is_a_path_or_an_http_url_is_accepted(prefix: str) -> None:
    store = make_store()
    linked_child(store)
    link = f"{prefix}/sessions/join/s-1?pwd=x"
    run = store.update_agent_task(OWNER, "t-1", session_id="s-1", session_link=link, now=3.0)
    assert run.session_link == link


@pytest.mark.parametrize(
    ("link", "problem"),
    [
        ("https:/sessions/join/s-1?pwd=x", "is an http(s) URL without a host"),
        ("//elsewhere/sessions/join/s-1?pwd=x", "names a host without a scheme"),
        ("/sessions/join/s-1?pwd=x#frag", "has a fragment"),
        ("/sessions/join/s-1?pwd=x&via=s-0", "no other query parameter"),
        ("/sessions/join/s-1", "must carry the session's pwd"),
        ("https://h/sessions/join/s-2?pwd=x", "must be the join route of session s-1"),
        ("http://[x/sessions/join/s-1?pwd=x", "must be the join route of session s-1"),
    ],
)
def test_a_session_link_that_is_not_exactly_the_join_route_is_refused(
    link: str, problem: str
) -> None:
    store = make_store()
    linked_child(store)
    error = refusal(
        lambda: store.update_agent_task(OWNER, "t-1", session_id="s-1", session_link=link, now=3.0)
    )
    assert error.kind is TaskErrorKind.INVALID
    assert problem in error.reason
    assert "pwd=x" not in error.reason  # the secret stays out of the answer and the logs
    assert store.get_run(OWNER, "t-1").session_link is None


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
    assert refusal(lambda: store.children_since(STRANGER, "t-orch", None)).kind is (
        TaskErrorKind.NOT_FOUND
    )


def finished_local_child(gates: TaskGates, *, claimed: bool = True) -> TaskStore:
    """A local child that ended before any session link reached the server."""
    store = make_store(gates)
    add_child(store, "t-1", Execution.LOCAL)
    if claimed:
        store.transition(OWNER, "t-1", RunState.CLAIMED, now=2.0)
    store.transition(OWNER, "t-1", RunState.SUCCEEDED, now=3.0)
    return store


def test_a_run_that_finished_before_its_first_link_takes_that_link_only_with_the_gate() -> None:
    late_first_link = TaskGates(accept_first_link_after_finish=True)
    store = finished_local_child(late_first_link)
    assert store.update_agent_task(OWNER, "t-1", session_id="s-1", now=4.0).session_id == "s-1"
    # Only the first: a finished run's session is never rewritten.
    error = refusal(lambda: store.update_agent_task(OWNER, "t-1", session_id="s-2", now=5.0))
    assert error.kind is TaskErrorKind.REJECTED_BY_GATE
    assert store.get_run(OWNER, "t-1").session_id == "s-1"
    # A run that never started (its launch failed) has no session to link.
    never_started = finished_local_child(late_first_link, claimed=False)
    error = refusal(lambda: never_started.update_agent_task(OWNER, "t-1", session_id="s", now=4.0))
    assert error.kind is TaskErrorKind.REJECTED_BY_GATE
    # Without the gate, as shipped: refused.
    shipped = finished_local_child(TaskGates())
    error = refusal(lambda: shipped.update_agent_task(OWNER, "t-1", session_id="s-1", now=4.0))
    assert error.kind is TaskErrorKind.REJECTED_BY_GATE
