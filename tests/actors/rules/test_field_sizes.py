"""No string a client sends is kept beyond a limit: the servers refuse it and say which field."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from actors.rules.field_sizes import oversized_field
from actors.rules.session_store import CLOSE_TOO_BIG, ServerSwitches, SessionLimits
from actors.rules.task_store import TaskLimits, TaskStore
from protocol import UserId, sharer, viewer
from protocol.runs import AgentConfigSnapshot, Execution, RunState
from protocol.secrets import ReconnectToken, SessionSecret
from protocol.tasks import CreateRun, TaskErrorKind, TaskRefused, UpdateAgentTask
from tests.actors.rules.test_session_store import Harness, closes, sent_to

LIMIT = 16
LONG = "x" * (LIMIT + 1)
FITS = "x" * LIMIT


# -- finding the field ---------------------------------------------------------------------


def test_the_first_string_past_the_limit_is_named_by_its_path() -> None:
    init = sharer.Initialize(sharer.InitPayload(UserId(LONG)))
    assert oversized_field(init, LIMIT) == ("Initialize.payload.user_id.anonymous_id", LIMIT + 1)
    assert oversized_field(sharer.Initialize(sharer.InitPayload(UserId(FITS))), LIMIT) is None


def test_secrets_and_nested_values_are_measured_too() -> None:
    payload = sharer.ReconnectPayload(SessionSecret(LONG), ReconnectToken("t"), UserId("u"))
    found = oversized_field(sharer.Reconnect(payload), LIMIT)
    assert found == ("Reconnect.payload.session_secret", LIMIT + 1)
    create = CreateRun(1, "t", Execution.LOCAL, agent_config_snapshot=AgentConfigSnapshot(LONG))
    assert oversized_field(create, LIMIT) == ("CreateRun.agent_config_snapshot.name", LIMIT + 1)


# -- the session server ----------------------------------------------------------------------


def small_fields() -> Harness:
    return Harness(limits=SessionLimits(max_field_chars=LIMIT))


def test_a_share_with_an_overlong_user_id_is_refused_and_nothing_is_kept() -> None:
    harness = small_fields()
    conn = harness.open("/sessions/create")
    init = sharer.Initialize(sharer.InitPayload(UserId(LONG)))
    with capture_logs() as logs:
        actions = harness.store.received(conn, init)
    [refused] = sent_to(actions, conn)
    assert isinstance(refused, sharer.FailedToInitializeSession)
    code, reason = closes(actions)[conn]
    assert code == CLOSE_TOO_BIG == 1009
    assert (
        reason
        == f"Initialize.payload.user_id.anonymous_id is {LIMIT + 1} characters; at most {LIMIT}"
    )
    assert harness.store.sessions == {}
    [line] = [e for e in logs if e["event"] == "field_too_long"]
    assert (line["chars"], line["limit"]) == (LIMIT + 1, LIMIT)


def test_a_join_with_an_overlong_user_takes_no_seat() -> None:
    harness = small_fields()
    _, created = harness.share()
    conn, actions = harness.join(created, LONG)
    assert sent_to(actions, conn) == [viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)]
    assert closes(actions)[conn][0] == CLOSE_TOO_BIG
    assert harness.store.sessions[created.session_id].seats == {}


def test_an_overlong_task_id_update_closes_the_sharer_and_changes_nothing() -> None:
    harness = Harness(
        ServerSwitches(push_source_task_id=True), limits=SessionLimits(max_field_chars=LIMIT)
    )
    owner, created = harness.share(source_task_id="t-1")
    actions = harness.store.received(owner, sharer.UpdateSourceTaskId(LONG))
    assert closes(actions)[owner][0] == CLOSE_TOO_BIG
    manifest = harness.store.manifest(created.session_id)
    assert manifest is not None
    assert manifest.source_task_id == "t-1"


def test_the_session_field_default_fits_ids_and_names() -> None:
    assert 128 <= SessionLimits().max_field_chars <= 1024


# -- the task server ---------------------------------------------------------------------------


def small_store(**limits: int) -> TaskStore:
    return TaskStore(limits=TaskLimits(**{"max_field_chars": LIMIT, **limits}))


def refused(call: object) -> TaskRefused:
    assert callable(call)
    with pytest.raises(TaskRefused) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (CreateRun(1, LONG, Execution.LOCAL), "title"),
        (CreateRun(1, "t", Execution.LOCAL, idempotency_key=LONG), "idempotency_key"),
        (UpdateAgentTask(1, "t-1", status_message=LONG), "status_message"),
        (UpdateAgentTask(1, "t-1", conversation_id=LONG), "conversation_id"),
    ],
)
def test_a_request_with_an_overlong_field_is_refused_saying_which(
    request_: object, field: str
) -> None:
    error = refused(lambda: small_store().check_request(request_))
    assert error.kind is TaskErrorKind.INVALID
    assert f"{field} is {LIMIT + 1} characters; the task server accepts at most {LIMIT}" in (
        error.reason
    )
    small_store().check_request(CreateRun(1, FITS, Execution.LOCAL, idempotency_key=FITS))


def create(
    store: TaskStore, task_id: str, principal: str = "alice", parent_run_id: str | None = None
) -> None:
    store.create_run(
        principal,
        task_id,
        title="t",
        execution=Execution.LOCAL,
        parent_run_id=parent_run_id,
        agent_config_snapshot=None,
        now=0.0,
    )


def test_no_run_is_created_past_the_cap_and_the_refusal_says_why() -> None:
    store = small_store(max_runs=2)
    create(store, "t-1")
    create(store, "t-2")
    error = refused(lambda: create(store, "t-3"))
    assert error.kind is TaskErrorKind.INVALID
    assert error.reason == "the task server holds its limit of 2 runs; no more can be created"
    assert [r.task_id for r in store.rows()] == ["t-1", "t-2"]
    # The runs it holds still change as before.
    store.transition("alice", "t-1", RunState.CLAIMED, now=1.0)


def test_one_principal_fills_only_its_share_of_the_runs() -> None:
    store = small_store(max_runs=5, max_principal_runs=2)
    create(store, "a-1", "alice")
    create(store, "a-2", "alice", parent_run_id="a-1")  # a child counts for its owner
    error = refused(lambda: create(store, "a-3", "alice"))
    assert error.kind is TaskErrorKind.INVALID
    assert error.reason == "alice owns its limit of 2 runs; no more can be created"
    create(store, "b-1", "bob")
    create(store, "b-2", "bob")
    create(store, "c-1", "carol")
    # The server's cap still holds over every share.
    error = refused(lambda: create(store, "c-2", "carol"))
    assert error.reason == "the task server holds its limit of 5 runs; no more can be created"
    assert [r.task_id for r in store.rows()] == ["a-1", "a-2", "b-1", "b-2", "c-1"]


def test_a_principal_share_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_principal_runs must be at least 1"):
        TaskLimits(max_principal_runs=0)


def test_the_task_defaults_fit_a_laptop_for_a_day() -> None:
    limits = TaskLimits()
    strings_per_run = 8  # title, status, ids, link, key, agent name, with room to spare
    assert limits.max_runs * strings_per_run * limits.max_field_chars <= 256 << 20
    assert limits.max_field_chars >= 1000  # a title or a status line
