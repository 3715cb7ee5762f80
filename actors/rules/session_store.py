"""The session-sharing server's rules, with no I/O.

The session server actor hands every decoded frame, connection and
disconnection to `SessionStore`, which answers with actions: frames to send,
connections to close, grace timers to start. All session state lives here, so
the rules (joins, rejoins, event numbering, ending, role caps, the follow-up
task-id push) are tested without a network. The store logs what it decides,
so a refused join or an ignored frame can be explained from the log alone;
no note ever holds a secret.

Who may act: a session's ids and secrets come from an injected `Credentials`
source (seeded in simulations, the OS under `serve`); a viewer's seat has a
token of its own that a rejoin must show; only the sharer link a session
currently has may act for it. A refused join or reconnect answers the same
way whatever was wrong, so a guesser learns nothing about which ids exist.

What it holds is bounded by `SessionLimits`: each event is encoded once when
it arrives and kept as that frame, history is capped per session and in all,
and ended lingering sessions and seats without a link expire. When the
server is full, room is made only from sessions that have ended: a client
(the host a connection comes from) that fills the server never costs
another a live session, nor one whose sharer may still reconnect; its own
request is refused instead, and per-client limits keep one client from
filling everything. Viewer seats count in all and against the client that
took them, until they expire. Expiry needs no timers: the store reads an
injected clock, treats anything expired as gone when it is asked for, and
sweeps the rest out as links come and go.

The routes connections open are described, built and read in `protocol.routes`.
"""

from __future__ import annotations

import dataclasses
import enum
import hmac
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from actors.rules.credentials import Credentials
from actors.rules.field_sizes import oversized_field
from actors.rules.notes import SILENT, Notes
from actors.rules.repeats import Repeats
from actors.rules.session_limits import SessionLimits as SessionLimits
from protocol import Channel, encode, message_types, sharer, viewer
from protocol.clients import client_of as client_of
from protocol.common import Ping, Pong
from protocol.events import OrderedTerminalEvent
from protocol.message import Message, UnknownMessage, tag_of
from protocol.requests import (
    AgentPromptFailureReason,
    AgentPromptRequest,
    Approved,
    RoleUpdatedReason,
    conversation_token,
)
from protocol.roles import Role
from protocol.routes import CREATE_ROUTE, JoinRoute, is_sharer_route, join_route, resumed_session
from protocol.secrets import ReconnectToken, SeatToken, Secret, SessionSecret
from protocol.source import LegacySessionSourceType, SessionSourceType, resolve_orchestrator_task_id

ConnId = int

#: WebSocket close codes the server uses (RFC 6455).
CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009

#: How long a session waits for its sharer to reconnect before it ends.
DEFAULT_SHARER_GRACE_S = 60.0

#: Messages whose strings a session keeps (in its manifest or a seat), so each is measured.
_KEPT = (sharer.Initialize, sharer.Reconnect, sharer.UpdateSourceTaskId, viewer.Initialize)

_SHARER_ONLY_TAGS = frozenset(t.message_type for t in message_types(Channel.SHARER_UP)) - {"Ping"}


#: Bytes of randomness in each kind of secret.
_SECRET_BYTES = 12
_TOKEN_BYTES = 16


@dataclass(frozen=True, slots=True)
class EventFrame:
    """An event as it goes on the wire, encoded once when it arrived and sent as it is."""

    event_no: int
    text: str


@dataclass(frozen=True, slots=True)
class Send:
    conn: ConnId
    message: Message | EventFrame
    #: History a joining viewer catches up on: sent as the viewer reads it, not queued at
    #: once, so a long history never counts against how far behind a viewer may fall.
    paced: bool = False


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
    #: Tell a rejoining seat the task id it missed (see `Switches.replay_source_task_id_on_rejoin`).
    replay_source_task_id_on_rejoin: bool = False
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
        return join_route(self.session_id, self.secret.reveal())


@dataclass
class _Seat:
    viewer_id: str
    user: str
    role: Role
    conn: ConnId | None
    token: SeatToken
    #: Who took it, as `client_of` names a connection: the seat counts against them.
    client: str = ""
    #: The session's task id when the seat joined, as `JoinedSuccessfully` told it.
    source_task_id_at_join: str | None = None
    #: When the seat's link went; None while it has one.
    idle_since: float | None = None
    #: The parent session and seat a child pane joined through; its role never exceeds theirs.
    via: tuple[str, str] | None = None
    #: The role request waiting for the sharer's answer: (request id, role asked for).
    role_request: tuple[str, Role] | None = None


