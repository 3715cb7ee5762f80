"""Session server rules, without a network: manifests, joins, events, reconnects, ends, roles."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable

import pytest
import structlog
from structlog.testing import capture_logs

from actors.rules.credentials import Credentials, SeededCredentials
from actors.rules.notes import Notes
from actors.rules.session_store import (
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_UNSUPPORTED_DATA,
    Action,
    Close,
    ConnId,
    EventFrame,
    Send,
    ServerSwitches,
    SessionLimits,
    SessionStore,
    StartGrace,
)
from protocol import (
    AgentExchange,
    Channel,
    OrderedTerminalEvent,
    Ping,
    Pong,
    ReconnectToken,
    Role,
    SessionSecret,
    UserId,
    decode,
    encode,
    sharer,
    viewer,
)
from protocol.message import Message
from protocol.source import AmbientAgent, LegacySessionSourceType, SessionSourceType, User

OWNER = "alice"


def event(n: int) -> OrderedTerminalEvent:
    return OrderedTerminalEvent(n, AgentExchange("t-1", n, f"exchange {n}").to_event())


def sent_to(actions: list[Action], conn: ConnId) -> list[Message]:
    """What `conn` was sent; an event encoded once is shown as the message it encodes."""
    return [as_message(a.message) for a in actions if isinstance(a, Send) and a.conn == conn]


def as_message(sent: Message | EventFrame) -> Message:
    if isinstance(sent, EventFrame):
        decoded = decode(Channel.VIEWER_DOWN, sent.text)
        assert isinstance(decoded, OrderedTerminalEvent)
        assert decoded.event_no == sent.event_no
        return decoded
    return sent


def closes(actions: list[Action]) -> dict[ConnId, tuple[int, str]]:
    return {a.conn: (a.code, a.reason) for a in actions if isinstance(a, Close)}


def event_numbers(messages: list[Message]) -> list[int]:
    return [m.event_no for m in messages if isinstance(m, OrderedTerminalEvent)]


class Harness:
    """Drives a `SessionStore` the way the actor does, one connection id per link."""

    def __init__(
        self,
        switches: ServerSwitches | None = None,
        *,
        credentials: Credentials | None = None,
        limits: SessionLimits | None = None,
        clock: Callable[[], float] | None = None,
        notes: Notes | None = None,
    ) -> None:
        # The store's notes go to structlog, so tests can read them with capture_logs.
        self.store = SessionStore(
            credentials or SeededCredentials.from_seed(0),
            switches,
            notes=notes or structlog.get_logger(),
            limits=limits,
            clock=clock or (lambda: 0.0),
        )
        self._ids = itertools.count(1)

    def open(self, resource: str, *, peer: str = "") -> ConnId:
        conn = next(self._ids)
        assert self.store.connected(conn, resource, peer=peer) == []
        return conn

    def share(
        self, owner: str = OWNER, *, peer: str = "", **payload: object
    ) -> tuple[ConnId, sharer.SessionInitialized]:
        conn = self.open("/sessions/create", peer=peer)
        init = sharer.Initialize(sharer.InitPayload(UserId(owner), **payload))  # type: ignore[arg-type]
        (created,) = sent_to(self.store.received(conn, init), conn)
        assert isinstance(created, sharer.SessionInitialized)
        return conn, created

    def join(
        self,
        created: sharer.SessionInitialized,
        user: str = "bob",
        *,
        query: str = "",
        peer: str = "",
        **payload: object,
    ) -> tuple[ConnId, list[Action]]:
        route = f"/sessions/join/{created.session_id}?pwd={created.session_secret.reveal()}"
        conn = self.open(route + query, peer=peer)
        init = viewer.Initialize(viewer.ViewerInitPayload(UserId(user), **payload))  # type: ignore[arg-type]
        return conn, self.store.received(conn, init)

    def joined(
        self,
        created: sharer.SessionInitialized,
        user: str = "bob",
        *,
        query: str = "",
        peer: str = "",
    ) -> tuple[ConnId, viewer.JoinedSuccessfully]:
        conn, actions = self.join(created, user, query=query, peer=peer)
        reply = sent_to(actions, conn)[0]
        assert isinstance(reply, viewer.JoinedSuccessfully), reply
        return conn, reply

    def reconnect(
        self, created: sharer.SessionInitialized, **payload: object
    ) -> tuple[ConnId, list[Action]]:
        conn = self.open(f"/sessions/{created.session_id}/resume")
        fields: dict[str, object] = {
            "session_secret": created.session_secret,
            "reconnect_token": created.reconnect_token,
            "user_id": UserId(OWNER),
            **payload,
        }
        reconnect = sharer.Reconnect(sharer.ReconnectPayload(**fields))  # type: ignore[arg-type]
        return conn, self.store.received(conn, reconnect)

    def events(self, conn: ConnId, *numbers: int) -> list[Action]:
        actions: list[Action] = []
        for n in numbers:
            actions += self.store.received(conn, event(n))
        return actions


# -- creating a session --------------------------------------------------------------------


def test_initialize_stores_the_manifest_and_returns_its_credentials() -> None:
    harness = Harness()
    _, created = harness.share(
        source_type=User(),
        source_task_id="t-orch",
        lifetime=sharer.Lifetime.LINGERING,
        link_role=Role.EXECUTOR,
    )
    manifest = harness.store.manifest(created.session_id)
    assert manifest is not None
    assert uuid.UUID(manifest.session_id).version == 4
    assert (manifest.source_type, manifest.source_task_id) == (User(), "t-orch")
    assert (manifest.owner, manifest.sharer_id) == (OWNER, created.sharer_id)
    assert manifest.lifetime is sharer.Lifetime.LINGERING
    assert manifest.link_role is Role.EXECUTOR
    assert manifest.secret == created.session_secret
    assert manifest.token == created.reconnect_token
    assert created.session_secret.reveal()
    assert created.reconnect_token.reveal()
    assert harness.store.join_link(created.session_id) == (
        f"/sessions/join/{created.session_id}?pwd={created.session_secret.reveal()}"
    )


def test_each_session_gets_its_own_id_and_secrets() -> None:
    harness = Harness()
    _, first = harness.share()
    _, second = harness.share()
    assert first.session_id != second.session_id
    assert first.session_secret != second.session_secret
    assert first.reconnect_token != second.reconnect_token
    assert first.sharer_id != second.sharer_id


@pytest.mark.parametrize(
    ("source_type", "sidecar", "stored"),
    [
        (AmbientAgent("t-7"), None, "t-7"),
        (AmbientAgent("t-7"), "t-9", "t-9"),
        (AmbientAgent(None), None, None),
        (User(), "t-1", "t-1"),
        (User(), None, None),
    ],
)
def test_a_legacy_sharer_without_the_sidecar_falls_back_to_the_ambient_task_id(
    source_type: SessionSourceType, sidecar: str | None, stored: str | None
) -> None:
    harness = Harness()
    _, created = harness.share(source_type=source_type, source_task_id=sidecar)
    _, joined = harness.joined(created)
    assert joined.source_task_id == stored
    assert joined.detailed_source_type == source_type


def test_initialize_on_a_resume_route_is_refused() -> None:
    harness = Harness()
    conn = harness.open("/sessions/some-id/resume")
    actions = harness.store.received(conn, sharer.Initialize(sharer.InitPayload(UserId(OWNER))))
    assert closes(actions) == {conn: (CLOSE_POLICY, "Initialize must be sent on /sessions/create")}
    assert harness.store.sessions == {}


def test_an_unknown_route_is_closed() -> None:
    harness = Harness()
    actions = harness.store.connected(99, "/nowhere")
    assert closes(actions) == {99: (CLOSE_POLICY, "unknown route /nowhere")}


# -- joining -------------------------------------------------------------------------------


def test_a_viewer_gets_the_manifest_its_seat_then_the_events_so_far() -> None:
    harness = Harness()
    owner, created = harness.share(
        source_type=AmbientAgent("t-orch"), source_task_id="t-orch", link_role=Role.EXECUTOR
    )
    harness.events(owner, 0, 1)
    conn, actions = harness.join(created)
    joined, *rest = sent_to(actions, conn)
    assert joined == viewer.JoinedSuccessfully(
        viewer_id="viewer-1",
        source_type=LegacySessionSourceType.AMBIENT_AGENT,
        detailed_source_type=AmbientAgent("t-orch"),
        source_task_id="t-orch",
        latest_event_no=1,
        role=Role.EXECUTOR,
        rejoin_token=harness.store.sessions[created.session_id].seats["viewer-1"].token,
    )
    assert rest == [event(0), event(1)]
    assert closes(actions) == {}


def test_a_user_share_reports_the_legacy_unit_form() -> None:
    harness = Harness()
    _, created = harness.share(source_type=User(), source_task_id="t-1")
    _, joined = harness.joined(created)
    assert joined.source_type is LegacySessionSourceType.USER
    assert joined.latest_event_no is None


def test_two_joins_from_one_user_get_two_seats() -> None:
    harness = Harness()
    _, created = harness.share()
    _, first = harness.joined(created)
    _, second = harness.joined(created)
    assert first.viewer_id != second.viewer_id


@pytest.mark.parametrize(
    ("route", "why"),
    [
        ("/sessions/join/no-such-session?pwd=x", "no such session"),
        ("/sessions/join/{id}?pwd=wrong", "wrong session secret"),
        ("/sessions/join/{id}", "wrong session secret"),
    ],
)
def test_a_join_that_cannot_succeed_fails_as_if_there_were_no_session(route: str, why: str) -> None:
    """The client cannot tell a wrong secret from an unknown id; the log can."""
    reason = viewer.JoinFailureReason.SESSION_NOT_FOUND
    harness = Harness()
    _, created = harness.share()
    conn = harness.open(route.format(id=created.session_id))
    with capture_logs() as logs:
        actions = harness.store.received(
            conn, viewer.Initialize(viewer.ViewerInitPayload(UserId("eve")))
        )
    assert sent_to(actions, conn) == [viewer.FailedToJoin(reason)]
    assert closes(actions) == {conn: (CLOSE_POLICY, f"join refused: {reason.value}")}
    assert [(e["event"], e["reason"], e["why"]) for e in logs] == [
        ("join_refused", reason.value, why)
    ]


def test_a_viewer_must_start_with_initialize() -> None:
    harness = Harness()
    _, created = harness.share()
    conn = harness.open(
        f"/sessions/join/{created.session_id}?pwd={created.session_secret.reveal()}"
    )
    assert sent_to(harness.store.received(conn, Ping(b"hi")), conn) == [Pong(b"hi")]
    actions = harness.store.received(conn, viewer.JoinedSuccessfully("viewer-9"))
    assert sent_to(actions, conn) == [viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)]
    assert closes(actions)[conn][0] == CLOSE_POLICY


def test_a_second_initialize_after_joining_is_refused() -> None:
    harness = Harness()
    _, created = harness.share()
    conn, _ = harness.joined(created)
    init = viewer.Initialize(viewer.ViewerInitPayload(UserId("bob")))
    assert closes(harness.store.received(conn, init)) == {
        conn: (CLOSE_POLICY, "Initialize after joining")
    }


# -- events --------------------------------------------------------------------------------


def test_events_reach_every_viewer_in_order_and_the_sharer_is_acked() -> None:
    harness = Harness()
    owner, created = harness.share()
    first, _ = harness.joined(created)
    second, _ = harness.joined(created, "carol")
    actions = harness.events(owner, 0, 1, 2)
    assert event_numbers(sent_to(actions, first)) == [0, 1, 2]
    assert event_numbers(sent_to(actions, second)) == [0, 1, 2]
    assert sent_to(actions, owner) == [sharer.EventsProcessedAck(n) for n in (0, 1, 2)]


def test_event_numbers_start_at_zero() -> None:
    harness = Harness()
    owner, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    actions = harness.events(owner, 1)
    assert closes(actions) == {owner: (CLOSE_POLICY, "event 1 out of order; expected 0")}
    assert sent_to(actions, viewer_conn) == []


def test_a_gap_in_event_numbers_is_refused() -> None:
    harness = Harness()
    owner, created = harness.share()
    harness.events(owner, 0, 1)
    actions = harness.events(owner, 3)
    assert closes(actions) == {owner: (CLOSE_POLICY, "event 3 out of order; expected 2")}
    _, joined = harness.joined(created)
    assert joined.latest_event_no == 1


def test_a_resend_at_or_below_the_last_number_is_acked_and_ignored() -> None:
    harness = Harness()
    owner, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    harness.events(owner, 0, 1, 2)
    for n in (1, 2):
        actions = harness.events(owner, n)
        assert sent_to(actions, owner) == [sharer.EventsProcessedAck(2)]
        assert sent_to(actions, viewer_conn) == []
    assert closes(actions) == {}


# -- sharer reconnect ----------------------------------------------------------------------


def test_a_sharer_reconnects_learns_the_last_event_and_resends_only_what_is_missing() -> None:
    harness = Harness()
    owner, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    harness.events(owner, 0, 1, 2)
    grace = harness.store.disconnected(owner)
    assert [type(a) for a in grace] == [StartGrace]
    again, actions = harness.reconnect(created)
    assert sent_to(actions, again) == [sharer.SessionReconnected(2)]
    relayed = harness.events(again, 2, 3, 4)
    assert event_numbers(sent_to(relayed, viewer_conn)) == [3, 4]
    assert sent_to(relayed, again)[-1] == sharer.EventsProcessedAck(4)


def test_a_sharer_with_no_events_yet_is_told_none() -> None:
    harness = Harness()
    owner, created = harness.share()
    harness.store.disconnected(owner)
    again, actions = harness.reconnect(created)
    assert sent_to(actions, again) == [sharer.SessionReconnected(None)]


def test_a_reconnect_in_the_create_route_names_its_session_in_the_payload() -> None:
    harness = Harness()
    owner, created = harness.share()
    harness.store.disconnected(owner)
    conn = harness.open("/sessions/create")
    payload = sharer.ReconnectPayload(
        created.session_secret,
        created.reconnect_token,
        UserId(OWNER),
        session_id=created.session_id,
    )
    actions = harness.store.received(conn, sharer.Reconnect(payload))
    assert sent_to(actions, conn) == [sharer.SessionReconnected(None)]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"reconnect_token": ReconnectToken("not-the-token")}, "wrong reconnect token"),
        ({"session_secret": SessionSecret("not-the-secret")}, "wrong session secret"),
        ({"user_id": UserId("mallory")}, "not the session's owner"),
    ],
)
def test_a_reconnect_without_the_right_proof_fails_as_if_there_were_no_session(
    change: dict[str, object], why: str
) -> None:
    """The client cannot tell which proof was wrong; the log can."""
    reason = sharer.ReconnectFailureReason.SESSION_NOT_FOUND
    harness = Harness()
    owner, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    harness.store.disconnected(owner)
    with capture_logs() as logs:
        conn, actions = harness.reconnect(created, **change)
    assert sent_to(actions, conn) == [sharer.FailedToReconnect(reason)]
    assert closes(actions) == {conn: (CLOSE_POLICY, f"reconnect refused: {reason.value}")}
    assert sent_to(actions, viewer_conn) == []
    assert [(e["event"], e["why"]) for e in logs if e["event"] == "reconnect_refused"] == [
        ("reconnect_refused", why)
    ]


def test_a_reconnect_to_an_unknown_session_fails() -> None:
    harness = Harness()
    _, created = harness.share()
    conn = harness.open("/sessions/no-such-session/resume")
    payload = sharer.ReconnectPayload(
        created.session_secret, created.reconnect_token, UserId(OWNER)
    )
    actions = harness.store.received(conn, sharer.Reconnect(payload))
    assert sent_to(actions, conn) == [
        sharer.FailedToReconnect(sharer.ReconnectFailureReason.SESSION_NOT_FOUND)
    ]


def test_a_reconnect_replaces_a_sharer_link_that_is_still_open() -> None:
    harness = Harness()
    owner, created = harness.share()
    again, actions = harness.reconnect(created)
    assert closes(actions) == {owner: (CLOSE_POLICY, "replaced by a reconnect")}
    # The replaced link ending later must not start a grace period.
    assert harness.store.disconnected(owner) == []
    assert sent_to(harness.events(again, 0), again) == [sharer.EventsProcessedAck(0)]


# -- viewer rejoin -------------------------------------------------------------------------


def test_a_rejoin_gets_rejoined_first_then_exactly_the_missing_events() -> None:
    harness = Harness()
    owner, created = harness.share(source_task_id="t-1")
    viewer_conn, joined = harness.joined(created)
    harness.events(owner, 0, 1, 2, 3)
    harness.store.disconnected(viewer_conn)
    harness.events(owner, 4)
    conn, actions = harness.join(
        created,
        viewer_id=joined.viewer_id,
        last_received_event_no=1,
        rejoin_token=joined.rejoin_token,
    )
    assert sent_to(actions, conn) == [viewer.RejoinedSuccessfully(), *map(event, (2, 3, 4))]
    assert event_numbers(sent_to(harness.events(owner, 5), conn)) == [5]


def test_a_rejoin_without_a_last_event_gets_every_event() -> None:
    harness = Harness()
    owner, created = harness.share()
    viewer_conn, joined = harness.joined(created)
    harness.events(owner, 0, 1)
    harness.store.disconnected(viewer_conn)
    conn, actions = harness.join(
        created, viewer_id=joined.viewer_id, rejoin_token=joined.rejoin_token
    )
    assert sent_to(actions, conn) == [viewer.RejoinedSuccessfully(), event(0), event(1)]


@pytest.mark.parametrize(("user", "viewer_id"), [("mallory", "viewer-1"), ("bob", "viewer-77")])
def test_a_rejoin_to_a_seat_that_is_not_yours_is_invalid(user: str, viewer_id: str) -> None:
    """Even with bob's seat token: the seat is bob's, and viewer-77 is nobody's."""
    harness = Harness()
    _, created = harness.share()
    _, bobs = harness.joined(created, "bob")
    conn, actions = harness.join(
        created,
        user,
        viewer_id=viewer_id,
        last_received_event_no=0,
        rejoin_token=bobs.rejoin_token,
    )
    assert sent_to(actions, conn) == [viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)]


