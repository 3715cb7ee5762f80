"""The session-sharing server's rules, with no I/O.

The session server actor hands every decoded frame, connection and
disconnection to `SessionStore`, which answers with actions: frames to send,
connections to close, grace timers to start. All session state lives here, so
the rules (joins, rejoins, event numbering, ending, role caps, the follow-up
task-id push) are tested without a network.

Routes: a sharer opens `/sessions/create` (then `Initialize`) or
`/sessions/{id}/resume` (then `Reconnect`); a viewer opens
`/sessions/join/{id}?pwd=SECRET` (then `Initialize`). A hidden child pane that
reached the child through a parent share adds `via=PARENT_SESSION&as=VIEWER_ID`
so its role is capped at the role it holds on the parent.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from random import Random
from urllib.parse import parse_qs, urlsplit

from protocol import Channel, message_types, sharer, viewer
from protocol.common import Ping, Pong
from protocol.events import OrderedTerminalEvent
from protocol.message import Message, UnknownMessage
from protocol.roles import Role
from protocol.secrets import ReconnectToken, SessionSecret
from protocol.source import LegacySessionSourceType, SessionSourceType, resolve_orchestrator_task_id

ConnId = int

#: WebSocket close codes the server uses (RFC 6455).
CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED_DATA = 1007
CLOSE_POLICY = 1008

#: How long a session waits for its sharer to reconnect before it ends.
DEFAULT_SHARER_GRACE_S = 60.0

_SHARER_ONLY_TAGS = frozenset(t.message_type for t in message_types(Channel.SHARER_UP)) - {"Ping"}


@dataclass(frozen=True, slots=True)
class Send:
    conn: ConnId
    message: Message


@dataclass(frozen=True, slots=True)
class Close:
    conn: ConnId
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class StartGrace:
    """Call `grace_expired(session_id, epoch)` after `delay` unless the sharer is back."""

    session_id: str
    epoch: int
    delay: float


Action = Send | Close | StartGrace


class ConnKind(enum.Enum):
    SHARER = "sharer"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class ServerSwitches:
    """Server-side behaviour that profiles flip."""

    #: Accept the follow-up `UpdateSourceTaskId` and push it to joined viewers.
    push_source_task_id: bool = False
    sharer_grace_s: float = DEFAULT_SHARER_GRACE_S


@dataclass
class _Seat:
    viewer_id: str
    user: str
    role: Role
    conn: ConnId | None


@dataclass
class _Session:
    session_id: str
    secret: SessionSecret
    token: ReconnectToken
    sharer_id: str
    owner: str
    source_type: SessionSourceType
    source_task_id: str | None
    lifetime: sharer.Lifetime
    link_role: Role
    events: list[OrderedTerminalEvent] = field(default_factory=list)
    sharer_conn: ConnId | None = None
    seats: dict[str, _Seat] = field(default_factory=dict)
    ended: viewer.SessionEndedReason | None = None
    grace_epoch: int = 0

    @property
    def last_event_no(self) -> int | None:
        return self.events[-1].event_no if self.events else None

    def join_link(self) -> str:
        return f"/sessions/join/{self.session_id}?pwd={self.secret.reveal()}"


@dataclass
class _Conn:
    kind: ConnKind
    resource: str
    session_id: str | None = None
    viewer_id: str | None = None


@dataclass(frozen=True, slots=True)
class JoinRoute:
    """What a viewer's join resource says: which session, the secret, and any parent."""

    session_id: str
    pwd: str | None
    via_session: str | None
    via_viewer: str | None

    @classmethod
    def parse(cls, resource: str) -> JoinRoute | None:
        parts = urlsplit(resource)
        segments = parts.path.strip("/").split("/")
        if len(segments) != 3 or segments[:2] != ["sessions", "join"]:
            return None
        query = parse_qs(parts.query)

        def one(key: str) -> str | None:
            values = query.get(key)
            return values[0] if values else None

        return cls(segments[2], one("pwd"), one("via"), one("as"))


def sharer_route_session(resource: str) -> str | None:
    """The session id in `/sessions/{id}/resume`, or None for `/sessions/create`."""
    segments = urlsplit(resource).path.strip("/").split("/")
    if len(segments) == 3 and segments[0] == "sessions" and segments[2] == "resume":
        return segments[1]
    return None


