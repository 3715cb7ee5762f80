"""When the session server is full, a client's request never costs another a live session.

Room comes only from sessions that have ended; a live session, or one whose
sharer may still reconnect, is never ended to make room, so the request that
does not fit is the one refused. Per-client limits keep one client from
filling the server. A client is the network it connects from (its host,
whatever port or user id it uses; all of loopback is one): the session server
authenticates nobody, so a user id is only what a client says. Two clients
here are two hosts.
"""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from actors.rules.session_store import (
    CLOSE_POLICY,
    Action,
    ConnId,
    Send,
    SessionLimits,
    client_of,
)
from protocol import UserId, encode, sharer, viewer
from tests.actors.rules.test_session_limits import Clock
from tests.actors.rules.test_session_store import OWNER, Harness, closes, event, sent_to

EVENT_BYTES = len(encode(event(0)))
VICTIM = "10.0.0.1:40001"
GREEDY = "10.0.0.2:50001"


def greedy(port: int) -> str:
    """The greedy client's host, from another of its ports."""
    return f"10.0.0.2:{50000 + port}"


def test_a_client_is_its_host_whatever_port_it_uses() -> None:
    assert client_of("10.0.0.2:50001") == client_of("10.0.0.2:50002") == "10.0.0.2"
    assert client_of("[::1]:5000") == client_of("127.0.0.2:1") == "loopback"
    assert client_of("watcher") == "watcher"  # a simulated actor is its name


# -- history -------------------------------------------------------------------------------


def history_harness(**limits: int) -> Harness:
    return Harness(
        limits=SessionLimits(
            max_history_bytes=4 * EVENT_BYTES, max_session_history_bytes=3 * EVENT_BYTES, **limits
        )
    )


def test_filling_the_history_budget_never_ends_another_clients_live_session() -> None:
    harness = history_harness()
    victim, _ = harness.share(peer=VICTIM)
    harness.events(victim, 0)
    filler, filler_created = harness.share(peer=GREEDY)
    harness.events(filler, 0, 1, 2)  # the budget is now full
    # The victim's next event does not fit: the victim's own session ends, the filler's stays.
    actions = harness.events(victim, 1)
    assert sent_to(actions, victim) == [sharer.SessionTerminated(sharer.ExceededSizeLimit())]
    assert closes(actions)[victim] == (
        CLOSE_POLICY,
        f"the server's history would pass {4 * EVENT_BYTES} bytes",
    )
    assert filler not in closes(actions)
    assert harness.store.sessions[filler_created.session_id].ended is None


def test_a_filler_cannot_end_a_smaller_clients_session_by_sending_more() -> None:
    harness = history_harness()
    victim, victim_created = harness.share(peer=VICTIM)
    _, watcher = harness.joined(victim_created)
    harness.events(victim, 0)
    filler, _ = harness.share(peer=GREEDY)
    harness.events(filler, 0, 1, 2)
    other, _ = harness.share(peer=greedy(2))
    actions = harness.events(other, 0)  # the filler's host again: its own event is refused
    assert sent_to(actions, other) == [sharer.SessionTerminated(sharer.ExceededSizeLimit())]
    assert set(closes(actions)) == {other}
    victim_session = harness.store.sessions[victim_created.session_id]
    assert victim_session.ended is None
    assert watcher.viewer_id in victim_session.seats


