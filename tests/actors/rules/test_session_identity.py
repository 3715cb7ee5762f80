"""Who may act on a session: where its secrets come from, seat tokens, the current sharer.

A refusal must not tell a guesser anything: an unknown session and a wrong
secret answer alike, and nothing the store notes down holds a secret.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from actors.rules.session_store import CLOSE_POLICY, Close, ServerSwitches
from protocol import ReconnectToken, SeatToken, SessionSecret, UserId, sharer, viewer
from tests.actors.netkit import store_state
from tests.actors.rules.test_session_store import (
    OWNER,
    Harness,
    closes,
    event,
    event_numbers,
    sent_to,
)


class CountingCredentials:
    """A source whose every value says which purpose drew it, and in what order."""

    predictable = True

    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def session_id(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._numbers):012d}"

    def secret(self, purpose: str, nbytes: int) -> str:
        return f"{purpose}-{nbytes}-{next(self._numbers)}"


class RecordingNotes:
    """Keeps every note a store takes, to look for secrets in them."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, dict[str, object]]] = []

    def info(self, event: str, **fields: object) -> None:
        self.notes.append((event, fields))

    def warning(self, event: str, **fields: object) -> None:
        self.notes.append((event, fields))

    def text(self) -> str:
        return "\n".join(f"{event} {fields!r} {fields}" for event, fields in self.notes)


# -- where the secrets come from -----------------------------------------------------------


def test_ids_and_secrets_come_from_the_injected_source() -> None:
    harness = Harness(credentials=CountingCredentials())
    _, created = harness.share()
    assert created.session_id == "00000000-0000-4000-8000-000000000001"
    assert created.session_secret.reveal() == "sessions-12-2"
    assert created.reconnect_token.reveal() == "sessions-16-3"
    _, joined = harness.joined(created)
    assert joined.rejoin_token == SeatToken("seats-16-4")


# -- seat tokens -----------------------------------------------------------------------------


def test_each_seat_gets_its_own_rejoin_token() -> None:
    harness = Harness()
    _, created = harness.share()
    _, first = harness.joined(created)
    _, second = harness.joined(created)
    assert first.rejoin_token is not None
    assert second.rejoin_token is not None
    assert first.rejoin_token.reveal()
    assert first.rejoin_token != second.rejoin_token


def test_a_rejoin_with_the_seat_token_gets_the_seat_back() -> None:
    harness = Harness()
    owner, created = harness.share()
    old, joined = harness.joined(created)
    harness.events(owner, 0, 1)
    conn, actions = harness.join(
        created,
        viewer_id=joined.viewer_id,
        rejoin_token=joined.rejoin_token,
        last_received_event_no=0,
    )
    assert sent_to(actions, conn) == [viewer.RejoinedSuccessfully(), event(1)]
    assert closes(actions) == {old: (CLOSE_POLICY, "replaced by a rejoin")}


@pytest.mark.parametrize("token", ["missing", "wrong", "another seat's"])
def test_a_rejoin_without_the_seat_token_is_refused_and_the_seat_keeps_its_link(
    token: str,
) -> None:
    harness = Harness()
    owner, created = harness.share()
    seat_conn, joined = harness.joined(created, "bob")
    _, other = harness.joined(created, "bob")
    tokens: dict[str, Any] = {
        "missing": None,
        "wrong": SeatToken("not-the-token"),
        "another seat's": other.rejoin_token,
    }
    before = store_state(harness.store)
    conn, actions = harness.join(
        created, "bob", viewer_id=joined.viewer_id, rejoin_token=tokens[token]
    )
    assert sent_to(actions, conn) == [viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)]
    assert closes(actions) == {conn: (CLOSE_POLICY, "join refused: Invalid")}
    harness.store.disconnected(conn)
    assert store_state(harness.store) == before
    assert event_numbers(sent_to(harness.events(owner, 0), seat_conn)) == [0]


def test_the_seat_token_is_bound_to_its_session() -> None:
    harness = Harness()
    _, first = harness.share()
    _, second = harness.share()
    _, seat = harness.joined(first)
    _, decoy = harness.joined(second)
    conn, actions = harness.join(second, viewer_id=seat.viewer_id, rejoin_token=seat.rejoin_token)
    assert sent_to(actions, conn) == [viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)]
    conn, actions = harness.join(first, viewer_id=decoy.viewer_id, rejoin_token=decoy.rejoin_token)
    assert sent_to(actions, conn) == [viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)]


# -- only the current sharer link acts -------------------------------------------------------


def replaced(harness: Harness) -> tuple[int, int, int, sharer.SessionInitialized]:
    """A session whose first sharer link was replaced by a reconnect it has not yet seen end."""
    old, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    new, actions = harness.reconnect(created)
    assert closes(actions) == {old: (CLOSE_POLICY, "replaced by a reconnect")}
    return old, new, viewer_conn, created


def test_a_replaced_sharer_link_cannot_append_events() -> None:
    harness = Harness()
    old, new, viewer_conn, _ = replaced(harness)
    before = store_state(harness.store)
    actions = harness.events(old, 0)
    assert actions == [Close(old, CLOSE_POLICY, "replaced by a reconnect")]
    assert store_state(harness.store) == before
    relayed = harness.events(new, 0)
    assert event_numbers(sent_to(relayed, viewer_conn)) == [0]


