"""One viewer connection to one shared session: join, catch up, rejoin, end.

A viewer has one of these for the session its link opened and one per hidden
child pane. Its `ReconnectingLink` hands frames back to the owning actor (as
`ViewFrame`), where `handle_frame` turns them into the changes the viewer acts
on. After a lost connection the view rejoins with its viewer id and the last
event number it holds, backing off 1 s and growing 1.2 times like the client,
so it receives exactly the events it missed. A first join that cannot connect
is retried the same way, so a child pane opened during an outage still loads
once the network is back; a view that spends every attempt tells its owner it
gave up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from actors.links.reconnecting import Dial, LinkOwner, ReconnectingLink
from actors.rules.pill_bar import PaneState
from actors.rules.viewer_client import Surface
from actors.runtime.actor import Owner
from actors.runtime.transport import Link, Network
from protocol import AgentExchange, OrderedTerminalEvent, SeatToken, UserId, viewer
from protocol.requests import AgentPromptFailureReason, Approved, RoleRequestAnswer
from protocol.roles import Role
from protocol.routes import joined_session

_log = structlog.get_logger("sharesim.session_view")


@dataclass(frozen=True, slots=True)
class ViewFrame:
    view: SessionView
    message: object


@dataclass(frozen=True, slots=True)
class ViewLinkEnded:
    view: SessionView
    link: Link


@dataclass(frozen=True, slots=True)
class Joined:
    message: viewer.JoinedSuccessfully


@dataclass(frozen=True, slots=True)
class ExchangeReceived:
    exchange: AgentExchange


@dataclass(frozen=True, slots=True)
class SourceTaskIdPushed:
    source_task_id: str


@dataclass(frozen=True, slots=True)
class GaveUp:
    """Handed to the owner (as a `ViewFrame`) when every connection attempt failed."""

    attempts: int


@dataclass(frozen=True, slots=True)
class Ended:
    reason: str


@dataclass(frozen=True, slots=True)
class PromptAnswered:
    """The server relayed (`failure` None) or refused the oldest prompt sent on this view."""

    request_id: str | None
    failure: AgentPromptFailureReason | None = None


@dataclass(frozen=True, slots=True)
class RoleAnswered:
    """The sharer answered this view's role request."""

    response: RoleRequestAnswer


ViewChange = Joined | ExchangeReceived | SourceTaskIdPushed | Ended | PromptAnswered | RoleAnswered