def test_a_rejoin_closes_the_link_the_seat_still_had() -> None:
    harness = Harness()
    owner, created = harness.share()
    old, joined = harness.joined(created)
    conn, actions = harness.join(
        created, viewer_id=joined.viewer_id, rejoin_token=joined.rejoin_token
    )
    assert closes(actions) == {old: (CLOSE_POLICY, "replaced by a rejoin")}
    relayed = harness.events(owner, 0)
    assert event_numbers(sent_to(relayed, conn)) == [0]
    assert sent_to(relayed, old) == []


# -- ending --------------------------------------------------------------------------------


def test_end_session_tells_every_viewer_and_closes_every_link() -> None:
    harness = Harness()
    owner, created = harness.share()
    first, _ = harness.joined(created)
    second, _ = harness.joined(created, "carol")
    actions = harness.store.received(
        owner, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER)
    )
    ended = viewer.SessionEnded(viewer.SessionEndedReason.ENDED_BY_SHARER)
    assert sent_to(actions, first) == sent_to(actions, second) == [ended]
    assert {conn: code for conn, (code, _) in closes(actions).items()} == {
        first: CLOSE_NORMAL,
        second: CLOSE_NORMAL,
        owner: CLOSE_NORMAL,
    }


def test_an_ended_ephemeral_session_is_gone() -> None:
    harness = Harness()
    owner, created = harness.share(lifetime=sharer.Lifetime.EPHEMERAL)
    harness.store.received(owner, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
    assert harness.store.manifest(created.session_id) is None
    assert harness.store.join_link(created.session_id) is None
    conn, actions = harness.join(created)
    assert sent_to(actions, conn) == [
        viewer.FailedToJoin(viewer.JoinFailureReason.SESSION_NOT_FOUND)
    ]


def test_an_ended_lingering_session_can_still_be_joined_and_read() -> None:
    harness = Harness()
    owner, created = harness.share(lifetime=sharer.Lifetime.LINGERING)
    harness.events(owner, 0, 1)
    harness.store.received(owner, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
    conn, actions = harness.join(created)
    joined, *rest = sent_to(actions, conn)
    assert isinstance(joined, viewer.JoinedSuccessfully)
    assert rest == [
        event(0),
        event(1),
        viewer.SessionEnded(viewer.SessionEndedReason.ENDED_BY_SHARER),
    ]
    assert closes(actions) == {conn: (CLOSE_NORMAL, "session ended")}


def test_the_link_of_an_ended_session_cannot_start_another() -> None:
    harness = Harness()
    owner, _ = harness.share()
    harness.store.received(owner, sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))
    actions = harness.store.received(owner, sharer.Initialize(sharer.InitPayload(UserId(OWNER))))
    assert closes(actions) == {owner: (CLOSE_POLICY, "the session has ended")}
    assert harness.store.sessions == {}


def test_a_sharer_that_does_not_come_back_in_its_grace_ends_the_session() -> None:
    harness = Harness(ServerSwitches(sharer_grace_s=42.0))
    owner, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    (grace,) = harness.store.disconnected(owner)
    assert isinstance(grace, StartGrace)
    assert (grace.session_id, grace.delay) == (created.session_id, 42.0)
    actions = harness.store.grace_expired(grace.session_id, grace.epoch)
    assert sent_to(actions, viewer_conn) == [
        viewer.SessionEnded(viewer.SessionEndedReason.INACTIVITY_LIMIT_REACHED)
    ]
    assert harness.store.manifest(created.session_id) is None


def test_a_sharer_back_within_its_grace_keeps_the_session() -> None:
    harness = Harness()
    owner, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    (grace,) = harness.store.disconnected(owner)
    assert isinstance(grace, StartGrace)
    again, _ = harness.reconnect(created)
    assert harness.store.grace_expired(grace.session_id, grace.epoch) == []
    # A second drop starts a new grace; the first timer stays stale.
    (second,) = harness.store.disconnected(again)
    assert isinstance(second, StartGrace)
    assert second.epoch != grace.epoch
    assert harness.store.grace_expired(grace.session_id, grace.epoch) == []
    ended = harness.store.grace_expired(second.session_id, second.epoch)
    assert [type(m) for m in sent_to(ended, viewer_conn)] == [viewer.SessionEnded]


def test_viewers_leaving_do_not_end_anything() -> None:
    harness = Harness()
    owner, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    assert harness.store.disconnected(viewer_conn) == []
    assert sent_to(harness.events(owner, 0), owner) == [sharer.EventsProcessedAck(0)]


# -- scope and roles -----------------------------------------------------------------------


def via(parent: sharer.SessionInitialized, seat: viewer.JoinedSuccessfully) -> str:
    """The query of a child pane opened through `seat` on `parent`, with the seat's token."""
    assert seat.rejoin_token is not None
    token = seat.rejoin_token.reveal()
    return f"&via={parent.session_id}&as={seat.viewer_id}&seat={token}"


@pytest.mark.parametrize(
    ("parent_role", "child_role", "capped"),
    [
        (Role.READER, Role.FULL, Role.READER),
        (Role.EXECUTOR, Role.FULL, Role.EXECUTOR),
        (Role.FULL, Role.EXECUTOR, Role.EXECUTOR),
        (Role.EXECUTOR, Role.READER, Role.READER),
    ],
)
def test_a_child_reached_through_a_parent_is_capped_at_the_parent_role(
    parent_role: Role, child_role: Role, capped: Role
) -> None:
    harness = Harness()
    _, parent = harness.share(link_role=parent_role)
    _, child = harness.share("alice", link_role=child_role)
    _, seat = harness.joined(parent)
    assert seat.role is parent_role
    _, pane = harness.joined(child, query=via(parent, seat))
    assert pane.role is capped
    _, direct = harness.joined(child)
    assert direct.role is child_role


@pytest.mark.parametrize(
    ("user", "query"),
    [
        ("mallory", "&as={seat}&seat={token}"),  # the right seat and token, another user id
        ("bob", "&as={seat}"),  # the seat's own user id, without its token
        ("bob", "&as={seat}&seat=0123456789abcdef"),  # a wrong token
        ("bob", "&as={other}&seat={token}"),  # the token of another seat
        ("bob", "&as=viewer-99&seat={token}"),  # no such seat
    ],
)
def test_only_the_parent_seats_token_opens_a_pane_through_it(user: str, query: str) -> None:
    harness = Harness()
    _, parent = harness.share()
    _, child = harness.share()
    _, seat = harness.joined(parent, "bob")
    _, other = harness.joined(parent, "carol")
    assert seat.rejoin_token is not None
    filled = query.format(
        seat=seat.viewer_id, other=other.viewer_id, token=seat.rejoin_token.reveal()
    )
    conn, actions = harness.join(child, user, query=f"&via={parent.session_id}{filled}")
    expected = (
        [sent_to(actions, conn)[0]]
        if user == "mallory"
        else [viewer.FailedToJoin(viewer.JoinFailureReason.SESSION_NOT_ACCESSIBLE)]
    )
    assert sent_to(actions, conn)[:1] == expected
    if user == "mallory":
        # Whoever holds the token holds the seat: the user id it gives proves nothing either way.
        assert isinstance(expected[0], viewer.JoinedSuccessfully)


def test_a_child_link_opens_that_child_only() -> None:
    harness = Harness()
    _, parent = harness.share()
    _, child = harness.share()
    _, sibling = harness.share()
    _, seat = harness.joined(child)
    child_pwd = child.session_secret.reveal()
    for target in (parent, sibling):
        for query in ("", via(child, seat)):
            conn = harness.open(f"/sessions/join/{target.session_id}?pwd={child_pwd}{query}")
            init = viewer.Initialize(viewer.ViewerInitPayload(UserId("bob")))
            assert sent_to(harness.store.received(conn, init), conn) == [
                viewer.FailedToJoin(viewer.JoinFailureReason.SESSION_NOT_FOUND)
            ]


# -- the follow-up task-id push ------------------------------------------------------------


def test_an_upgraded_task_id_updates_the_manifest_and_reaches_every_viewer() -> None:
    harness = Harness(ServerSwitches(push_source_task_id=True))
    owner, created = harness.share(source_task_id=None)
    first, before = harness.joined(created)
    second, _ = harness.joined(created, "carol")
    assert before.source_task_id is None
    actions = harness.store.received(owner, sharer.UpdateSourceTaskId("t-orch"))
    pushed = viewer.SourceTaskIdUpdated("t-orch")
    assert sent_to(actions, first) == sent_to(actions, second) == [pushed]
    manifest = harness.store.manifest(created.session_id)
    assert manifest is not None
    assert manifest.source_task_id == "t-orch"
    _, later = harness.joined(created, "dave")
    assert later.source_task_id == "t-orch"


def test_without_the_switch_an_upgraded_task_id_is_ignored() -> None:
    harness = Harness()
    owner, created = harness.share(source_task_id=None)
    viewer_conn, _ = harness.joined(created)
    with capture_logs() as logs:
        actions = harness.store.received(owner, sharer.UpdateSourceTaskId("t-orch"))
    assert actions == []
    manifest = harness.store.manifest(created.session_id)
    assert manifest is not None
    assert manifest.source_task_id is None
    assert any(
        e["event"] == "unknown_message_ignored" and e["tag"] == "UpdateSourceTaskId" for e in logs
    )
    assert sent_to(harness.events(owner, 0), viewer_conn) == [event(0)]


def _away_during_the_push(switches: ServerSwitches) -> list[Message]:
    """A viewer joins before the upgrade, is away when it is pushed, then rejoins."""
    harness = Harness(switches)
    owner, created = harness.share(source_task_id=None)
    viewer_conn, joined = harness.joined(created)
    harness.events(owner, 0)
    harness.store.disconnected(viewer_conn)
    assert sent_to(harness.store.received(owner, sharer.UpdateSourceTaskId("t-orch")), 1) == []
    conn, actions = harness.join(
        created,
        viewer_id=joined.viewer_id,
        last_received_event_no=0,
        rejoin_token=joined.rejoin_token,
    )
    return sent_to(actions, conn)


def test_a_viewer_away_during_the_push_never_learns_the_task_id_as_proposed() -> None:
    """The hole: `RejoinedSuccessfully` has no source fields and the push is not replayed."""
    rejoined = _away_during_the_push(ServerSwitches(push_source_task_id=True))
    assert rejoined == [viewer.RejoinedSuccessfully()]


def test_a_rejoin_replays_the_task_id_pushed_while_the_viewer_was_away() -> None:
    switches = ServerSwitches(push_source_task_id=True, replay_source_task_id_on_rejoin=True)
    rejoined = _away_during_the_push(switches)
    assert rejoined == [viewer.RejoinedSuccessfully(), viewer.SourceTaskIdUpdated("t-orch")]


def test_a_seat_that_joined_after_the_upgrade_gets_no_replay() -> None:
    switches = ServerSwitches(push_source_task_id=True, replay_source_task_id_on_rejoin=True)
    harness = Harness(switches)
    owner, created = harness.share(source_task_id=None)
    harness.store.received(owner, sharer.UpdateSourceTaskId("t-orch"))
    viewer_conn, joined = harness.joined(created)
    assert joined.source_task_id == "t-orch"
    harness.store.disconnected(viewer_conn)
    conn, actions = harness.join(
        created, viewer_id=joined.viewer_id, rejoin_token=joined.rejoin_token
    )
    assert sent_to(actions, conn) == [viewer.RejoinedSuccessfully()]


# -- bad input -----------------------------------------------------------------------------


def test_a_malformed_first_frame_fails_the_join_with_invalid_and_1007() -> None:
    harness = Harness()
    _, created = harness.share()
    conn = harness.open(f"/sessions/join/{created.session_id}?pwd=x")
    actions = harness.store.malformed(conn, "at $: expected valid JSON")
    assert sent_to(actions, conn) == [viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)]
    assert closes(actions) == {
        conn: (CLOSE_UNSUPPORTED_DATA, "malformed frame: at $: expected valid JSON")
    }


