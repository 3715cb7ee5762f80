"""Task-server identity and the link gate: a principal is its token; every link write is gated."""

from __future__ import annotations

import pytest

from actors.rules.credentials import SeededCredentials
from actors.rules.task_store import TaskGates, TaskStore
from protocol import TaskToken
from protocol.runs import Execution, RunState
from protocol.tasks import TaskErrorKind
from tests.actors.rules.test_task_store import OWNER, add_child, make_store, refusal

LINK = "/sessions/join/s-1?pwd=secret"


# -- tokens ------------------------------------------------------------------------------------


def test_a_token_names_its_principal_and_nothing_else_does() -> None:
    store = TaskStore(credentials=SeededCredentials.from_seed(0))
    alice = store.issue_token("user:alice")
    bob = store.issue_token("user:bob")
    assert isinstance(alice, TaskToken)
    assert alice != bob
    assert store.authenticate(alice.reveal()) == "user:alice"
    assert store.authenticate(bob.reveal()) == "user:bob"
    for guess in (None, "", "user:alice", alice.reveal()[:-1], alice.reveal().upper() + "0"):
        assert store.authenticate(guess) is None


def test_asking_again_for_a_principal_gives_the_same_token() -> None:
    store = TaskStore(credentials=SeededCredentials.from_seed(0))
    assert store.issue_token("user:alice") == store.issue_token("user:alice")


def test_tokens_come_from_the_injected_source() -> None:
    first = TaskStore(credentials=SeededCredentials.from_seed(4)).issue_token("user:alice")
    again = TaskStore(credentials=SeededCredentials.from_seed(4)).issue_token("user:alice")
    other = TaskStore(credentials=SeededCredentials.from_seed(5)).issue_token("user:alice")
    assert first == again != other
    assert len(first.reveal()) >= 32


def test_a_store_by_default_issues_unpredictable_tokens() -> None:
    assert TaskStore().issue_token("a") != TaskStore().issue_token("a")


@pytest.mark.parametrize("name", ["", " ", "a\nb", "x" * 200])
def test_a_principal_name_must_be_printable_and_short(name: str) -> None:
    with pytest.raises(ValueError, match="principal"):
        TaskStore().issue_token(name)


# -- every link write is gated ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [{"session_link": LINK}, {"session_id": "s-1"}, {"session_id": "s-1", "session_link": LINK}],
)
def test_a_finished_run_takes_no_link_write_of_any_kind(fields: dict[str, str]) -> None:
    store = make_store()
    add_child(store, "t-1", Execution.LOCAL)
    store.transition(OWNER, "t-1", RunState.CLAIMED, now=1.0)
    store.update_agent_task(OWNER, "t-1", session_id="s-1", session_link=LINK, now=1.0)
    store.transition(OWNER, "t-1", RunState.CANCELLED, now=2.0)
    rewrite = {k: v.replace("s-1", "s-2") for k, v in fields.items()}
    error = refusal(
        lambda: store.update_agent_task(
            OWNER,
            "t-1",
            session_id=rewrite.get("session_id"),
            session_link=rewrite.get("session_link"),
            now=3.0,
        )
    )
    assert error.kind is TaskErrorKind.REJECTED_BY_GATE
    run = store.get_run(OWNER, "t-1")
    assert (run.session_id, run.session_link) == ("s-1", LINK)


def test_a_link_must_open_the_runs_own_session() -> None:
    store = make_store(TaskGates())
    add_child(store, "t-1", Execution.LOCAL)
    store.transition(OWNER, "t-1", RunState.CLAIMED, now=1.0)
    elsewhere = "/sessions/join/s-9?pwd=secret"
    for fields in (
        {"session_link": elsewhere},
        {"session_id": "s-1", "session_link": elsewhere},
        {"session_id": "s-1", "session_link": "https://example.invalid/s-1"},
    ):
        error = refusal(
            lambda f=fields: store.update_agent_task(
                OWNER,
                "t-1",
                session_id=f.get("session_id"),
                session_link=f.get("session_link"),
                now=2.0,
            )
        )
        assert error.kind is TaskErrorKind.INVALID
        assert "session_link" in error.reason
    run = store.update_agent_task(OWNER, "t-1", session_id="s-1", session_link=LINK, now=2.0)
    assert run.session_link == LINK
