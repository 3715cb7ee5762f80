"""The session-sharing server's rules, with no I/O.

The session server actor hands every decoded frame, connection and
disconnection to `SessionStore`, which answers with actions: frames to send,
connections to close, grace timers to start. All session state lives here, so
the rules (joins, rejoins, event numbering, ending, role caps, the follow-up
task-id push) are tested without a network. The store logs what it decides,
so a refused join or an ignored frame can be explained from the log alone.

Routes: a sharer opens `/sessions/create` (then `Initialize`) or
`/sessions/{id}/resume` (then `Reconnect`); a viewer opens
`/sessions/join/{id}?pwd=SECRET` (then `Initialize`). A hidden child pane that
reached the child through a parent share adds `via=PARENT_SESSION&as=VIEWER_ID`
so its role is capped at the role it holds on the parent.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from dataclasses import dataclass, field
from random import Random
from urllib.parse import parse_qs, urlsplit

from actors.rules.notes import SILENT, Notes
from protocol import Channel, message_types, sharer, viewer
from protocol.common import Ping, Pong
from protocol.events import OrderedTerminalEvent
from protocol.message import Message, UnknownMessage, tag_of
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


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a session was created with: the facts viewers are told and reconnects prove.

    Only `source_task_id` ever changes, and only through the follow-up push.
    """

    session_id: str
    source_type: SessionSourceType
    source_task_id: str | None
    sharer_id: str
    owner: str
    lifetime: sharer.Lifetime
    link_role: Role
    secret: SessionSecret
    token: ReconnectToken

    def join_link(self) -> str:
        return f"/sessions/join/{self.session_id}?pwd={self.secret.reveal()}"


@dataclass
class _Seat:
    viewer_id: str
    user: str
    role: Role
    conn: ConnId | None