def test_ended_sessions_make_room_whoever_holds_them() -> None:
    harness = history_harness()
    victim, _ = harness.share(peer=VICTIM)
    harness.events(victim, 0)
    ended, ended_created = harness.share(peer=greedy(1), lifetime=sharer.Lifetime.LINGERING)
    harness.events(ended, 0, 1)
    harness.store.received(ended, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
    live, live_created = harness.share(peer=greedy(2))
    harness.events(live, 0)
    with capture_logs() as logs:
        actions = harness.events(victim, 1)
    assert sent_to(actions, victim) == [sharer.EventsProcessedAck(1)]
    assert harness.store.manifest(ended_created.session_id) is None
    assert harness.store.manifest(live_created.session_id) is not None
    [line] = [e for e in logs if e["event"] == "session_forgotten"]
    assert line["client"] == "10.0.0.2"
    assert line["why"] == "history budget: room for 10.0.0.1"


def test_a_client_at_its_history_share_ends_only_its_own_session() -> None:
    harness = Harness(
        limits=SessionLimits(
            max_history_bytes=10 * EVENT_BYTES,
            max_session_history_bytes=10 * EVENT_BYTES,
            max_client_history_bytes=3 * EVENT_BYTES,
        )
    )
    victim, victim_created = harness.share(peer=VICTIM)
    harness.events(victim, 0, 1)
    filler, _ = harness.share(peer=GREEDY)
    harness.events(filler, 0, 1, 2)
    actions = harness.events(filler, 3)
    assert sent_to(actions, filler) == [sharer.SessionTerminated(sharer.ExceededSizeLimit())]
    assert closes(actions)[filler] == (
        CLOSE_POLICY,
        f"the history of 10.0.0.2's sessions would pass {3 * EVENT_BYTES} bytes",
    )
    # The filler's share is gone; the victim, and a third client, still have room.
    assert sent_to(harness.events(victim, 2), victim) == [sharer.EventsProcessedAck(2)]
    third, _ = harness.share(peer="10.0.0.3:1")
    assert sent_to(harness.events(third, 0, 1), third) == [
        sharer.EventsProcessedAck(0),
        sharer.EventsProcessedAck(1),
    ]
    assert harness.store.sessions[victim_created.session_id].ended is None


# -- sessions --------------------------------------------------------------------------------


def abandoned(harness: Harness, peer: str) -> tuple[ConnId, sharer.SessionInitialized]:
    """A session whose sharer left at once: it waits out its grace, holding a place."""
    conn, created = harness.share(peer=peer)
    assert harness.store.disconnected(conn) != []  # the grace timer starts
    return conn, created


def refused_share(harness: Harness, peer: str) -> list[Action]:
    conn = harness.open("/sessions/create", peer=peer)
    return harness.store.received(conn, sharer.Initialize(sharer.InitPayload(UserId("someone"))))


@pytest.mark.parametrize("attacker", [greedy(1), VICTIM], ids=["other-host", "same-host"])
def test_a_session_in_its_reconnect_grace_is_never_forgotten_to_make_room(attacker: str) -> None:
    harness = Harness(limits=SessionLimits(max_sessions=3))
    _, mine = abandoned(harness, VICTIM)
    for n in range(2):
        abandoned(harness, greedy(n + 10))
    for _ in range(5):
        actions = refused_share(harness, attacker)
        [answer] = [a.message for a in actions if isinstance(a, Send)]
        assert answer == sharer.FailedToInitializeSession(
            sharer.InternalServerError(
                "the server holds its limit of 3 sessions; try again when one has ended"
            )
        )
    assert harness.store.manifest(mine.session_id) is not None
    conn = harness.open(f"/sessions/{mine.session_id}/resume", peer=VICTIM)
    payload = sharer.ReconnectPayload(
        mine.session_secret, mine.reconnect_token, UserId(OWNER), mine.session_id
    )
    back = harness.store.received(conn, sharer.Reconnect(payload))
    assert isinstance(sent_to(back, conn)[0], sharer.SessionReconnected), back


def test_a_live_session_is_never_forgotten_to_make_room() -> None:
    harness = Harness(limits=SessionLimits(max_sessions=2))
    _, mine = harness.share(peer=VICTIM)
    harness.share(peer=greedy(1))
    actions = refused_share(harness, "10.0.0.3:1")
    assert list(closes(actions).values()) == [
        (CLOSE_POLICY, "session refused: the server holds its limit of 2 sessions")
    ]
    assert harness.store.manifest(mine.session_id) is not None


def test_an_ended_session_of_any_client_makes_room_for_a_new_one() -> None:
    harness = Harness(limits=SessionLimits(max_sessions=2))
    owner, ended = harness.share(peer=greedy(1), lifetime=sharer.Lifetime.LINGERING)
    harness.store.received(owner, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
    harness.share(peer=greedy(2))
    _, created = harness.share(peer=VICTIM)
    assert harness.store.manifest(created.session_id) is not None
    assert harness.store.manifest(ended.session_id) is None


def test_a_client_at_its_session_share_is_refused_and_others_still_get_places() -> None:
    harness = Harness(limits=SessionLimits(max_sessions=10, max_client_sessions=3))
    for n in range(3):
        abandoned(harness, greedy(n))
    actions = refused_share(harness, greedy(9))
    assert list(closes(actions).values()) == [
        (CLOSE_POLICY, "session refused: 10.0.0.2 holds its limit of 3 sessions")
    ]
    for n in range(3):
        _, created = harness.share(peer=f"10.0.0.{3 + n}:1")
        assert harness.store.manifest(created.session_id) is not None


def test_every_loopback_address_is_held_to_one_share_of_sessions_and_seats() -> None:
    """Binding 127.0.0.2, 127.0.0.3, ... gives a local user no further share."""
    harness = Harness(limits=SessionLimits(max_sessions=10, max_client_sessions=2))
    abandoned(harness, "127.0.0.2:1")
    abandoned(harness, "127.0.0.3:1")
    for host in range(4, 8):
        actions = refused_share(harness, f"127.0.0.{host}:1")
        assert list(closes(actions).values()) == [
            (CLOSE_POLICY, "session refused: loopback holds its limit of 2 sessions")
        ]
    _, created = harness.share(peer="10.0.0.3:1")
    seats = Harness(limits=SessionLimits(max_client_seats=1))
    _, shared = seats.share(peer="10.0.0.3:1")
    seats.joined(shared, peer="127.0.0.2:1")
    conn, refused = seats.join(shared, peer="[::1]:2")
    assert isinstance(sent_to(refused, conn)[0], viewer.FailedToJoin), refused
    assert harness.store.manifest(created.session_id) is not None


def test_a_client_at_its_session_share_recycles_its_own_ended_sessions() -> None:
    harness = Harness(limits=SessionLimits(max_sessions=10, max_client_sessions=2))
    first_owner, first = harness.share(peer=greedy(1), lifetime=sharer.Lifetime.LINGERING)
    harness.store.received(first_owner, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
    harness.share(peer=greedy(2))
    _, third = harness.share(peer=greedy(3))
    assert harness.store.manifest(first.session_id) is None
    assert harness.store.manifest(third.session_id) is not None


# -- seats -----------------------------------------------------------------------------------

FULL = viewer.FailedToJoin(viewer.JoinFailureReason.MAX_NUMBER_OF_PARTICIPANTS_REACHED)


def seat_harness(clock: Clock | None = None, **limits: int) -> Harness:
    return Harness(limits=SessionLimits(seat_idle_s=60.0, **limits), clock=clock)


def test_a_client_at_its_seat_share_is_refused_naming_it_and_others_still_join() -> None:
    harness = seat_harness(max_server_seats=10, max_client_seats=2)
    _, first = harness.share(peer=VICTIM)
    _, second = harness.share(peer=VICTIM)
    seat_conn, seat = harness.joined(first, peer=greedy(1))
    harness.joined(second, peer=greedy(2))
    with capture_logs() as logs:
        conn, actions = harness.join(first, peer=greedy(3))
    assert sent_to(actions, conn) == [FULL]
    limit = "10.0.0.2 holds its limit of 2 viewer seats"
    assert closes(actions)[conn] == (
        CLOSE_POLICY,
        f"join refused: {limit}; try again when one is free",
    )
    assert {"event": "seat_refused", "peer": greedy(3), "reason": limit} in [
        {k: log[k] for k in ("event", "peer", "reason") if k in log} for log in logs
    ]
    harness.joined(first, peer=VICTIM)  # another client still gets a seat
    # Its own seat is still its own: a rejoin takes no new seat.
    harness.store.disconnected(seat_conn)
    again, actions = harness.join(
        first, peer=greedy(4), viewer_id=seat.viewer_id, rejoin_token=seat.rejoin_token
    )
    assert sent_to(actions, again)[0] == viewer.RejoinedSuccessfully()


def test_seats_a_client_leaves_are_freed_when_they_expire_not_before() -> None:
    clock = Clock()
    harness = seat_harness(clock, max_server_seats=10, max_client_seats=2)
    _, created = harness.share(peer=VICTIM)
    left = [harness.joined(created, peer=greedy(n))[0] for n in range(2)]
    clock.now = 5.0
    for conn in left:
        harness.store.disconnected(conn)
    clock.now = 64.0  # still within their rejoin time: they count
    conn, actions = harness.join(created, peer=greedy(3))
    assert sent_to(actions, conn) == [FULL]
    clock.now = 65.0
    harness.joined(created, peer=greedy(4))
    harness.joined(created, peer=greedy(5))
    assert len(harness.store.sessions[created.session_id].seats) == 2


def test_the_server_refuses_seats_past_its_cap_whoever_asks() -> None:
    harness = seat_harness(max_server_seats=3, max_client_seats=2)
    _, created = harness.share(peer=VICTIM)
    harness.joined(created, peer=greedy(1))
    harness.joined(created, peer=greedy(2))
    harness.joined(created, peer=VICTIM)
    conn, actions = harness.join(created, peer="10.0.0.9:1")
    assert sent_to(actions, conn) == [FULL]
    assert closes(actions)[conn] == (
        CLOSE_POLICY,
        "join refused: the server holds its limit of 3 viewer seats; try again when one is free",
    )


def test_a_forgotten_session_gives_its_seats_back() -> None:
    harness = seat_harness(max_server_seats=10, max_client_seats=2)
    owner, ephemeral = harness.share(peer=VICTIM)
    harness.joined(ephemeral, peer=greedy(1))
    harness.joined(ephemeral, peer=greedy(2))
    harness.store.received(owner, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
    _, other = harness.share(peer=VICTIM)
    harness.joined(other, peer=greedy(3))
    harness.joined(other, peer=greedy(4))