@dataclass
class SessionView:
    """See the module docstring. `key` names the view for its owner ("root" or a task id)."""

    owner: Owner[ViewFrame | ViewLinkEnded]
    network: Network
    key: str
    route: str
    user: str
    server: str = "session-server"
    state: PaneState = PaneState.LOADING
    viewer_id: str | None = None
    #: The seat's token from `JoinedSuccessfully`; a rejoin shows it.
    rejoin_token: SeatToken | None = None
    last_event_no: int | None = None
    ended: bool = False
    joined: viewer.JoinedSuccessfully | None = None
    transcript: list[AgentExchange] = field(default_factory=list)
    #: A view the person sees (the link they opened) or a hidden child pane.
    surface: Surface = Surface.VISIBLE
    #: The seat's role now: granted on joining, changed by the sharer since.
    role: Role = Role.READER
    #: Prompts sent and not yet answered, oldest first (a refusal names no request).
    pending_prompts: list[str] = field(default_factory=list)
    #: Every event that did not follow the one before it (a repeat or a gap), in words,
    #: so invariant checks can report what the server got wrong.
    sequence_errors: list[str] = field(default_factory=list)
    _connection: ReconnectingLink[ViewFrame | ViewLinkEnded] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._connection = ReconnectingLink(
            LinkOwner(
                actor=self.owner,
                wanted=lambda: not self.ended,
                frame=lambda message: ViewFrame(self, message),
                ended=lambda link: ViewLinkEnded(self, link),
                gave_up=self._gave_up,
            ),
            self.network,
            server=self.server,
            name="view",
            log=_log.bind(view=self.key),
        )

    @property
    def session_id(self) -> str:
        """The session this view's join route opens."""
        return joined_session(self.route)

    async def open(self) -> None:
        """First join; a refused connection is retried in the background."""
        await self._connection.open(self._join())

    def _join(self) -> Dial:
        """Join (or rejoin) by the route, naming what this view already holds, if anything."""
        return Dial(self.route, self._initialize)

    def _initialize(self) -> viewer.Initialize:
        payload = viewer.ViewerInitPayload(
            user_id=UserId(self.user),
            viewer_id=self.viewer_id,
            last_received_event_no=self.last_event_no,
            rejoin_token=self.rejoin_token,
        )
        return viewer.Initialize(payload)

    def send(self, message: viewer.Upstream) -> bool:
        """Send on the live link; False when the view has none (not joined, or between links)."""
        if not self._connection.is_open or self.joined is None or self.ended:
            return False
        if isinstance(message, viewer.SendAgentPrompt):
            self.pending_prompts.append(message.request.id)
        self._connection.send(message)
        return True

    def handle_frame(self, message: object) -> ViewChange | None:
        if isinstance(message, viewer.JoinedSuccessfully):
            self.joined = message
            self.viewer_id, self.rejoin_token = message.viewer_id, message.rejoin_token
            self.state = PaneState.LOADED
            self.role = message.role
            return Joined(message)
        if isinstance(message, viewer.AgentPromptRequestInFlight):
            if message.request_id in self.pending_prompts:
                self.pending_prompts.remove(message.request_id)
            return PromptAnswered(message.request_id)
        if isinstance(message, viewer.AgentPromptRequestFailed):
            oldest = self.pending_prompts.pop(0) if self.pending_prompts else None
            return PromptAnswered(oldest, message.reason)
        if isinstance(message, viewer.RoleRequestResponse):
            if isinstance(message.response, Approved):
                self.role = message.response.new_role
            return RoleAnswered(message.response)
        if isinstance(message, viewer.ParticipantRoleChanged):
            if message.participant_id == self.viewer_id:
                self.role = message.role
            return None
        if isinstance(message, viewer.RejoinedSuccessfully):
            _log.info("view_rejoined", view=self.key, after=self.last_event_no)
            # Answers to prompts sent on the lost link went with it; none will come now.
            self.pending_prompts.clear()
            return None
        if isinstance(message, OrderedTerminalEvent):
            return self._event(message)
        if isinstance(message, viewer.SourceTaskIdUpdated):
            return SourceTaskIdPushed(message.source_task_id)
        if isinstance(message, viewer.FailedToJoin):
            self.ended = True
            if self.joined is None:
                self.state = PaneState.UNAVAILABLE
            return Ended(f"failed to join: {message.reason.value}")
        if isinstance(message, viewer.SessionEnded):
            self.ended = True
            return Ended(f"ended: {message.reason.value}")
        if isinstance(message, GaveUp):
            self.ended = True
            if self.joined is None:
                self.state = PaneState.UNAVAILABLE
            return Ended(f"gave up after {message.attempts} connection attempts")
        return None

    def _event(self, event: OrderedTerminalEvent) -> ViewChange | None:
        """Events arrive exactly once and in order from 0; a repeat is dropped, a gap noted."""
        expected = 0 if self.last_event_no is None else self.last_event_no + 1
        if event.event_no < expected:
            self.sequence_errors.append(f"event {event.event_no} again after {self.last_event_no}")
            _log.error(
                "duplicate_event", view=self.key, event_no=event.event_no, last=self.last_event_no
            )
            return None
        if event.event_no > expected:
            self.sequence_errors.append(f"event {event.event_no} where {expected} was due")
            _log.error("event_gap", view=self.key, event_no=event.event_no, expected=expected)
        self.last_event_no = event.event_no
        exchange = AgentExchange.from_event(event.event_type)
        if exchange is None:
            return None
        self.transcript.append(exchange)
        return ExchangeReceived(exchange)

    def link_ended(self, link: Link) -> None:
        """Rejoin (or join again, if never joined) in the background unless the view is over."""
        if self._connection.needs_redial(link):
            self._connection.redial(self._join())

    async def _gave_up(self, attempts: int) -> None:
        _log.warning("view_gave_up", decision=True, view=self.key, attempts=attempts)
        await self.owner.tell_self(ViewFrame(self, GaveUp(attempts)))

    async def close(self) -> None:
        """End the view: no rejoin follows, and the link closes once its frames have left.

        Cancelled while waiting, the link still closes behind the caller (see
        `ReconnectingLink.close`).
        """
        self.ended = True
        await self._connection.close()
