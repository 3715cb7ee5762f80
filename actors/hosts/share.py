"""The sharer side of one shared session: create it, stream events, resume, end.

`Share` belongs to an agent actor. Its `ReconnectingLink` hands every frame
back to that actor (as `ShareFrame`), so the share's state only changes inside
the actor's `handle`. Connecting and closing run as tasks of the actor's own,
so its mailbox never waits on the network. Events are numbered from 0 and kept until the server
acknowledges them; after a dropped link the share reconnects with its token
(backing off 1 s, growing 1.2 times, as the client does) and re-sends whatever
the server says it is missing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import structlog

from actors.links.reconnecting import Dial, LinkOwner, ReconnectingLink
from actors.rules.cascade import ShareSource
from actors.runtime.actor import Owner
from actors.runtime.transport import Link, Network
from protocol import OrderedTerminalEvent, OrderedTerminalEventType, UserId, sharer
from protocol.requests import Approved, Rejected, RoleRequestAnswer
from protocol.roles import Role
from protocol.routes import CREATE_ROUTE, join_route, resume_route
from protocol.secrets import ReconnectToken, SessionSecret

_log = structlog.get_logger("sharesim.share")


class ShareStatus(enum.Enum):
    PENDING = "pending"
    ACTIVE = "active"
    RECONNECTING = "reconnecting"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class ShareFrame:
    """A frame from the session server for `share`, handed to the owning actor."""

    share: Share
    message: object


@dataclass(frozen=True, slots=True)
class ShareLinkEnded:
    share: Share
    link: Link


@dataclass(frozen=True, slots=True)
class ShareEstablished:
    """The session exists: viewers may join it by `join_route`."""

    session_id: str
    join_route: str


@dataclass(frozen=True, slots=True)
class ShareLost:
    """The share ended without the owner asking (refused, terminated, or never resumed)."""

    reason: str


@dataclass(frozen=True, slots=True)
class AnswerRoleRequests:
    """The sharer answers every role request waiting on its share: approve or reject."""

    approve: bool


class Share:
    """One sharer connection; see the module docstring."""

    def __init__(
        self,
        owner: Owner[ShareFrame | ShareLinkEnded],
        network: Network,
        source: ShareSource,
        *,
        user: str,
        lifetime: sharer.Lifetime = sharer.Lifetime.EPHEMERAL,
        link_role: Role = Role.READER,
        server: str = "session-server",
    ) -> None:
        self.owner = owner
        self.source = source
        self._user = UserId(user)
        self._lifetime = lifetime
        self._link_role = link_role
        self.status = ShareStatus.PENDING
        self.session_id: str | None = None
        self.join_route: str | None = None
        self._secret: SessionSecret | None = None
        self._token: ReconnectToken | None = None
        self._connection = ReconnectingLink(
            LinkOwner(
                actor=owner,
                wanted=lambda: self.status is not ShareStatus.ENDED,
                frame=lambda message: ShareFrame(self, message),
                ended=lambda link: ShareLinkEnded(self, link),
                gave_up=self._gave_up,
            ),
            network,
            server=server,
            name="share",
            log=_log,
        )
        self._next_no = 0
        self._unacked: list[OrderedTerminalEvent] = []
        self._source_update_pending = False
        #: Role requests waiting for the sharer, in arrival order.
        self.role_requests: list[sharer.RoleRequested] = []

    def __repr__(self) -> str:
        return f"Share({self.owner.name}, {self.session_id or 'pending'}, {self.status.value})"

    # -- lifecycle ---------------------------------------------------------------

    def open(self) -> None:
        """Connect and send Initialize in the background, retrying while the server is away.

        The Initialize carries the source as it is now, when the user asked to share;
        `ShareEstablished` follows through `handle`.
        """
        self.owner.spawn(
            self._connection.open, self._create(), name=f"{self.owner.name}:share-open"
        )

    def _create(self) -> Dial:
        """Create the session; every retry sends this same Initialize (updates follow it)."""
        initialize = sharer.Initialize(
            sharer.InitPayload(
                user_id=self._user,
                lifetime=self._lifetime,
                source_type=self.source.source_type,
                source_task_id=self.source.source_task_id,
                link_role=self._link_role,
            )
        )
        return Dial(CREATE_ROUTE, lambda: initialize)

    def _resume(self) -> Dial:
        """Resume the session with its token; the server then says which events it has."""
        assert self._secret is not None
        assert self._token is not None
        assert self.session_id is not None
        reconnect = sharer.Reconnect(
            sharer.ReconnectPayload(
                session_secret=self._secret,
                reconnect_token=self._token,
                user_id=self._user,
                session_id=self.session_id,
            )
        )
        return Dial(resume_route(self.session_id), lambda: reconnect)

    async def _gave_up(self, attempts: int) -> None:
        """Every try failed: the share is over, as the client's is."""
        if self.session_id is None:
            _log.warning("share_gave_up", attempts=attempts)
        else:
            _log.warning("share_gave_up", session_id=self.session_id, attempts=attempts)
        self.status = ShareStatus.ENDED

    def stop(self) -> None:
        """End the session for every viewer and close the link, in the background.

        EndSession leaves after every event already sent; a share stopped while
        its first dial is under way sends nothing (see `ReconnectingLink`). The
        agent being cancelled drops what is queued (see `ReconnectingLink.close`).
        """
        if self.status is ShareStatus.ENDED:
            return
        self.status = ShareStatus.ENDED
        farewell = sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER)
        self.owner.spawn(self._connection.close, farewell, name=f"{self.owner.name}:share-close")

    # -- events --------------------------------------------------------------------

    def append(self, event_type: OrderedTerminalEventType) -> None:
        """Number an event and send it now, or as soon as the share is (again) live."""
        if self.status is ShareStatus.ENDED:
            return
        event = OrderedTerminalEvent(self._next_no, event_type)
        self._next_no += 1
        self._unacked.append(event)
        if self.status is ShareStatus.ACTIVE:
            self._connection.send(event)

    def push_source_task_id(self, task_id: str) -> None:
        """The follow-up: tell the server (and so every viewer) the upgraded task id.

        A share that is not live yet (still pending, or resuming) sends it as soon as it
        is, since the server would otherwise keep the id the share started with.
        """
        self.source = ShareSource(self.source.source_type, task_id)
        self._source_update_pending = True
        if self.status is ShareStatus.ACTIVE:
            self._send_source_update()

    def _send_source_update(self) -> None:
        task_id = self.source.source_task_id
        if not self._source_update_pending or task_id is None:
            return
        if not self._connection.is_open:
            return  # sent again once the share is back
        self._connection.send(sharer.UpdateSourceTaskId(task_id))
        self._source_update_pending = False

    # -- frames --------------------------------------------------------------------

    def handle_frame(self, message: object) -> ShareEstablished | ShareLost | None:
        """Apply a frame from the server; returns what the owner must react to, if anything.

        A share stopped before its frames were read stays stopped: a late
        SessionInitialized must not bring it back to life.
        """
        if self.status is ShareStatus.ENDED:
            return None
        if isinstance(message, sharer.SessionInitialized):
            self.session_id = message.session_id
            self._secret, self._token = message.session_secret, message.reconnect_token
            self.join_route = join_route(message.session_id, message.session_secret.reveal())
            self._go_live(after=None)
            return ShareEstablished(self.session_id, self.join_route)
        if isinstance(message, sharer.EventsProcessedAck):
            self._unacked = [
                e for e in self._unacked if e.event_no > message.latest_processed_event_no
            ]
        elif isinstance(message, sharer.SessionReconnected):
            _log.info(
                "share_resumed",
                session_id=self.session_id,
                server_has=message.last_received_event_no,
            )
            self._go_live(after=message.last_received_event_no)
        elif isinstance(message, sharer.FailedToInitializeSession | sharer.FailedToReconnect):
            self.status = ShareStatus.ENDED
            return ShareLost(f"{message.message_type}: {message.reason!r}")
        elif isinstance(message, sharer.SessionTerminated):
            self.status = ShareStatus.ENDED
            return ShareLost(f"terminated: {message.reason!r}")
        elif isinstance(message, sharer.RoleRequested):
            self.role_requests.append(message)
        elif isinstance(message, sharer.AgentPromptRequested | sharer.ParticipantRoleChanged):
            # What the agent does with a prompt is outside the model; it is logged.
            _log.info(message.message_type, participant_id=message.participant_id)
        return None

    def answer_role_requests(self, approve: bool) -> None:
        """Answer every waiting role request, as the sharer's access dialog does."""
        if not self._connection.is_open or self.status is not ShareStatus.ACTIVE:
            return
        for request in self.role_requests:
            answer: RoleRequestAnswer = Approved(request.role) if approve else Rejected()
            self._connection.send(
                sharer.RespondToRoleRequest(request.participant_id, request.request_id, answer)
            )
        self.role_requests = []

    def _go_live(self, *, after: int | None) -> None:
        self.status = ShareStatus.ACTIVE
        for event in self._unacked:
            if after is None or event.event_no > after:
                self._connection.send(event)
        self._send_source_update()

    def link_ended(self, link: Link) -> None:
        """The link went away; unless we ended it, try to resume in the background."""
        if not self._connection.needs_redial(link):
            return
        if self.session_id is None:
            # Lost before the session existed: create it again, as a new share would.
            self._connection.redial(self._create())
            return
        self.status = ShareStatus.RECONNECTING
        self._connection.redial(self._resume())