def test_a_replaced_sharer_link_cannot_end_the_session() -> None:
    harness = Harness()
    old, new, viewer_conn, created = replaced(harness)
    actions = harness.store.received(old, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
    assert closes(actions) == {old: (CLOSE_POLICY, "replaced by a reconnect")}
    assert sent_to(actions, viewer_conn) == []
    assert harness.store.manifest(created.session_id) is not None
    assert event_numbers(sent_to(harness.events(new, 0), viewer_conn)) == [0]


def test_a_replaced_sharer_link_cannot_change_the_task_id() -> None:
    harness = Harness(ServerSwitches(push_source_task_id=True))
    old, _, viewer_conn, created = replaced(harness)
    actions = harness.store.received(old, sharer.UpdateSourceTaskId("t-forged"))
    assert closes(actions) == {old: (CLOSE_POLICY, "replaced by a reconnect")}
    assert sent_to(actions, viewer_conn) == []
    manifest = harness.store.manifest(created.session_id)
    assert manifest is not None
    assert manifest.source_task_id is None


# -- refusals that reveal nothing ------------------------------------------------------------


def refusal_shape(actions: list[Any], conn: int) -> list[tuple[str, object]]:
    """What a refused client sees, without the connection id."""
    return [
        (type(a).__name__, a.message if hasattr(a, "message") else (a.code, a.reason))
        for a in actions
        if a.conn == conn
    ]


def test_an_unknown_session_and_a_wrong_secret_are_refused_alike() -> None:
    harness = Harness()
    owner, created = harness.share()
    _, ended = harness.share(lifetime=sharer.Lifetime.EPHEMERAL)
    ended_owner = max(harness.store._conns)  # the second share's link
    harness.store.received(ended_owner, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
    pwd = created.session_secret.reveal()
    routes = [
        "/sessions/join/00000000-0000-4000-8000-000000000000?pwd=" + pwd,
        f"/sessions/join/{created.session_id}?pwd=not-{pwd}",
        f"/sessions/join/{created.session_id}",
        f"/sessions/join/{ended.session_id}?pwd={ended.session_secret.reveal()}",
    ]
    shapes = []
    for route in routes:
        conn = harness.open(route)
        init = viewer.Initialize(viewer.ViewerInitPayload(UserId("eve")))
        shapes.append(refusal_shape(harness.store.received(conn, init), conn))
    refused = viewer.FailedToJoin(viewer.JoinFailureReason.SESSION_NOT_FOUND)
    assert shapes == [
        [("Send", refused), ("Close", (CLOSE_POLICY, "join refused: SessionNotFound"))]
    ] * len(routes)
    assert owner in harness.store._conns


@pytest.mark.parametrize(
    "change",
    [
        {"reconnect_token": "not-the-token"},
        {"session_secret": "not-the-secret"},
        {"user_id": UserId("mallory")},
        {"session": "00000000-0000-4000-8000-000000000000"},
    ],
)
def test_every_failed_reconnect_answers_alike(change: dict[str, Any]) -> None:
    harness = Harness()
    owner, created = harness.share()
    harness.store.disconnected(owner)
    fields: dict[str, Any] = {
        "session_secret": created.session_secret,
        "reconnect_token": created.reconnect_token,
        "user_id": UserId(OWNER),
    }
    if "reconnect_token" in change:
        fields["reconnect_token"] = ReconnectToken(change["reconnect_token"])
    if "session_secret" in change:
        fields["session_secret"] = SessionSecret(change["session_secret"])
    if "user_id" in change:
        fields["user_id"] = change["user_id"]
    session_id = change.get("session", created.session_id)
    before = store_state(harness.store)
    conn = harness.open(f"/sessions/{session_id}/resume")
    actions = harness.store.received(conn, sharer.Reconnect(sharer.ReconnectPayload(**fields)))
    refused = sharer.FailedToReconnect(sharer.ReconnectFailureReason.SESSION_NOT_FOUND)
    assert refusal_shape(actions, conn) == [
        ("Send", refused),
        ("Close", (CLOSE_POLICY, "reconnect refused: SessionNotFound")),
    ]
    harness.store.disconnected(conn)
    assert store_state(harness.store) == before


# -- nothing secret in the notes -------------------------------------------------------------


def test_no_note_the_store_takes_holds_a_secret() -> None:
    notes = RecordingNotes()
    harness = Harness(notes=notes)
    owner, created = harness.share()
    harness.events(owner, 0)
    seat_conn, joined = harness.joined(created)
    harness.store.disconnected(seat_conn)
    harness.join(created, viewer_id=joined.viewer_id, rejoin_token=joined.rejoin_token)
    harness.join(created, viewer_id=joined.viewer_id)  # refused
    pwd = created.session_secret.reveal()
    harness.open(f"/sessions/join/{created.session_id}?pwd=guess-{pwd}")
    harness.store.disconnected(owner)
    harness.reconnect(created)
    harness.reconnect(created, reconnect_token=created.session_secret)  # refused
    harness.store.malformed(harness.open(f"/sessions/join/{created.session_id}?pwd={pwd}"), "x")
    assert joined.rejoin_token is not None
    secrets = [pwd, created.reconnect_token.reveal(), joined.rejoin_token.reveal()]
    text = notes.text()
    assert {"session_created", "viewer_joined", "viewer_rejoined", "join_refused"} <= {
        event for event, _ in notes.notes
    }
    assert [s for s in secrets if s in text] == []
