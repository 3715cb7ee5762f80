"""What the session server holds is bounded: history, sessions, seats, and how long each stays."""

from __future__ import annotations

import pytest

import actors.rules.session_store as session_store
from actors.rules.session_store import (
    CLOSE_NORMAL,
    CLOSE_POLICY,
    EventFrame,
    Send,
    SessionLimits,
)
from protocol import UserId, encode, sharer, viewer
from tests.actors.rules.test_session_store import Harness, closes, event, event_numbers, sent_to

#: Every test event here encodes to this many bytes (single-digit event numbers).
EVENT_BYTES = len(encode(event(0)))


class Clock:
    """Time the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ended_by_sharer(harness: Harness, owner: int) -> None:
    harness.store.received(owner, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))


def test_the_defaults_fit_a_laptop_for_a_day() -> None:
    limits = SessionLimits()
    assert limits.max_history_bytes <= 1 << 30
    assert limits.max_session_history_bytes <= limits.max_history_bytes
    assert limits.linger_s == 24 * 3600
    assert 0 < limits.seat_idle_s <= 3600
    assert limits.max_sessions * 4096 <= 1 << 30  # what a session holds besides its history


@pytest.mark.parametrize(
    "change",
    [
        {"max_sessions": 0},
        {"max_seats": 0},
        {"max_server_seats": 0},
        {"max_client_seats": 0},
        {"max_session_history_bytes": 0},
        {"max_history_bytes": 10, "max_session_history_bytes": 20},
        {"seat_idle_s": 0},
        {"linger_s": -1},
    ],
)
def test_limits_that_cannot_work_are_refused_with_a_reason(change: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(change))):
        SessionLimits(**change)  # type: ignore[arg-type]


# -- event history ---------------------------------------------------------------------------


def test_each_event_is_encoded_once_however_many_viewers_join(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoded: list[object] = []

    def counting_encode(message: object) -> str:
        encoded.append(message)
        return encode(message)  # type: ignore[arg-type]

    monkeypatch.setattr(session_store, "encode", counting_encode)
    harness = Harness()
    owner, created = harness.share()
    harness.joined(created)
    harness.events(owner, 0, 1, 2)
    for _ in range(5):
        conn, actions = harness.join(created)
        frames = [a.message for a in actions if isinstance(a, Send) and a.conn == conn]
        assert [type(f) for f in frames[1:]] == [EventFrame] * 3
    assert [e for e in encoded if e in (event(0), event(1), event(2))] == [
        event(0),
        event(1),
        event(2),
    ]


def test_a_session_past_its_history_limit_is_terminated() -> None:
    limits = SessionLimits(max_session_history_bytes=2 * EVENT_BYTES)
    harness = Harness(limits=limits)
    owner, created = harness.share(lifetime=sharer.Lifetime.LINGERING)
    viewer_conn, _ = harness.joined(created)
    harness.events(owner, 0, 1)
    actions = harness.events(owner, 2)
    assert sent_to(actions, owner) == [sharer.SessionTerminated(sharer.ExceededSizeLimit())]
    assert sent_to(actions, viewer_conn) == [
        viewer.SessionEnded(viewer.SessionEndedReason.EXCEEDED_SIZE_LIMIT)
    ]
    assert closes(actions) == {
        owner: (CLOSE_POLICY, f"session history would pass {2 * EVENT_BYTES} bytes"),
        viewer_conn: (CLOSE_NORMAL, "session ended"),
    }
    conn, later = harness.join(created)
    assert event_numbers(sent_to(later, conn)) == [0, 1]


def test_a_full_server_makes_room_by_forgetting_ended_sessions_oldest_first() -> None:
    limits = SessionLimits(
        max_history_bytes=3 * EVENT_BYTES, max_session_history_bytes=2 * EVENT_BYTES
    )
    harness = Harness(limits=limits)
    live_owner, _ = harness.share()
    harness.events(live_owner, 0)
    for_a, a = harness.share(lifetime=sharer.Lifetime.LINGERING)
    harness.events(for_a, 0)
    ended_by_sharer(harness, for_a)
    for_b, b = harness.share(lifetime=sharer.Lifetime.LINGERING)
    harness.events(for_b, 0)
    ended_by_sharer(harness, for_b)
    for_c, _ = harness.share()
    assert sent_to(harness.events(for_c, 0), for_c) == [sharer.EventsProcessedAck(0)]
    assert harness.store.manifest(a.session_id) is None  # the oldest ended session made room
    assert harness.store.manifest(b.session_id) is not None
    assert sent_to(harness.events(for_c, 1), for_c) == [sharer.EventsProcessedAck(1)]
    assert harness.store.manifest(b.session_id) is None
    # Nothing ended is left to forget: the session that does not fit is the one that ends.
    for_d, _ = harness.share()
    actions = harness.events(for_d, 0)
    assert sent_to(actions, for_d) == [sharer.SessionTerminated(sharer.ExceededSizeLimit())]
    assert closes(actions) == {
        for_d: (CLOSE_POLICY, f"the server's history would pass {3 * EVENT_BYTES} bytes")
    }
    assert sent_to(harness.events(live_owner, 1), live_owner) == [
        sharer.SessionTerminated(sharer.ExceededSizeLimit())
    ]


def test_history_freed_by_an_ended_ephemeral_session_is_available_again() -> None:
    limits = SessionLimits(
        max_history_bytes=2 * EVENT_BYTES, max_session_history_bytes=2 * EVENT_BYTES
    )
    harness = Harness(limits=limits)
    for round_ in range(3):
        owner, _ = harness.share()
        acks = sent_to(harness.events(owner, 0, 1), owner)
        assert acks == [sharer.EventsProcessedAck(0), sharer.EventsProcessedAck(1)], round_
        ended_by_sharer(harness, owner)


# -- sessions --------------------------------------------------------------------------------


def test_an_ended_lingering_session_expires() -> None:
    clock = Clock()
    harness = Harness(limits=SessionLimits(linger_s=100.0), clock=clock)
    owner, created = harness.share(lifetime=sharer.Lifetime.LINGERING)
    harness.events(owner, 0)
    clock.now = 50.0
    ended_by_sharer(harness, owner)
    clock.now = 149.0
    harness.joined(created)
    clock.now = 151.0
    conn, actions = harness.join(created)
    assert sent_to(actions, conn) == [
        viewer.FailedToJoin(viewer.JoinFailureReason.SESSION_NOT_FOUND)
    ]
    assert created.session_id not in harness.store.sessions


def test_a_full_server_forgets_its_oldest_ended_session_or_refuses_a_new_one() -> None:
    harness = Harness(limits=SessionLimits(max_sessions=2))
    first_owner, first = harness.share(lifetime=sharer.Lifetime.LINGERING)
    ended_by_sharer(harness, first_owner)
    harness.share()
    _, third = harness.share()
    assert harness.store.manifest(first.session_id) is None
    assert harness.store.manifest(third.session_id) is not None
    conn = harness.open("/sessions/create")
    actions = harness.store.received(conn, sharer.Initialize(sharer.InitPayload(UserId("alice"))))
    refused = sharer.FailedToInitializeSession(
        sharer.InternalServerError(
            "the server holds its limit of 2 sessions; try again when one has ended"
        )
    )
    assert sent_to(actions, conn) == [refused]
    assert closes(actions) == {
        conn: (CLOSE_POLICY, "session refused: the server holds its limit of 2 sessions")
    }
    assert len(harness.store.sessions) == 2


# -- seats -----------------------------------------------------------------------------------


def test_a_seat_without_a_link_is_released_after_its_idle_time() -> None:
    clock = Clock()
    harness = Harness(limits=SessionLimits(seat_idle_s=60.0), clock=clock)
    _, created = harness.share()
    gone, joined = harness.joined(created)
    kept, _ = harness.joined(created)
    clock.now = 10.0
    harness.store.disconnected(gone)
    clock.now = 69.0
    conn, actions = harness.join(
        created, viewer_id=joined.viewer_id, rejoin_token=joined.rejoin_token
    )
    assert sent_to(actions, conn)[0] == viewer.RejoinedSuccessfully()
    clock.now = 80.0
    harness.store.disconnected(conn)
    clock.now = 141.0
    conn, actions = harness.join(
        created, viewer_id=joined.viewer_id, rejoin_token=joined.rejoin_token
    )
    assert sent_to(actions, conn) == [viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)]
    seats = harness.store.sessions[created.session_id].seats
    assert joined.viewer_id not in seats
    assert len(seats) == 1  # a seat with a live link never expires
    assert kept


def test_a_session_refuses_joins_past_its_seat_limit_but_not_rejoins() -> None:
    clock = Clock()
    harness = Harness(limits=SessionLimits(max_seats=2, seat_idle_s=60.0), clock=clock)
    _, created = harness.share()
    first_conn, first = harness.joined(created)
    harness.joined(created)
    conn, actions = harness.join(created)
    assert sent_to(actions, conn) == [
        viewer.FailedToJoin(viewer.JoinFailureReason.MAX_NUMBER_OF_PARTICIPANTS_REACHED)
    ]
    harness.store.disconnected(first_conn)
    again, actions = harness.join(
        created, viewer_id=first.viewer_id, rejoin_token=first.rejoin_token
    )
    assert sent_to(actions, again)[0] == viewer.RejoinedSuccessfully()
    harness.store.disconnected(again)
    clock.now = 61.0
    _, joined = harness.joined(created)  # the idle seat made room
    assert joined.viewer_id != first.viewer_id


def test_expired_sessions_and_seats_are_swept_without_being_asked_for() -> None:
    """Memory comes back even for sessions nobody asks about again."""
    clock = Clock()
    limits = SessionLimits(linger_s=100.0, seat_idle_s=60.0)
    harness = Harness(limits=limits, clock=clock)
    owner, _ = harness.share(lifetime=sharer.Lifetime.LINGERING)
    ended_by_sharer(harness, owner)
    _, live = harness.share()
    seat_conn, _ = harness.joined(live)
    harness.store.disconnected(seat_conn)
    clock.now = 10_000.0
    harness.open("/sessions/create")  # any activity sweeps
    assert list(harness.store.sessions) == [live.session_id]
    assert harness.store.sessions[live.session_id].seats == {}