def test_a_malformed_first_frame_on_a_resume_route_fails_the_reconnect() -> None:
    harness = Harness()
    conn = harness.open("/sessions/some-id/resume")
    actions = harness.store.malformed(conn, "bad")
    assert sent_to(actions, conn) == [
        sharer.FailedToReconnect(sharer.ReconnectFailureReason.INVALID)
    ]
    assert closes(actions)[conn][0] == CLOSE_UNSUPPORTED_DATA


def test_a_malformed_frame_from_a_live_client_closes_only_that_link() -> None:
    harness = Harness()
    owner, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    other, _ = harness.joined(created, "carol")
    actions = harness.store.malformed(viewer_conn, "bad")
    assert actions == [Close(viewer_conn, CLOSE_UNSUPPORTED_DATA, "malformed frame: bad")]
    harness.store.disconnected(viewer_conn)
    assert event_numbers(sent_to(harness.events(owner, 0), other)) == [0]
    sharer_actions = harness.store.malformed(owner, "bad")
    assert sharer_actions == [Close(owner, CLOSE_UNSUPPORTED_DATA, "malformed frame: bad")]


@pytest.mark.parametrize(
    "message",
    [
        event(0),
        sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER),
        sharer.UpdateSourceTaskId("t-x"),
    ],
)
def test_a_viewer_sending_a_sharer_message_is_closed_for_policy(message: Message) -> None:
    harness = Harness()
    _, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    frame = decode(Channel.VIEWER_UP, encode(message))  # as the viewer's link decodes it
    with capture_logs() as logs:
        actions = harness.store.received(viewer_conn, frame)
    tag = message.message_type
    assert actions == [
        Close(viewer_conn, CLOSE_POLICY, f"{tag} is a sharer message; a viewer may not send it")
    ]
    assert [e["event"] for e in logs] == ["wrong_channel"]
    assert harness.store.sessions[created.session_id].events == []


