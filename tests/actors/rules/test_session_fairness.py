"""When the session server is full, the client holding the most gives way, never a smaller one.

A client is the address it connects from (its host, whatever port or user id
it uses): the session server authenticates nobody, so a user id is only what
a client says. Two clients here are two hosts.
"""

from __future__ import annotations

from structlog.testing import capture_logs

from actors.rules.session_store import CLOSE_NORMAL, CLOSE_POLICY, SessionLimits, client_of
from protocol import UserId, encode, sharer, viewer
from tests.actors.rules.test_session_store import Harness, closes, event, sent_to

EVENT_BYTES = len(encode(event(0)))
VICTIM = "10.0.0.1:40001"
GREEDY = "10.0.0.2:50001"


def greedy(port: int) -> str:
    """The greedy client's host, from another of its ports."""
    return f"10.0.0.2:{50000 + port}"


def test_a_client_is_its_host_whatever_port_it_uses() -> None:
    assert client_of("10.0.0.2:50001") == client_of("10.0.0.2:50002") == "10.0.0.2"
    assert client_of("::1:5000") == "::1"
    assert client_of("watcher") == "watcher"  # a simulated actor is its name


# -- history -------------------------------------------------------------------------------


def history_harness() -> Harness:
    return Harness(
        limits=SessionLimits(
            max_history_bytes=4 * EVENT_BYTES, max_session_history_bytes=3 * EVENT_BYTES
        )
    )


def test_filling_the_history_budget_ends_the_fillers_session_not_a_smaller_clients() -> None:
    harness = history_harness()
    victim, victim_created = harness.share(peer=VICTIM)
    _, watcher = harness.joined(victim_created)
    harness.events(victim, 0)
    filler, filler_created = harness.share(peer=GREEDY)
    harness.events(filler, 0, 1, 2)  # the budget is now full
    # The victim's next event still fits: the filler, holding the most, gives way.
    with capture_logs() as logs:
        actions = harness.events(victim, 1)
    assert sent_to(actions, victim) == [sharer.EventsProcessedAck(1)]
    assert sent_to(actions, filler) == [sharer.SessionTerminated(sharer.ExceededSizeLimit())]
    assert closes(actions)[filler][0] == CLOSE_POLICY
    assert harness.store.manifest(filler_created.session_id) is None
    assert harness.store.sessions[victim_created.session_id].ended is None
    assert watcher.viewer_id in harness.store.sessions[victim_created.session_id].seats
    [line] = [e for e in logs if e["event"] == "session_terminated"]
    assert line["client"] == "10.0.0.2"


def test_a_client_cannot_make_room_from_one_holding_as_much_as_it() -> None:
    harness = history_harness()
    victim, victim_created = harness.share(peer=VICTIM)
    harness.events(victim, 0, 1)
    filler, _ = harness.share(peer=GREEDY)
    harness.events(filler, 0, 1)  # full, and both hold as much
    actions = harness.events(filler, 2)
    assert sent_to(actions, filler) == [sharer.SessionTerminated(sharer.ExceededSizeLimit())]
    assert closes(actions) == {
        filler: (CLOSE_POLICY, f"the server's history would pass {4 * EVENT_BYTES} bytes")
    }
    assert harness.store.sessions[victim_created.session_id].ended is None


def test_many_small_sessions_of_one_host_count_as_one_client() -> None:
    harness = Harness(
        limits=SessionLimits(
            max_history_bytes=5 * EVENT_BYTES, max_session_history_bytes=3 * EVENT_BYTES
        )
    )
    victim, victim_created = harness.share(peer=VICTIM)
    harness.events(victim, 0, 1)
    for port in (1, 2, 3):  # each smaller than the victim's session, together bigger
        small, _ = harness.share(peer=greedy(port))
        harness.events(small, 0)
    actions = harness.events(victim, 2)
    assert sent_to(actions, victim) == [sharer.EventsProcessedAck(2)]
    assert harness.store.sessions[victim_created.session_id].ended is None
    assert len(harness.store.sessions) == 3


def test_a_fillers_ended_sessions_go_before_its_live_ones() -> None:
    harness = history_harness()
    victim, _ = harness.share(peer=VICTIM)
    harness.events(victim, 0)
    ended, ended_created = harness.share(peer=greedy(1), lifetime=sharer.Lifetime.LINGERING)
    harness.events(ended, 0, 1)
    harness.store.received(ended, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
    live, live_created = harness.share(peer=greedy(2))
    harness.events(live, 0)
    actions = harness.events(victim, 1)
    assert sent_to(actions, victim) == [sharer.EventsProcessedAck(1)]
    assert harness.store.manifest(ended_created.session_id) is None
    assert harness.store.manifest(live_created.session_id) is not None


# -- sessions --------------------------------------------------------------------------------


def abandoned(harness: Harness, peer: str) -> sharer.SessionInitialized:
    """A session whose sharer left at once: it waits out its grace, holding a place."""
    conn, created = harness.share(peer=peer)
    assert harness.store.disconnected(conn) != []  # the grace timer starts
    return created


def test_sessions_abandoned_to_fill_the_server_make_room_for_another_client() -> None:
    harness = Harness(limits=SessionLimits(max_sessions=4))
    _, mine = harness.share(peer=VICTIM)
    litter = [abandoned(harness, greedy(n)) for n in range(3)]  # the server is full
    _, created = harness.share(peer="10.0.0.3:1")
    assert harness.store.manifest(created.session_id) is not None
    # The oldest abandoned session of the client holding the most gave way.
    assert harness.store.manifest(litter[0].session_id) is None
    assert harness.store.manifest(mine.session_id) is not None
    assert all(harness.store.manifest(s.session_id) is not None for s in litter[1:])


def test_a_client_that_abandons_sessions_recycles_its_own_places() -> None:
    harness = Harness(limits=SessionLimits(max_sessions=3))
    _, mine = harness.share(peer=VICTIM)
    abandoned(harness, greedy(1))
    abandoned(harness, greedy(2))
    for n in range(3, 20):  # open and abandon, again and again
        abandoned(harness, greedy(n))
    assert harness.store.manifest(mine.session_id) is not None
    assert len(harness.store.sessions) == 3


def test_a_smaller_client_is_never_evicted_for_a_bigger_one() -> None:
    harness = Harness(limits=SessionLimits(max_sessions=3))
    mine = abandoned(harness, VICTIM)  # even in its grace
    harness.share(peer=greedy(1))
    harness.share(peer=greedy(2))
    conn = harness.open("/sessions/create", peer=greedy(3))
    actions = harness.store.received(conn, sharer.Initialize(sharer.InitPayload(UserId("someone"))))
    assert isinstance(sent_to(actions, conn)[0], sharer.FailedToInitializeSession)
    assert harness.store.manifest(mine.session_id) is not None


def test_an_evicted_abandoned_sessions_viewers_are_told_it_ended() -> None:
    harness = Harness(limits=SessionLimits(max_sessions=2))
    litter = abandoned(harness, greedy(1))
    viewer_conn, _ = harness.joined(litter)
    harness.share(peer=greedy(2))
    conn = harness.open("/sessions/create", peer=VICTIM)
    actions = harness.store.received(conn, sharer.Initialize(sharer.InitPayload(UserId("someone"))))
    assert sent_to(actions, viewer_conn) == [
        viewer.SessionEnded(viewer.SessionEndedReason.INACTIVITY_LIMIT_REACHED)
    ]
    assert closes(actions)[viewer_conn] == (CLOSE_NORMAL, "session ended")