def classify_route(resource: str) -> ConnKind | None:
    path = urlsplit(resource).path
    if path == "/sessions/create" or sharer_route_session(resource) is not None:
        return ConnKind.SHARER
    if JoinRoute.parse(resource) is not None:
        return ConnKind.VIEWER
    return None


class SessionStore:
    """Every session, every connection, and what each frame does to them."""

    def __init__(self, rng: Random, switches: ServerSwitches | None = None) -> None:
        self._rng = rng
        self.switches = switches or ServerSwitches()
        self.sessions: dict[str, _Session] = {}
        self._conns: dict[ConnId, _Conn] = {}
        self._viewer_numbers = 0
        self._sharer_numbers = 0

    # -- connections -----------------------------------------------------------

    def connected(self, conn: ConnId, resource: str) -> list[Action]:
        kind = classify_route(resource)
        if kind is None:
            return [Close(conn, CLOSE_POLICY, f"unknown route {urlsplit(resource).path}")]
        self._conns[conn] = _Conn(kind, resource)
        return []

    def disconnected(self, conn: ConnId) -> list[Action]:
        state = self._conns.pop(conn, None)
        if state is None or state.session_id is None:
            return []
        session = self.sessions.get(state.session_id)
        if session is None:
            return []
        if state.kind is ConnKind.VIEWER:
            seat = session.seats.get(state.viewer_id or "")
            if seat is not None and seat.conn == conn:
                seat.conn = None
            return []
        if session.sharer_conn != conn or session.ended is not None:
            return []
        session.sharer_conn = None
        session.grace_epoch += 1
        return [StartGrace(session.session_id, session.grace_epoch, self.switches.sharer_grace_s)]

    def grace_expired(self, session_id: str, epoch: int) -> list[Action]:
        """The sharer did not come back in time: the session ends for every viewer."""
        session = self.sessions.get(session_id)
        if session is None or session.ended is not None or session.grace_epoch != epoch:
            return []
        if session.sharer_conn is not None:
            return []
        return self._end(session, viewer.SessionEndedReason.INACTIVITY_LIMIT_REACHED)

    # -- frames ------------------------------------------------------------------

    def received(self, conn: ConnId, message: object) -> list[Action]:
        state = self._conns.get(conn)
        if state is None:
            return []
        if isinstance(message, UnknownMessage):
            return self._unknown(conn, state, message)
        if state.kind is ConnKind.SHARER:
            return self._from_sharer(conn, state, message)
        return self._from_viewer(conn, state, message)

    def malformed(self, conn: ConnId, error: str) -> list[Action]:
        """A frame that did not decode: say why, then close, as serde would fail the socket."""
        state = self._conns.get(conn)
        actions: list[Action] = []
        if state is not None and state.kind is ConnKind.VIEWER and state.session_id is None:
            actions.append(Send(conn, viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)))
        actions.append(Close(conn, CLOSE_UNSUPPORTED_DATA, f"malformed frame: {error}"))
        return actions

    def _unknown(self, conn: ConnId, state: _Conn, message: UnknownMessage) -> list[Action]:
        if state.kind is ConnKind.VIEWER and message.tag in _SHARER_ONLY_TAGS:
            return [
                Close(
                    conn,
                    CLOSE_POLICY,
                    f"{message.tag} is a sharer message; a viewer may not send it",
                )
            ]
        return []  # a newer peer's message: ignored, the connection stays

    # -- sharer ------------------------------------------------------------------

    def _from_sharer(self, conn: ConnId, state: _Conn, message: object) -> list[Action]:
        session = self.sessions.get(state.session_id or "")
        if session is None:
            if isinstance(message, sharer.Initialize):
                return self._initialize(conn, state, message.payload)
            if isinstance(message, sharer.Reconnect):
                return self._reconnect(conn, state, message.payload)
            return [Close(conn, CLOSE_POLICY, f"{_tag(message)} before Initialize or Reconnect")]
        if isinstance(message, Ping):
            return [Send(conn, Pong(message.data))]
        if session.ended is not None:
            return [Close(conn, CLOSE_POLICY, "the session has ended")]
        if isinstance(message, OrderedTerminalEvent):
            return self._event(conn, session, message)
        if isinstance(message, sharer.EndSession):
            return [
                *self._end(session, _ended_reason(message.reason)),
                Close(conn, CLOSE_NORMAL, "session ended"),
            ]
        if isinstance(message, sharer.UpdateSourceTaskId):
            return self._update_source_task_id(session, message.source_task_id)
        return [
            Close(conn, CLOSE_POLICY, f"{_tag(message)} is not expected once the session is live")
        ]

    def _initialize(self, conn: ConnId, state: _Conn, payload: sharer.InitPayload) -> list[Action]:
        if sharer_route_session(state.resource) is not None:
            return [Close(conn, CLOSE_POLICY, "Initialize must be sent on /sessions/create")]
        self._sharer_numbers += 1
        # A sharer from before the sidecar names its task only inside AmbientAgent.
        source_task_id = resolve_orchestrator_task_id(payload.source_type, payload.source_task_id)
        session = _Session(
            session_id=str(uuid.UUID(bytes=self._rng.randbytes(16), version=4)),
            secret=SessionSecret(self._rng.randbytes(12).hex()),
            token=ReconnectToken(self._rng.randbytes(16).hex()),
            sharer_id=f"sharer-{self._sharer_numbers}",
            owner=payload.user_id.anonymous_id,
            source_type=payload.source_type,
            source_task_id=source_task_id,
            lifetime=payload.lifetime,
            link_role=payload.link_role,
            sharer_conn=conn,
        )
        self.sessions[session.session_id] = session
        state.session_id = session.session_id
        return [
            Send(
                conn,
                sharer.SessionInitialized(
                    session_id=session.session_id,
                    session_secret=session.secret,
                    reconnect_token=session.token,
                    sharer_id=session.sharer_id,
                ),
            )
        ]

    def _reconnect(
        self, conn: ConnId, state: _Conn, payload: sharer.ReconnectPayload
    ) -> list[Action]:
        session_id = sharer_route_session(state.resource) or payload.session_id
        session = self.sessions.get(session_id or "")
        reason: sharer.ReconnectFailureReason | None = None
        if session is None or session.ended is not None:
            reason = sharer.ReconnectFailureReason.SESSION_NOT_FOUND
        elif payload.session_secret != session.secret:
            reason = sharer.ReconnectFailureReason.WRONG_PASSWORD
        elif payload.reconnect_token != session.token:
            reason = sharer.ReconnectFailureReason.WRONG_RECONNECTION_TOKEN
        elif payload.user_id.anonymous_id != session.owner:
            reason = sharer.ReconnectFailureReason.WRONG_FIREBASE_UID
        if reason is not None or session is None:
            failure = reason or sharer.ReconnectFailureReason.INVALID
            return [
                Send(conn, sharer.FailedToReconnect(failure)),
                Close(conn, CLOSE_POLICY, failure.value),
            ]
        actions: list[Action] = []
        if session.sharer_conn is not None and session.sharer_conn != conn:
            actions.append(Close(session.sharer_conn, CLOSE_POLICY, "replaced by a reconnect"))
        session.sharer_conn = conn
        session.grace_epoch += 1
        state.session_id = session.session_id
        actions.append(Send(conn, sharer.SessionReconnected(session.last_event_no)))
        return actions

    def _event(self, conn: ConnId, session: _Session, event: OrderedTerminalEvent) -> list[Action]:
        last = session.last_event_no
        expected = 0 if last is None else last + 1
        if last is not None and event.event_no <= last:
            return [Send(conn, sharer.EventsProcessedAck(last))]  # a resend after reconnect
        if event.event_no != expected:
            return [
                Close(
                    conn, CLOSE_POLICY, f"event {event.event_no} out of order; expected {expected}"
                )
            ]
        session.events.append(event)
        actions: list[Action] = [Send(conn, sharer.EventsProcessedAck(event.event_no))]
        actions += [Send(c, event) for c in _viewer_conns(session)]
        return actions

    def _update_source_task_id(self, session: _Session, source_task_id: str) -> list[Action]:
        if not self.switches.push_source_task_id:
            return []  # a server without the follow-up does not know this message
        session.source_task_id = source_task_id
        update = viewer.SourceTaskIdUpdated(source_task_id)
        return [Send(c, update) for c in _viewer_conns(session)]

    def _end(self, session: _Session, reason: viewer.SessionEndedReason) -> list[Action]:
        session.ended = reason
        actions: list[Action] = []
        for c in _viewer_conns(session):
            actions += [
                Send(c, viewer.SessionEnded(reason)),
                Close(c, CLOSE_NORMAL, "session ended"),
            ]
        if session.lifetime is sharer.Lifetime.EPHEMERAL:
            del self.sessions[session.session_id]
        return actions

    # -- viewer ------------------------------------------------------------------

    def _from_viewer(self, conn: ConnId, state: _Conn, message: object) -> list[Action]:
        if isinstance(message, Ping):
            return [Send(conn, Pong(message.data))]
        if state.session_id is not None:
            return [Close(conn, CLOSE_POLICY, f"{_tag(message)} after joining")]
        if not isinstance(message, viewer.Initialize):
            return self._refuse(conn, viewer.JoinFailureReason.INVALID)
        route = JoinRoute.parse(state.resource)
        assert route is not None
        session = self.sessions.get(route.session_id)
        if session is None:
            return self._refuse(conn, viewer.JoinFailureReason.SESSION_NOT_FOUND)
        if route.pwd != session.secret.reveal():
            return self._refuse(conn, viewer.JoinFailureReason.WRONG_PASSWORD)
        payload = message.payload
        user = payload.user_id.anonymous_id
        cap = self._parent_role(route, user)
        if cap is None:
            return self._refuse(conn, viewer.JoinFailureReason.SESSION_NOT_ACCESSIBLE)
        if payload.viewer_id is not None:
            return self._rejoin(conn, state, session, payload, user)
        return self._join(conn, state, session, user, session.link_role.at_most(cap))

    def _parent_role(self, route: JoinRoute, user: str) -> Role | None:
        """The cap a parent share puts on a child join; Full when there is no parent."""
        if route.via_session is None:
            return Role.FULL
        parent = self.sessions.get(route.via_session)
        seat = parent.seats.get(route.via_viewer or "") if parent else None
        if seat is None or seat.user != user:
            return None
        return seat.role

    def _join(
        self, conn: ConnId, state: _Conn, session: _Session, user: str, role: Role
    ) -> list[Action]:
        self._viewer_numbers += 1
        viewer_id = f"viewer-{self._viewer_numbers}"
        session.seats[viewer_id] = _Seat(viewer_id, user, role, conn)
        state.session_id, state.viewer_id = session.session_id, viewer_id
        joined = viewer.JoinedSuccessfully(
            viewer_id=viewer_id,
            source_type=LegacySessionSourceType.of(session.source_type),
            detailed_source_type=session.source_type,
            source_task_id=session.source_task_id,
            latest_event_no=session.last_event_no,
            role=role,
        )
        return [Send(conn, joined), *self._catch_up(conn, session, None)]

    def _rejoin(
        self,
        conn: ConnId,
        state: _Conn,
        session: _Session,
        payload: viewer.ViewerInitPayload,
        user: str,
    ) -> list[Action]:
        seat = session.seats.get(payload.viewer_id or "")
        if seat is None or seat.user != user:
            return self._refuse(conn, viewer.JoinFailureReason.INVALID)
        seat.conn = conn
        state.session_id, state.viewer_id = session.session_id, seat.viewer_id
        return [
            Send(conn, viewer.RejoinedSuccessfully()),
            *self._catch_up(conn, session, payload.last_received_event_no),
        ]

    def _catch_up(self, conn: ConnId, session: _Session, after: int | None) -> list[Action]:
        actions: list[Action] = [
            Send(conn, e) for e in session.events if after is None or e.event_no > after
        ]
        if session.ended is not None:
            actions += [
                Send(conn, viewer.SessionEnded(session.ended)),
                Close(conn, CLOSE_NORMAL, "session ended"),
            ]
        return actions

    def _refuse(self, conn: ConnId, reason: viewer.JoinFailureReason) -> list[Action]:
        return [Send(conn, viewer.FailedToJoin(reason)), Close(conn, CLOSE_POLICY, reason.value)]

    # -- reads ---------------------------------------------------------------------

    def join_link(self, session_id: str) -> str:
        return self.sessions[session_id].join_link()


def _viewer_conns(session: _Session) -> list[ConnId]:
    return [seat.conn for seat in session.seats.values() if seat.conn is not None]


def _ended_reason(reason: sharer.SharerEndReason) -> viewer.SessionEndedReason:
    return viewer.SessionEndedReason(reason.value)


def _tag(message: object) -> str:
    return str(getattr(message, "message_type", type(message).__name__))