@pytest.mark.parametrize("channel", [Channel.SHARER_UP, Channel.VIEWER_UP])
def test_an_unknown_message_type_is_logged_and_ignored(channel: Channel) -> None:
    harness = Harness()
    owner, created = harness.share()
    viewer_conn, _ = harness.joined(created)
    conn = owner if channel is Channel.SHARER_UP else viewer_conn
    frame = decode(channel, '{"SomethingFromTheFuture":{"x":1}}')
    with capture_logs() as logs:
        assert harness.store.received(conn, frame) == []
    assert logs[0]["event"] == "unknown_message_ignored"
    assert logs[0]["tag"] == "SomethingFromTheFuture"
    assert sent_to(harness.store.received(conn, Ping(b"\x01")), conn) == [Pong(b"\x01")]


def test_a_sharer_may_ping_before_initialize_but_not_send_events() -> None:
    harness = Harness()
    conn = harness.open("/sessions/create")
    assert sent_to(harness.store.received(conn, Ping()), conn) == [Pong()]
    actions = harness.store.received(conn, event(0))
    assert closes(actions) == {
        conn: (CLOSE_POLICY, "OrderedTerminalEvent before Initialize or Reconnect")
    }


def test_a_live_sharer_may_not_initialize_again() -> None:
    harness = Harness()
    owner, _ = harness.share()
    actions = harness.store.received(owner, sharer.Initialize(sharer.InitPayload(UserId(OWNER))))
    assert closes(actions) == {
        owner: (CLOSE_POLICY, "Initialize is not expected once the session is live")
    }
    assert len(harness.store.sessions) == 1