@dataclass
class _Session:
    manifest: Manifest
    events: list[OrderedTerminalEvent] = field(default_factory=list)
    sharer_conn: ConnId | None = None
    seats: dict[str, _Seat] = field(default_factory=dict)
    ended: viewer.SessionEndedReason | None = None
    grace_epoch: int = 0

    @property
    def session_id(self) -> str:
        return self.manifest.session_id

    @property
    def last_event_no(self) -> int | None:
        return self.events[-1].event_no if self.events else None


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

    def __init__(
        self, rng: Random, switches: ServerSwitches | None = None, notes: Notes = SILENT
    ) -> None:
        self._rng = rng
        self._notes = notes
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
        self._notes.info(
            "sharer_gone", session_id=session.session_id, grace_s=self.switches.sharer_grace_s
        )
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
        """A frame that did not decode: say why, then close, as serde would fail the socket.

        A client still waiting for its first answer also gets the protocol's
        own refusal, so it fails the way it would on any other bad request.
        """
        state = self._conns.get(conn)
        actions: list[Action] = []
        if state is not None and state.session_id is None:
            if state.kind is ConnKind.VIEWER:
                actions.append(Send(conn, viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)))
            elif sharer_route_session(state.resource) is not None:
                invalid = sharer.ReconnectFailureReason.INVALID
                actions.append(Send(conn, sharer.FailedToReconnect(invalid)))
        actions.append(Close(conn, CLOSE_UNSUPPORTED_DATA, f"malformed frame: {error}"))
        return actions

    def _unknown(self, conn: ConnId, state: _Conn, message: UnknownMessage) -> list[Action]:
        if state.kind is ConnKind.VIEWER and message.tag in _SHARER_ONLY_TAGS:
            self._notes.warning("wrong_channel", tag=message.tag, kind=state.kind.value)
            reason = f"{message.tag} is a sharer message; a viewer may not send it"
            return [Close(conn, CLOSE_POLICY, reason)]
        # A newer peer's message: ignored, the connection stays.
        self._notes.info("unknown_message_ignored", tag=message.tag, kind=state.kind.value)
        return []

    # -- sharer ------------------------------------------------------------------

    def _from_sharer(self, conn: ConnId, state: _Conn, message: object) -> list[Action]:
        if isinstance(message, Ping):
            return [Send(conn, Pong(message.data))]
        if state.session_id is None:
            if isinstance(message, sharer.Initialize):
                return self._initialize(conn, state, message.payload)
            if isinstance(message, sharer.Reconnect):
                return self._reconnect(conn, state, message.payload)
            return [Close(conn, CLOSE_POLICY, f"{tag_of(message)} before Initialize or Reconnect")]
        session = self.sessions.get(state.session_id)
        if session is None or session.ended is not None:
            # An ephemeral session is deleted when it ends; this link outlived it.
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
            Close(conn, CLOSE_POLICY, f"{tag_of(message)} is not expected once the session is live")
        ]

    def _initialize(self, conn: ConnId, state: _Conn, payload: sharer.InitPayload) -> list[Action]:
        if sharer_route_session(state.resource) is not None:
            return [Close(conn, CLOSE_POLICY, "Initialize must be sent on /sessions/create")]
        self._sharer_numbers += 1
        manifest = Manifest(
            session_id=str(uuid.UUID(bytes=self._rng.randbytes(16), version=4)),
            source_type=payload.source_type,
            # A sharer from before the sidecar names its task only inside AmbientAgent.
            source_task_id=resolve_orchestrator_task_id(
                payload.source_type, payload.source_task_id
            ),
            sharer_id=f"sharer-{self._sharer_numbers}",
            owner=payload.user_id.anonymous_id,
            lifetime=payload.lifetime,
            link_role=payload.link_role,
            secret=SessionSecret(self._rng.randbytes(12).hex()),
            token=ReconnectToken(self._rng.randbytes(16).hex()),
        )
        session = _Session(manifest, sharer_conn=conn)
        self.sessions[manifest.session_id] = session
        state.session_id = manifest.session_id
        self._notes.info(
            "session_created",
            decision=True,
            session_id=manifest.session_id,
            sharer_id=manifest.sharer_id,
            source_task_id=manifest.source_task_id,
            lifetime=manifest.lifetime.value,
        )
        return [
            Send(
                conn,
                sharer.SessionInitialized(
                    session_id=manifest.session_id,
                    session_secret=manifest.secret,
                    reconnect_token=manifest.token,
                    sharer_id=manifest.sharer_id,
                ),
            )
        ]

    def _reconnect(
        self, conn: ConnId, state: _Conn, payload: sharer.ReconnectPayload
    ) -> list[Action]:
        """Resume a session; the reply names the last event held, so the sharer resends the rest."""
        session_id = sharer_route_session(state.resource) or payload.session_id
        session = self.sessions.get(session_id or "")
        reason: sharer.ReconnectFailureReason | None = None
        if session is None or session.ended is not None:
            reason = sharer.ReconnectFailureReason.SESSION_NOT_FOUND
        elif payload.session_secret != session.manifest.secret:
            reason = sharer.ReconnectFailureReason.WRONG_PASSWORD
        elif payload.reconnect_token != session.manifest.token:
            reason = sharer.ReconnectFailureReason.WRONG_RECONNECTION_TOKEN
        elif payload.user_id.anonymous_id != session.manifest.owner:
            reason = sharer.ReconnectFailureReason.WRONG_FIREBASE_UID
        if reason is not None or session is None:
            failure = reason or sharer.ReconnectFailureReason.INVALID
            self._notes.info(
                "reconnect_refused", decision=True, session_id=session_id, reason=failure.value
            )
            return [
                Send(conn, sharer.FailedToReconnect(failure)),
                Close(conn, CLOSE_POLICY, f"reconnect refused: {failure.value}"),
            ]
        actions: list[Action] = []
        if session.sharer_conn is not None and session.sharer_conn != conn:
            actions.append(Close(session.sharer_conn, CLOSE_POLICY, "replaced by a reconnect"))
        session.sharer_conn = conn
        session.grace_epoch += 1
        state.session_id = session.session_id
        self._notes.info(
            "sharer_reconnected", session_id=session.session_id, last_event_no=session.last_event_no
        )
        actions.append(Send(conn, sharer.SessionReconnected(session.last_event_no)))
        return actions

    def _event(self, conn: ConnId, session: _Session, event: OrderedTerminalEvent) -> list[Action]:
        """Store and relay the next event; numbers start at 0 and leave no gaps."""
        last = session.last_event_no
        expected = 0 if last is None else last + 1
        if last is not None and event.event_no <= last:
            return [Send(conn, sharer.EventsProcessedAck(last))]  # a resend after reconnect
        if event.event_no != expected:
            self._notes.warning(
                "event_out_of_order",
                session_id=session.session_id,
                event_no=event.event_no,
                expected=expected,
            )
            reason = f"event {event.event_no} out of order; expected {expected}"
            return [Close(conn, CLOSE_POLICY, reason)]
        session.events.append(event)
        actions: list[Action] = [Send(conn, sharer.EventsProcessedAck(event.event_no))]
        actions += [Send(c, event) for c in _viewer_conns(session)]
        return actions

    def _update_source_task_id(self, session: _Session, source_task_id: str) -> list[Action]:
        if not self.switches.push_source_task_id:
            # A server without the follow-up does not know this message.
            self._notes.info("unknown_message_ignored", tag="UpdateSourceTaskId", kind="sharer")
            return []
        session.manifest = dataclasses.replace(session.manifest, source_task_id=source_task_id)
        self._notes.info(
            "source_task_id_updated",
            decision=True,
            session_id=session.session_id,
            source_task_id=source_task_id,
        )
        update = viewer.SourceTaskIdUpdated(source_task_id)
        return [Send(c, update) for c in _viewer_conns(session)]

    def _end(self, session: _Session, reason: viewer.SessionEndedReason) -> list[Action]:
        """Tell every joined viewer; an ephemeral session is forgotten, a lingering one kept."""
        session.ended = reason
        actions: list[Action] = []
        for c in _viewer_conns(session):
            actions += [
                Send(c, viewer.SessionEnded(reason)),
                Close(c, CLOSE_NORMAL, "session ended"),
            ]
        if session.manifest.lifetime is sharer.Lifetime.EPHEMERAL:
            del self.sessions[session.session_id]
        self._notes.info(
            "session_ended", decision=True, session_id=session.session_id, reason=reason.value
        )
        return actions

    # -- viewer ------------------------------------------------------------------

    def _from_viewer(self, conn: ConnId, state: _Conn, message: object) -> list[Action]:
        if isinstance(message, Ping):
            return [Send(conn, Pong(message.data))]
        if state.session_id is not None:
            return [Close(conn, CLOSE_POLICY, f"{tag_of(message)} after joining")]
        if not isinstance(message, viewer.Initialize):
            return self._refuse(conn, None, viewer.JoinFailureReason.INVALID)
        route = JoinRoute.parse(state.resource)
        assert route is not None, "a viewer connection always has a join route"
        session = self.sessions.get(route.session_id)
        if session is None:
            return self._refuse(conn, route.session_id, viewer.JoinFailureReason.SESSION_NOT_FOUND)
        if route.pwd != session.manifest.secret.reveal():
            return self._refuse(conn, route.session_id, viewer.JoinFailureReason.WRONG_PASSWORD)
        payload = message.payload
        user = payload.user_id.anonymous_id
        cap = self._parent_role(route, user)
        if cap is None:
            return self._refuse(
                conn, route.session_id, viewer.JoinFailureReason.SESSION_NOT_ACCESSIBLE
            )
        if payload.viewer_id is not None:
            return self._rejoin(conn, state, session, payload, user)
        return self._join(conn, state, session, user, session.manifest.link_role.at_most(cap))

    def _parent_role(self, route: JoinRoute, user: str) -> Role | None:
        """The cap a parent share puts on a child join; Full when there is no parent.

        The parent seat must be the joiner's own: a seat id is not a credential
        anyone else can borrow.
        """
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
        manifest = session.manifest
        joined = viewer.JoinedSuccessfully(
            viewer_id=viewer_id,
            source_type=LegacySessionSourceType.of(manifest.source_type),
            detailed_source_type=manifest.source_type,
            source_task_id=manifest.source_task_id,
            latest_event_no=session.last_event_no,
            role=role,
        )
        self._notes.info(
            "viewer_joined",
            session_id=session.session_id,
            viewer_id=viewer_id,
            viewer_role=role.value,
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
        """Give a returning viewer its seat back and exactly the events it missed.

        The order is the crate's: `RejoinedSuccessfully` first, then every event
        numbered above `last_received_event_no` (all of them when it is None).
        A link the seat still had is closed, so one seat never has two feeds.
        """
        seat = session.seats.get(payload.viewer_id or "")
        if seat is None or seat.user != user:
            return self._refuse(conn, session.session_id, viewer.JoinFailureReason.INVALID)
        actions: list[Action] = []
        if seat.conn is not None and seat.conn != conn:
            actions.append(Close(seat.conn, CLOSE_POLICY, "replaced by a rejoin"))
        seat.conn = conn
        state.session_id, state.viewer_id = session.session_id, seat.viewer_id
        self._notes.info(
            "viewer_rejoined",
            session_id=session.session_id,
            viewer_id=seat.viewer_id,
            last_received_event_no=payload.last_received_event_no,
        )
        return [
            *actions,
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

    def _refuse(
        self, conn: ConnId, session_id: str | None, reason: viewer.JoinFailureReason
    ) -> list[Action]:
        self._notes.info("join_refused", decision=True, session_id=session_id, reason=reason.value)
        return [
            Send(conn, viewer.FailedToJoin(reason)),
            Close(conn, CLOSE_POLICY, f"join refused: {reason.value}"),
        ]

    # -- reads ---------------------------------------------------------------------

    def manifest(self, session_id: str) -> Manifest | None:
        session = self.sessions.get(session_id)
        return session.manifest if session else None

    def join_link(self, session_id: str) -> str | None:
        """The join route with its secret, or None for a session the server does not hold."""
        manifest = self.manifest(session_id)
        return manifest.join_link() if manifest else None


def _viewer_conns(session: _Session) -> list[ConnId]:
    return [seat.conn for seat in session.seats.values() if seat.conn is not None]


def _ended_reason(reason: sharer.SharerEndReason) -> viewer.SessionEndedReason:
    return viewer.SessionEndedReason(reason.value)
