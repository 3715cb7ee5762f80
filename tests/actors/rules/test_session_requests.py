"""A joined viewer's requests: prompts only where it looks, role requests the sharer answers."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from protocol import Role, sharer, viewer
from protocol.requests import (
    AgentPromptFailureReason,
    AgentPromptRequest,
    Approved,
    Rejected,
    RoleUpdatedReason,
    conversation_token,
)

from .test_session_store import Harness, sent_to, via


def prompt(task_id: str | None, request_id: str = "p-1") -> viewer.SendAgentPrompt:
    token = conversation_token(task_id) if task_id is not None else None
    return viewer.SendAgentPrompt(AgentPromptRequest(request_id, token, "go on"))


@pytest.mark.behaviour(42)
def test_an_executors_prompt_for_its_own_session_reaches_the_sharer() -> None:
    harness = Harness()
    owner, created = harness.share(link_role=Role.EXECUTOR, source_task_id="t-1")
    conn, seat = harness.joined(created)
    actions = harness.store.received(conn, prompt("t-1"))
    assert sent_to(actions, conn) == [viewer.AgentPromptRequestInFlight("p-1")]
    (requested,) = sent_to(actions, owner)
    assert isinstance(requested, sharer.AgentPromptRequested)
    assert (requested.id, requested.participant_id) == ("p-1", seat.viewer_id)


def test_a_prompt_for_a_new_conversation_in_the_session_is_relayed() -> None:
    harness = Harness()
    owner, created = harness.share(link_role=Role.EXECUTOR, source_task_id="t-1")
    conn, _ = harness.joined(created)
    actions = harness.store.received(conn, prompt(None))
    assert sent_to(actions, conn) == [viewer.AgentPromptRequestInFlight("p-1")]
    assert len(sent_to(actions, owner)) == 1


@pytest.mark.behaviour(42)
def test_a_prompt_aimed_at_another_sessions_conversation_is_refused_with_a_reason() -> None:
    harness = Harness()
    owner, parent = harness.share(link_role=Role.EXECUTOR, source_task_id="t-1")
    conn, _ = harness.joined(parent)
    with capture_logs() as logs:
        actions = harness.store.received(conn, prompt("t-2"))
    assert sent_to(actions, conn) == [
        viewer.AgentPromptRequestFailed(AgentPromptFailureReason.INVALID_CONVERSATION)
    ]
    assert sent_to(actions, owner) == []
    (note,) = [entry for entry in logs if entry["event"] == "prompt_refused"]
    assert "active pill" in note["why"]


@pytest.mark.behaviour(42)
def test_a_reader_may_not_prompt() -> None:
    harness = Harness()
    owner, created = harness.share(link_role=Role.READER, source_task_id="t-1")
    conn, _ = harness.joined(created)
    actions = harness.store.received(conn, prompt("t-1"))
    assert sent_to(actions, conn) == [
        viewer.AgentPromptRequestFailed(AgentPromptFailureReason.INSUFFICIENT_PERMISSIONS)
    ]
    assert sent_to(actions, owner) == []


@pytest.mark.behaviour(43)
def test_a_role_request_waits_for_the_sharer_who_approves_it_for_everyone_to_see() -> None:
    harness = Harness()
    owner, created = harness.share(source_task_id="t-1")
    conn, seat = harness.joined(created)
    other, _ = harness.joined(created, "carol")
    actions = harness.store.received(conn, viewer.RequestRole(Role.EXECUTOR))
    (in_flight,) = sent_to(actions, conn)
    assert isinstance(in_flight, viewer.RoleRequestInFlight)
    request_id = in_flight.request_id
    assert sent_to(actions, owner) == [
        sharer.RoleRequested(seat.viewer_id, request_id, Role.EXECUTOR)
    ]
    # Asking again while the first request waits gets the same request back.
    again = harness.store.received(conn, viewer.RequestRole(Role.FULL))
    assert sent_to(again, conn) == [viewer.RoleRequestInFlight(request_id)]
    assert sent_to(again, owner) == []

    answer = sharer.RespondToRoleRequest(seat.viewer_id, request_id, Approved(Role.EXECUTOR))
    actions = harness.store.received(owner, answer)
    changed = viewer.ParticipantRoleChanged(
        seat.viewer_id, RoleUpdatedReason.UPDATED_BY_SHARER, Role.EXECUTOR
    )
    assert sent_to(actions, conn) == [viewer.RoleRequestResponse(Approved(Role.EXECUTOR)), changed]
    assert sent_to(actions, other) == [changed]
    assert sent_to(actions, owner) == [sharer.ParticipantRoleChanged(seat.viewer_id, Role.EXECUTOR)]
    # The new role counts at once.
    relayed = harness.store.received(conn, prompt("t-1"))
    assert sent_to(relayed, conn) == [viewer.AgentPromptRequestInFlight("p-1")]


@pytest.mark.behaviour(43)
def test_a_rejected_request_changes_no_role() -> None:
    harness = Harness()
    owner, created = harness.share(source_task_id="t-1")
    conn, seat = harness.joined(created)
    (in_flight,) = sent_to(harness.store.received(conn, viewer.RequestRole(Role.EXECUTOR)), conn)
    assert isinstance(in_flight, viewer.RoleRequestInFlight)
    answer = sharer.RespondToRoleRequest(seat.viewer_id, in_flight.request_id, Rejected())
    actions = harness.store.received(owner, answer)
    assert sent_to(actions, conn) == [viewer.RoleRequestResponse(Rejected())]
    refused = harness.store.received(conn, prompt("t-1"))
    assert sent_to(refused, conn) == [
        viewer.AgentPromptRequestFailed(AgentPromptFailureReason.INSUFFICIENT_PERMISSIONS)
    ]


def test_an_answer_to_no_pending_request_is_ignored() -> None:
    harness = Harness()
    owner, created = harness.share()
    _, seat = harness.joined(created)
    answer = sharer.RespondToRoleRequest(seat.viewer_id, "role-request-9", Approved(Role.FULL))
    assert harness.store.received(owner, answer) == []


@pytest.mark.behaviour(41, 43)
@pytest.mark.parametrize(
    ("parent_role", "granted"), [(Role.READER, Role.READER), (Role.EXECUTOR, Role.EXECUTOR)]
)
def test_an_approval_on_a_child_reached_through_the_parent_is_capped_at_the_parent_role(
    parent_role: Role, granted: Role
) -> None:
    harness = Harness()
    _, parent = harness.share(link_role=parent_role)
    child_owner, child = harness.share(link_role=Role.READER)
    _, seat = harness.joined(parent)
    pane, pane_seat = harness.joined(child, query=via(parent, seat))
    (in_flight,) = sent_to(harness.store.received(pane, viewer.RequestRole(Role.FULL)), pane)
    assert isinstance(in_flight, viewer.RoleRequestInFlight)
    answer = sharer.RespondToRoleRequest(
        pane_seat.viewer_id, in_flight.request_id, Approved(Role.FULL)
    )
    actions = harness.store.received(child_owner, answer)
    assert sent_to(actions, pane)[0] == viewer.RoleRequestResponse(Approved(granted))