@dataclass
class _Session:
    manifest: Manifest
    #: Who made it, as `client_of` names a connection: what it holds counts against them.
    client: str = ""
    #: Event `n` is at index `n`: numbers start at 0 and leave no gaps.
    events: list[EventFrame] = field(default_factory=list)
    history_bytes: int = 0
    sharer_conn: ConnId | None = None
    seats: dict[str, _Seat] = field(default_factory=dict)
    ended: viewer.SessionEndedReason | None = None
    ended_at: float | None = None
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
    #: Who the connection is in notes: its address, or a simulated actor's name.
    peer: str = ""
    session_id: str | None = None
    viewer_id: str | None = None


def classify_route(resource: str) -> ConnKind | None:
    if is_sharer_route(resource):
        return ConnKind.SHARER
    if JoinRoute.parse(resource) is not None:
        return ConnKind.VIEWER
    return None


def _no_clock() -> float:
    """The time for a store nobody gave a clock: it stands still, so nothing expires."""
    return 0.0


class SessionStore:
    """Every session, every connection, and what each frame does to them."""

    def __init__(
        self,
        credentials: Credentials,
        switches: ServerSwitches | None = None,
        notes: Notes = SILENT,
        *,
        limits: SessionLimits | None = None,
        clock: Callable[[], float] = _no_clock,
    ) -> None:
        self._credentials = credentials
        self._notes = notes
        self._clock = clock
        self.switches = switches or ServerSwitches()
        self.limits = limits or SessionLimits()
        self.sessions: dict[str, _Session] = {}
        self._conns: dict[ConnId, _Conn] = {}
        self._viewer_numbers = 0
        self._role_requests = 0
        self._sharer_numbers = 0
        #: Ended lingering sessions, oldest end first: the first to go when room is needed.
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._history_bytes = 0
        #: Per client: its sessions and their history, as the per-client limits count them.
        self._client_sessions: dict[str, int] = {}
        self._client_bytes: dict[str, int] = {}
        #: Seats held in all sessions, and per client (the one who took each).
        self._seat_count = 0
        self._client_seats: dict[str, int] = {}
        #: No seat without a link expires before this; a full server sweeps no sooner.
        self._next_seat_expiry = 0.0
        self._next_sweep = 0.0
        self._repeats = Repeats(clock=self._clock)

    # -- connections -----------------------------------------------------------

    def connected(self, conn: ConnId, resource: str, *, peer: str = "") -> list[Action]:
        self._sweep()
        self.report_repeats()
        kind = classify_route(resource)
        if kind is None:
            return [Close(conn, CLOSE_POLICY, f"unknown route {urlsplit(resource).path}")]
        self._conns[conn] = _Conn(kind, resource, peer)
        return []

    def identified(self, conn: ConnId) -> bool:
        """Whether a connection has said who it is: a session accepted its share or join."""
        state = self._conns.get(conn)
        return state is not None and state.session_id is not None

    def disconnected(self, conn: ConnId) -> list[Action]:
        state = self._conns.pop(conn, None)
        self.report_repeats()
        if state is None or state.session_id is None:
            return []
        session = self.sessions.get(state.session_id)
        if session is None:
            return []
        if state.kind is ConnKind.VIEWER:
            seat = session.seats.get(state.viewer_id or "")
            if seat is not None and seat.conn == conn:
                seat.conn, seat.idle_since = None, self._clock()
                expiry = seat.idle_since + self.limits.seat_idle_s
                self._next_seat_expiry = min(self._next_seat_expiry, expiry)
            return []
        if session.sharer_conn != conn or session.ended is not None:
            return []
        session.sharer_conn = None
        session.grace_epoch += 1
        self._notes.info(
            "sharer_gone",
            peer=state.peer,
            session_id=session.session_id,
            grace_s=self.switches.sharer_grace_s,
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
        if isinstance(message, _KEPT):
            oversized = oversized_field(message, self.limits.max_field_chars)
            if oversized is not None:
                return self._too_long(conn, state, *oversized)
        if state.kind is ConnKind.SHARER:
            return self._from_sharer(conn, state, message)
        return self._from_viewer(conn, state, message)

    def malformed(self, conn: ConnId, error: str) -> list[Action]:
        """A frame that did not decode: say why, then close, as serde would fail the socket.

        A client still waiting for its first answer also gets the protocol's
        own refusal, so it fails the way it would on any other bad request.
        """
        state = self._conns.get(conn)
        actions = [] if state is None else self._first_answer_refusal(conn, state)
        actions.append(Close(conn, CLOSE_UNSUPPORTED_DATA, f"malformed frame: {error}"))
        return actions

    def _too_long(self, conn: ConnId, state: _Conn, field: str, chars: int) -> list[Action]:
        """Refuse a message with a string longer than the store keeps, saying which."""
        limit = self.limits.max_field_chars
        self._notes.warning(
            "field_too_long", peer=state.peer, field=field, chars=chars, limit=limit
        )
        reason = f"{field} is {chars} characters; at most {limit}"
        actions = self._first_answer_refusal(conn, state, reason)
        actions.append(Close(conn, CLOSE_TOO_BIG, reason))
        return actions

    def _first_answer_refusal(
        self, conn: ConnId, state: _Conn, details: str | None = None
    ) -> list[Action]:
        """The protocol's own refusal for a client still waiting for its first answer.

        A new share gets one only when there is something to say (`details`).
        """
        if state.session_id is not None:
            return []
        if state.kind is ConnKind.VIEWER:
            return [Send(conn, viewer.FailedToJoin(viewer.JoinFailureReason.INVALID))]
        if resumed_session(state.resource) is not None:
            invalid = sharer.ReconnectFailureReason.INVALID
            return [Send(conn, sharer.FailedToReconnect(invalid))]
        if details is not None:
            failed = sharer.FailedToInitializeSession(sharer.InternalServerError(details))
            return [Send(conn, failed)]
        return []

    def _unknown(self, conn: ConnId, state: _Conn, message: UnknownMessage) -> list[Action]:
        if state.kind is ConnKind.VIEWER and message.tag in _SHARER_ONLY_TAGS:
            self._notes.warning(
                "wrong_channel", peer=state.peer, tag=message.tag, kind=state.kind.value
            )
            reason = f"{message.tag} is a sharer message; a viewer may not send it"
            return [Close(conn, CLOSE_POLICY, reason)]
        # A newer peer's message: ignored, the connection stays.
        self._ignored(conn, state, message.tag)
        return []

    def _peer(self, conn: ConnId | None) -> str:
        """Who a connection is, for a note about it (the server's view, never the client's)."""
        state = None if conn is None else self._conns.get(conn)
        return "" if state is None else state.peer

    def _ignored(self, conn: ConnId, state: _Conn, tag: str) -> None:
        """Note an ignored message; a client repeating it gets a few lines, then a count."""
        if self._repeats.show(client_of(state.peer), "unknown_message_ignored"):
            self._notes.info(
                "unknown_message_ignored", tag=tag, kind=state.kind.value, peer=state.peer
            )
        self.report_repeats()

    def report_repeats(self, *, final: bool = False) -> None:
        """Say how many lines each client's windows that are over (all if `final`) left unlogged."""
        for unlogged in self._repeats.over(all_windows=final):
            self._notes.info(
                "repeats_not_logged",
                client=unlogged.client,
                repeated=unlogged.kind,
                count=unlogged.count,
                window_s=self._repeats.window_s,
            )

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
        if session.sharer_conn != conn:
            # A reconnect took the session over; this link's close is on its way.
            return [Close(conn, CLOSE_POLICY, "replaced by a reconnect")]
        if isinstance(message, OrderedTerminalEvent):
            return self._event(conn, session, message)
        if isinstance(message, sharer.EndSession):
            return [
                *self._end(session, _ended_reason(message.reason)),
                Close(conn, CLOSE_NORMAL, "session ended"),
            ]
        if isinstance(message, sharer.UpdateSourceTaskId):
            if not self.switches.push_source_task_id:
                # A server without the follow-up does not know this message.
                self._ignored(conn, state, "UpdateSourceTaskId")
                return []
            return self._update_source_task_id(session, message.source_task_id)
        if isinstance(message, sharer.RespondToRoleRequest):
            return self._role_answered(session, message)
        return [
            Close(conn, CLOSE_POLICY, f"{tag_of(message)} is not expected once the session is live")
        ]

    def _initialize(self, conn: ConnId, state: _Conn, payload: sharer.InitPayload) -> list[Action]:
        if resumed_session(state.resource) is not None:
            return [Close(conn, CLOSE_POLICY, f"Initialize must be sent on {CREATE_ROUTE}")]
        client = client_of(state.peer)
        full = self._room_for_a_session(client)
        if full is not None:
            self._notes.warning("session_refused", peer=state.peer, reason=full)
            details = f"{full}; try again when one has ended"
            return [
                Send(conn, sharer.FailedToInitializeSession(sharer.InternalServerError(details))),
                Close(conn, CLOSE_POLICY, f"session refused: {full}"),
            ]
        self._sharer_numbers += 1
        credentials = self._credentials
        manifest = Manifest(
            session_id=credentials.session_id(),
            source_type=payload.source_type,
            # A sharer from before the sidecar names its task only inside AmbientAgent.
            source_task_id=resolve_orchestrator_task_id(
                payload.source_type, payload.source_task_id
            ),
            sharer_id=f"sharer-{self._sharer_numbers}",
            owner=payload.user_id.anonymous_id,
            lifetime=payload.lifetime,
            link_role=payload.link_role,
            secret=SessionSecret(credentials.secret("sessions", _SECRET_BYTES)),
            token=ReconnectToken(credentials.secret("sessions", _TOKEN_BYTES)),
        )
        session = _Session(manifest, client, sharer_conn=conn)
        self.sessions[manifest.session_id] = session
        self._client_sessions[client] = self._client_sessions.get(client, 0) + 1
        state.session_id = manifest.session_id
        self._notes.info(
            "session_created",
            decision=True,
            peer=state.peer,
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
            ),
        ]

    def _reconnect(
        self, conn: ConnId, state: _Conn, payload: sharer.ReconnectPayload
    ) -> list[Action]:
        """Resume a session; the reply names the last event held, so the sharer resends the rest."""
        session_id = resumed_session(state.resource) or payload.session_id
        session = self._held(session_id)
        why = None
        if session is None or session.ended is not None:
            why = "no such session"
        elif not _matches(payload.session_secret.reveal(), session.manifest.secret):
            why = "wrong session secret"
        elif not _matches(payload.reconnect_token.reveal(), session.manifest.token):
            why = "wrong reconnect token"
        elif payload.user_id.anonymous_id != session.manifest.owner:
            why = "not the session's owner"
        if why is not None or session is None:
            # One answer for every failure, so a guess tells nothing about which ids exist.
            failure = sharer.ReconnectFailureReason.SESSION_NOT_FOUND
            self._notes.info(
                "reconnect_refused",
                decision=True,
                peer=state.peer,
                session_id=session_id,
                reason=failure.value,
                why=why,
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
            "sharer_reconnected",
            peer=state.peer,
            session_id=session.session_id,
            last_event_no=session.last_event_no,
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
                peer=self._peer(conn),
                session_id=session.session_id,
                event_no=event.event_no,
                expected=expected,
            )
            reason = f"event {event.event_no} out of order; expected {expected}"
            return [Close(conn, CLOSE_POLICY, reason)]
        frame = EventFrame(event.event_no, encode(event))
        refused = self._make_room_for(session, len(frame.text))
        if refused is not None:
            return self._terminate(conn, session, refused)
        session.events.append(frame)
        session.history_bytes += len(frame.text)
        self._history_bytes += len(frame.text)
        self._client_bytes[session.client] = self._client_bytes.get(session.client, 0) + len(
            frame.text
        )
        actions: list[Action] = [Send(conn, sharer.EventsProcessedAck(event.event_no))]
        actions += [Send(c, frame) for c in _viewer_conns(session)]
        return actions

    def _make_room_for(self, session: _Session, size: int) -> str | None:
        """Make room for `size` more bytes of history, or say which limit leaves none.

        Room comes only from sessions that have ended (the client's own
        first, then those of the clients holding the most history): a live
        session, or one waiting for its sharer to reconnect, is never ended
        to make room. When nothing ended is left, the session that does not
        fit is the one that ends.
        """
        limits = self.limits
        client = session.client
        if session.history_bytes + size > limits.max_session_history_bytes:
            return f"session history would pass {limits.max_session_history_bytes} bytes"
        per_client = limits.max_client_history_bytes
        while per_client is not None and self._client_bytes.get(client, 0) + size > per_client:
            if not self._forget_ended(client, "client history budget", only_own=True):
                return f"the history of {client}'s sessions would pass {per_client} bytes"
        while self._history_bytes + size > limits.max_history_bytes:
            if not self._forget_ended(client, "history budget"):
                return f"the server's history would pass {limits.max_history_bytes} bytes"
        return None

    def _forget_ended(self, client: str, why: str, *, only_own: bool = False) -> bool:
        """Forget one ended session to make room for `client`; whether there was one.

        `client`'s own oldest goes first; else (unless `only_own`) the oldest of
        the client holding the most history in ended sessions. Its viewers were
        told it ended when it did, so nobody is cut off by this.
        """
        ended = [self.sessions[i] for i in self._ended]
        victim = next((s for s in ended if s.client == client), None)
        if victim is None and not only_own and ended:
            held: dict[str, int] = {}
            for s in ended:
                held[s.client] = held.get(s.client, 0) + s.history_bytes + 1
            biggest = max(held, key=lambda c: (held[c], c))
            victim = next(s for s in ended if s.client == biggest)
        if victim is None:
            return False
        self._notes.info(
            "session_forgotten",
            decision=True,
            session_id=victim.session_id,
            client=victim.client,
            why=f"{why}: room for {client}",
        )
        self._forget(victim)
        return True

    def _terminate(self, conn: ConnId, session: _Session, reason: str) -> list[Action]:
        """End a session the server cannot hold any more of, telling the sharer why."""
        self._notes.warning(
            "session_terminated",
            peer=self._peer(conn),
            session_id=session.session_id,
            reason=reason,
        )
        return [
            Send(conn, sharer.SessionTerminated(sharer.ExceededSizeLimit())),
            *self._end(session, viewer.SessionEndedReason.EXCEEDED_SIZE_LIMIT),
            Close(conn, CLOSE_POLICY, reason),
        ]

    def _update_source_task_id(self, session: _Session, source_task_id: str) -> list[Action]:
        session.manifest = dataclasses.replace(session.manifest, source_task_id=source_task_id)
        self._notes.info(
            "source_task_id_updated",
            decision=True,
            peer=self._peer(session.sharer_conn),
            session_id=session.session_id,
            source_task_id=source_task_id,
        )
        update = viewer.SourceTaskIdUpdated(source_task_id)
        return [Send(c, update) for c in _viewer_conns(session)]

    def _end(self, session: _Session, reason: viewer.SessionEndedReason) -> list[Action]:
        """Tell every joined viewer; an ephemeral session is forgotten, a lingering one kept."""
        session.ended, session.ended_at = reason, self._clock()
        actions: list[Action] = []
        for c in _viewer_conns(session):
            actions += [
                Send(c, viewer.SessionEnded(reason)),
                Close(c, CLOSE_NORMAL, "session ended"),
            ]
        self._notes.info(
            "session_ended", decision=True, session_id=session.session_id, reason=reason.value
        )
        if session.manifest.lifetime is sharer.Lifetime.EPHEMERAL:
            self._forget(session)
        else:
            self._ended[session.session_id] = None
        return actions

    # -- what the store holds ----------------------------------------------------------

    def _held(self, session_id: str | None) -> _Session | None:
        """The session, unless it is unknown or has expired (then it is forgotten now)."""
        session = self.sessions.get(session_id or "")
        if session is not None and self._expired(session):
            self._forget(session, noting="expired")
            return None
        return session

    def _expired(self, session: _Session) -> bool:
        ended_at = session.ended_at
        return ended_at is not None and self._clock() >= ended_at + self.limits.linger_s

    def _seat(self, session: _Session, viewer_id: str | None) -> _Seat | None:
        """The seat, unless it is unknown or sat without a link too long (then it goes now)."""
        seat = session.seats.get(viewer_id or "")
        if seat is not None and self._seat_expired(seat):
            self._drop_seat(session, seat)
            return None
        return seat

    def _seat_expired(self, seat: _Seat) -> bool:
        idle_since = seat.idle_since
        return idle_since is not None and self._clock() >= idle_since + self.limits.seat_idle_s

    def _drop_seat(self, session: _Session, seat: _Seat) -> None:
        del session.seats[seat.viewer_id]
        self._seat_count -= 1
        self._client_seats[seat.client] -= 1
        if not self._client_seats[seat.client]:
            del self._client_seats[seat.client]

    def _drop_expired_seats(self, session: _Session) -> None:
        for seat in [s for s in session.seats.values() if self._seat_expired(s)]:
            self._drop_seat(session, seat)

    def _forget(self, session: _Session, *, noting: str | None = None) -> None:
        """Drop a session and its seats; `noting` is why, for a note nobody else made."""
        for seat in list(session.seats.values()):
            self._drop_seat(session, seat)
        del self.sessions[session.session_id]
        self._ended.pop(session.session_id, None)
        self._history_bytes -= session.history_bytes
        client = session.client
        self._client_bytes[client] = self._client_bytes.get(client, 0) - session.history_bytes
        self._client_sessions[client] = self._client_sessions.get(client, 0) - 1
        if not self._client_sessions[client]:
            del self._client_sessions[client], self._client_bytes[client]
        if noting is not None:
            self._notes.info("session_forgotten", session_id=session.session_id, why=noting)

    def _room_for_a_session(self, client: str) -> str | None:
        """Make room for a new session of `client`, or say which limit leaves none.

        At a cap, a session that has ended is forgotten (`client`'s own
        first); a live one, or one whose sharer may still reconnect, never
        is, whoever holds it, so the newcomer is refused instead.
        """
        self._sweep()
        per_client = self.limits.max_client_sessions
        if (
            per_client is not None
            and self._client_sessions.get(client, 0) >= per_client
            and not self._forget_ended(client, "client session limit", only_own=True)
        ):
            return f"{client} holds its limit of {per_client} sessions"
        limit = self.limits.max_sessions
        if len(self.sessions) >= limit and not self._forget_ended(client, "session limit"):
            return f"the server holds its limit of {limit} sessions"
        return None

    def _room_for_a_seat(self, client: str) -> str | None:
        """Whether `client` may take one more seat, or which limit leaves it none.

        Seats whose viewers are gone count until they expire: until then the
        viewer may rejoin, so no seat is taken from anyone to make room. At a
        cap, expired seats of every session are dropped first, at most once
        per expiry that can have come due.
        """
        per_client = self.limits.max_client_seats
        server = self.limits.max_server_seats
        for _ in range(2):
            if per_client is not None and self._client_seats.get(client, 0) >= per_client:
                full = f"{client} holds its limit of {per_client} viewer seats"
            elif server is not None and self._seat_count >= server:
                full = f"the server holds its limit of {server} viewer seats"
            else:
                return None
            if not self._sweep_seats():
                break
        return full

    def _sweep_seats(self) -> bool:
        """Drop every expired seat, if one can have expired since the last look; whether any did."""
        now = self._clock()
        if now < self._next_seat_expiry:
            return False
        before = self._seat_count
        next_expiry = float("inf")
        for session in self.sessions.values():
            self._drop_expired_seats(session)
            for seat in session.seats.values():
                if seat.idle_since is not None:
                    next_expiry = min(next_expiry, seat.idle_since + self.limits.seat_idle_s)
        self._next_seat_expiry = next_expiry
        return self._seat_count < before

    def _sweep(self) -> None:
        """Drop expired sessions and seats, at most once every `limits.sweep_every_s`."""
        now = self._clock()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.limits.sweep_every_s
        for session in list(self.sessions.values()):
            if self._expired(session):
                self._forget(session, noting="expired")
                continue
            self._drop_expired_seats(session)

    # -- viewer ------------------------------------------------------------------

    def _from_viewer(self, conn: ConnId, state: _Conn, message: object) -> list[Action]:
        if isinstance(message, Ping):
            return [Send(conn, Pong(message.data))]
        if state.session_id is not None:
            return self._from_joined_viewer(conn, state, message)
        if not isinstance(message, viewer.Initialize):
            return self._refuse(conn, None, viewer.JoinFailureReason.INVALID)
        route = JoinRoute.parse(state.resource)
        assert route is not None, "a viewer connection always has a join route"
        session = self._held(route.session_id)
        if session is None or not _matches(route.pwd, session.manifest.secret):
            # One answer for both, so a guess tells nothing about which ids exist.
            why = "no such session" if session is None else "wrong session secret"
            return self._refuse(
                conn, route.session_id, viewer.JoinFailureReason.SESSION_NOT_FOUND, why
            )
        payload = message.payload
        user = payload.user_id.anonymous_id
        cap = self._parent_role(route)
        if cap is None:
            return self._refuse(
                conn, route.session_id, viewer.JoinFailureReason.SESSION_NOT_ACCESSIBLE
            )
        if payload.viewer_id is not None:
            return self._rejoin(conn, state, session, payload, user)
        actions = self._join(conn, state, session, user, session.manifest.link_role.at_most(cap))
        seat = session.seats.get(state.viewer_id or "")
        if seat is not None and route.via_session is not None and route.via_viewer is not None:
            seat.via = (route.via_session, route.via_viewer)
        return actions

    def _parent_role(self, route: JoinRoute) -> Role | None:
        """The cap a parent share puts on a child join; Full when there is no parent.

        The parent seat must be the joiner's own, which only its token proves:
        seat ids are handed out in order and a user id is whatever a client says.
        """
        if route.via_session is None:
            return Role.FULL
        parent = self._held(route.via_session)
        seat = self._seat(parent, route.via_viewer) if parent else None
        if seat is None or not _matches(route.via_seat_token, seat.token):
            return None
        return seat.role

    def _join(
        self, conn: ConnId, state: _Conn, session: _Session, user: str, role: Role
    ) -> list[Action]:
        self._drop_expired_seats(session)
        reason = viewer.JoinFailureReason.MAX_NUMBER_OF_PARTICIPANTS_REACHED
        if len(session.seats) >= self.limits.max_seats:
            return self._refuse(conn, session.session_id, reason, "every seat is taken")
        client = client_of(state.peer)
        full = self._room_for_a_seat(client)
        if full is not None:
            self._notes.warning("seat_refused", peer=state.peer, reason=full)
            told = f"{full}; try again when one is free"
            return self._refuse(conn, session.session_id, reason, full, tell=told)
        self._viewer_numbers += 1
        viewer_id = f"viewer-{self._viewer_numbers}"
        token = SeatToken(self._credentials.secret("seats", _TOKEN_BYTES))
        manifest = session.manifest
        session.seats[viewer_id] = _Seat(
            viewer_id,
            user,
            role,
            conn,
            token,
            client,
            source_task_id_at_join=manifest.source_task_id,
        )
        self._seat_count += 1
        self._client_seats[client] = self._client_seats.get(client, 0) + 1
        state.session_id, state.viewer_id = session.session_id, viewer_id
        joined = viewer.JoinedSuccessfully(
            viewer_id=viewer_id,
            source_type=LegacySessionSourceType.of(manifest.source_type),
            detailed_source_type=manifest.source_type,
            source_task_id=manifest.source_task_id,
            latest_event_no=session.last_event_no,
            role=role,
            rejoin_token=token,
        )
        self._notes.info(
            "viewer_joined",
            peer=state.peer,
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
        Only the seat's token proves the seat is the rejoiner's: ids are handed
        out in order, so anyone could name one.
        """
        seat = self._seat(session, payload.viewer_id)
        token = payload.rejoin_token
        if (
            seat is None
            or seat.user != user
            or token is None
            or not _matches(token.reveal(), seat.token)
        ):
            reason = viewer.JoinFailureReason.INVALID
            return self._refuse(conn, session.session_id, reason, "not the seat's viewer")
        actions: list[Action] = []
        if seat.conn is not None and seat.conn != conn:
            actions.append(Close(seat.conn, CLOSE_POLICY, "replaced by a rejoin"))
        seat.conn, seat.idle_since = conn, None
        state.session_id, state.viewer_id = session.session_id, seat.viewer_id
        self._notes.info(
            "viewer_rejoined",
            peer=state.peer,
            session_id=session.session_id,
            viewer_id=seat.viewer_id,
            last_received_event_no=payload.last_received_event_no,
        )
        return [
            *actions,
            Send(conn, viewer.RejoinedSuccessfully()),
            *self._replayed_source_task_id(conn, session, seat),
            *self._catch_up(conn, session, payload.last_received_event_no),
        ]

    def _replayed_source_task_id(
        self, conn: ConnId, session: _Session, seat: _Seat
    ) -> list[Action]:
        """The task id pushed since the seat joined, which it may have missed while away.

        `RejoinedSuccessfully` carries no source fields, so without this a viewer that was
        offline when the push went out never learns the id. Sent on every rejoin of such a
        seat: the server cannot know whether a push reached a link that was going down, and
        a viewer that already has the id ignores it.
        """
        task_id = session.manifest.source_task_id
        if (
            not self.switches.replay_source_task_id_on_rejoin
            or task_id is None
            or task_id == seat.source_task_id_at_join
        ):
            return []
        self._notes.info(
            "source_task_id_replayed",
            decision=True,
            session_id=session.session_id,
            viewer_id=seat.viewer_id,
            source_task_id=task_id,
        )
        return [Send(conn, viewer.SourceTaskIdUpdated(task_id))]

    # -- a joined viewer's requests: prompts and role requests --------------------------

    def _from_joined_viewer(self, conn: ConnId, state: _Conn, message: object) -> list[Action]:
        session = self._held(state.session_id)
        seat = session.seats.get(state.viewer_id or "") if session else None
        if session is None or seat is None or seat.conn != conn:
            gone = f"{tag_of(message)} on a link the seat no longer has"
            return [Close(conn, CLOSE_POLICY, gone)]
        if isinstance(message, viewer.SendAgentPrompt):
            return self._prompt(conn, session, seat, message.request)
        if isinstance(message, viewer.RequestRole):
            return self._role_requested(conn, session, seat, message.role)
        return [Close(conn, CLOSE_POLICY, f"{tag_of(message)} after joining")]

    def _prompt(
        self, conn: ConnId, session: _Session, seat: _Seat, request: AgentPromptRequest
    ) -> list[Action]:
        """Relay an executor's prompt to the sharer, if it is aimed at this session's agent.

        A viewer acts only on the session it has open (the active pill's): a token
        for any other conversation is refused as the crate's `InvalidConversation`.
        """
        refusal = prompt_refusal(seat.role, request, session.manifest.source_task_id)
        if refusal is not None:
            reason, why = refusal
            self._notes.info(
                "prompt_refused",
                decision=True,
                peer=self._peer(conn),
                session_id=session.session_id,
                viewer_id=seat.viewer_id,
                reason=reason.value,
                why=why,
            )
            return [Send(conn, viewer.AgentPromptRequestFailed(reason))]
        actions: list[Action] = [Send(conn, viewer.AgentPromptRequestInFlight(request.id))]
        if session.sharer_conn is not None and session.ended is None:
            requested = sharer.AgentPromptRequested(request.id, seat.viewer_id, request)
            actions.append(Send(session.sharer_conn, requested))
        self._notes.info(
            "prompt_relayed",
            peer=self._peer(conn),
            session_id=session.session_id,
            viewer_id=seat.viewer_id,
        )
        return actions

    def _role_requested(
        self, conn: ConnId, session: _Session, seat: _Seat, role: Role
    ) -> list[Action]:
        """Request access: the viewer learns its request is pending, the sharer is asked."""
        if seat.role_request is not None:
            return [Send(conn, viewer.RoleRequestInFlight(seat.role_request[0]))]
        self._role_requests += 1
        request_id = f"role-request-{self._role_requests}"
        seat.role_request = (request_id, role)
        self._notes.info(
            "role_requested",
            decision=True,
            peer=self._peer(conn),
            session_id=session.session_id,
            viewer_id=seat.viewer_id,
            role=role.value,
        )
        actions: list[Action] = [Send(conn, viewer.RoleRequestInFlight(request_id))]
        if session.sharer_conn is not None:
            asked = sharer.RoleRequested(seat.viewer_id, request_id, role)
            actions.append(Send(session.sharer_conn, asked))
        return actions

    def _role_answered(
        self, session: _Session, answer: sharer.RespondToRoleRequest
    ) -> list[Action]:
        """The sharer's answer; an approved role is capped at the seat's parent role."""
        seat = session.seats.get(answer.participant_id)
        if seat is None or seat.role_request is None or seat.role_request[0] != answer.request_id:
            self._notes.info(
                "role_answer_ignored",
                peer=self._peer(session.sharer_conn),
                request_id=answer.request_id,
            )
            return []
        seat.role_request = None
        response = answer.response
        actions: list[Action] = []
        if isinstance(response, Approved):
            granted = response.new_role.at_most(self._seat_cap(seat))
            response = Approved(granted)
            seat.role = granted
        if seat.conn is not None:
            actions.append(Send(seat.conn, viewer.RoleRequestResponse(response)))
        if isinstance(response, Approved):
            changed = viewer.ParticipantRoleChanged(
                seat.viewer_id, RoleUpdatedReason.UPDATED_BY_SHARER, response.new_role
            )
            actions += [Send(c, changed) for c in _viewer_conns(session)]
            if session.sharer_conn is not None:
                told = sharer.ParticipantRoleChanged(seat.viewer_id, response.new_role)
                actions.append(Send(session.sharer_conn, told))
        self._notes.info(
            "role_answered",
            decision=True,
            peer=self._peer(session.sharer_conn),
            session_id=session.session_id,
            viewer_id=seat.viewer_id,
            answer=tag_of(response),
            role=seat.role.value,
        )
        return actions

    def _seat_cap(self, seat: _Seat) -> Role:
        """The most a seat may hold: its parent seat's role for a pane reached through one."""
        if seat.via is None:
            return Role.FULL
        parent = self._held(seat.via[0])
        parent_seat = self._seat(parent, seat.via[1]) if parent else None
        return parent_seat.role if parent_seat is not None else Role.READER

    def _catch_up(self, conn: ConnId, session: _Session, after: int | None) -> list[Action]:
        """Every event numbered above `after`, as the frames encoded when they arrived."""
        start = 0 if after is None else max(after + 1, 0)
        actions: list[Action] = [Send(conn, f, paced=True) for f in session.events[start:]]
        if session.ended is not None:
            actions += [
                Send(conn, viewer.SessionEnded(session.ended)),
                Close(conn, CLOSE_NORMAL, "session ended"),
            ]
        return actions

    def _refuse(
        self,
        conn: ConnId,
        session_id: str | None,
        reason: viewer.JoinFailureReason,
        why: str | None = None,
        *,
        tell: str | None = None,
    ) -> list[Action]:
        """Refuse a join; `why` is for the log only, `tell` the close's reason for the client.

        Only what reveals nothing about other sessions may be told: a limit, never
        whether an id exists.
        """
        self._notes.info(
            "join_refused",
            decision=True,
            peer=self._peer(conn),
            session_id=session_id,
            reason=reason.value,
            why=why,
        )
        return [
            Send(conn, viewer.FailedToJoin(reason)),
            Close(conn, CLOSE_POLICY, f"join refused: {tell or reason.value}"),
        ]

    # -- reads ---------------------------------------------------------------------

    def manifest(self, session_id: str) -> Manifest | None:
        session = self._held(session_id)
        return session.manifest if session else None

    def join_link(self, session_id: str) -> str | None:
        """The join route with its secret, or None for a session the server does not hold."""
        manifest = self.manifest(session_id)
        return manifest.join_link() if manifest else None


def _matches(given: str | None, expected: Secret) -> bool:
    """Compare a presented secret in constant time, so timing reveals none of it."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.reveal().encode("utf-8"))


def prompt_refusal(
    role: Role, request: AgentPromptRequest, source_task_id: str | None
) -> tuple[AgentPromptFailureReason, str] | None:
    """Why a seat's prompt is refused, in the crate's terms and in words; None to relay it."""
    if not role.can_execute:
        return AgentPromptFailureReason.INSUFFICIENT_PERMISSIONS, f"a {role.value} cannot prompt"
    token = request.server_conversation_token
    own = conversation_token(source_task_id) if source_task_id is not None else None
    if token is not None and token != own:
        return (
            AgentPromptFailureReason.INVALID_CONVERSATION,
            "the prompt names a conversation of another session; "
            "a viewer acts only on the session of its active pill",
        )
    return None


def _viewer_conns(session: _Session) -> list[ConnId]:
    return [seat.conn for seat in session.seats.values() if seat.conn is not None]


def _ended_reason(reason: sharer.SharerEndReason) -> viewer.SessionEndedReason:
    return viewer.SessionEndedReason(reason.value)
