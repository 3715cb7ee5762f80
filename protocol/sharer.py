"""Traffic between a sharer and the session server.

A sharer opens `/sessions/create` and sends `Initialize`; the server answers
`SessionInitialized` (or `FailedToInitializeSession`). After a dropped socket
the sharer sends `Reconnect`. Every name and field matches the real crate
except where a docstring says the simulation added it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias

from . import _unmodelled as filler
from ._fields import Shape, WireSpec
from ._refined import Usize, Uuid
from .common import FeatureSupport, Ping, Pong, UserId
from .events import OrderedTerminalEvent
from .message import Message
from .requests import AgentPromptRequest, RoleRequestAnswer
from .roles import Role
from .secrets import ReconnectToken, SessionSecret
from .source import SessionSourceType, User

# -- upstream (sharer to server) ---------------------------------------------------------------


class Lifetime(enum.Enum):
    """What happens to a session's contents once sharing ends."""

    EPHEMERAL = "Ephemeral"
    """Deleted at once."""
    LINGERING = "Lingering"
    """Kept for a while (a server detail), so a finished run can still be inspected."""


@dataclass(frozen=True, slots=True)
class InitPayload:
    """What a sharer declares when it creates a session.

    `source_type` and `source_task_id` are what a viewer later reads to find
    the orchestrator task behind the share.
    """

    wire: ClassVar[WireSpec] = WireSpec(
        extras={
            "scrollback": filler.SCROLLBACK,
            "active_prompt": "PS1",
            "window_size": filler.WINDOW_SIZE,
            "selection": "None",
            "init_block_id": filler.INIT_BLOCK_ID,
            "input_replica_id": filler.INPUT_REPLICA_ID,
            "telemetry_context": None,
            "universal_developer_input_context": None,
        },
        required=frozenset({"scrollback"}),
    )

    user_id: UserId
    lifetime: Lifetime = Lifetime.EPHEMERAL
    source_type: SessionSourceType = field(default_factory=User)
    source_task_id: str | None = None
    """The orchestrator task id, whatever the variant; lets `User` shares name their task."""
    feature_support: FeatureSupport = field(default_factory=FeatureSupport)
    link_role: Role = Role.READER
    """Added by the simulation: the role a link viewer gets (the real server keeps ACLs)."""


@dataclass(frozen=True, slots=True)
class Initialize(Message):
    """First frame on `/sessions/create`."""

    wire: ClassVar[WireSpec] = WireSpec(shape=Shape.NEWTYPE)

    payload: InitPayload


@dataclass(frozen=True, slots=True)
class ReconnectPayload:
    """Proof that a reconnecting sharer is the one that created the session."""

    wire: ClassVar[WireSpec] = WireSpec(
        extras={"latest_block_id": filler.INIT_BLOCK_ID, "selection": "None"}
    )

    session_secret: SessionSecret
    reconnect_token: ReconnectToken
    user_id: UserId
    session_id: str | None = None
    """Added by the simulation: the real server reads the session from the route."""
    last_sent_event_no: int | None = None
    """Added by the simulation: the last event the sharer sent before the drop."""
    feature_support: FeatureSupport = field(default_factory=FeatureSupport)


@dataclass(frozen=True, slots=True)
class Reconnect(Message):
    """Resume sharing after the server closed the socket."""

    wire: ClassVar[WireSpec] = WireSpec(shape=Shape.NEWTYPE)

    payload: ReconnectPayload


class SharerEndReason(enum.Enum):
    """Why a sharer ends its session (the crate's `sharer::SessionEndedReason`)."""

    ENDED_BY_SHARER = "EndedBySharer"
    INACTIVITY_LIMIT_REACHED = "InactivityLimitReached"
    EXCEEDED_SIZE_LIMIT = "ExceededSizeLimit"


@dataclass(frozen=True, slots=True)
class EndSession(Message):
    """Sent before the socket closes, so viewers learn why the session ended."""

    reason: SharerEndReason


@dataclass(frozen=True, slots=True)
class UpdateSourceTaskId(Message):
    """Not in the real crate: the proposed follow-up that upgrades a share's task id.

    An orchestrator learns its task id only at its first response; a viewer that
    joined before then would otherwise keep `source_task_id = None` for good.
    The server stores the id and pushes `SourceTaskIdUpdated` to viewers.
    """

    source_task_id: str


@dataclass(frozen=True, slots=True)
class RespondToRoleRequest(Message):
    """The sharer's answer to a viewer's role request; only the sharer answers them."""

    participant_id: str
    request_id: str
    response: RoleRequestAnswer


Upstream: TypeAlias = (
    Initialize
    | Reconnect
    | OrderedTerminalEvent
    | EndSession
    | Ping
    | UpdateSourceTaskId
    | RespondToRoleRequest
)

# -- downstream (server to sharer) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionInitialized(Message):
    """The session exists; the secret goes into the join link, the token into a Reconnect."""

    wire: ClassVar[WireSpec] = WireSpec(required=frozenset({"sharer_firebase_uid"}))

    session_id: Uuid
    session_secret: SessionSecret
    reconnect_token: ReconnectToken
    sharer_id: str
    sharer_firebase_uid: str = ""
    """A string, never null, on the real wire; empty when the simulation has no uid."""


@dataclass(frozen=True, slots=True)
class ScrollbackTooLarge:
    """The scrollback exceeds the user's quota; an empty struct so fields can be added."""

    wire: ClassVar[WireSpec] = WireSpec(shape=Shape.STRUCT)


class QuotaType(enum.Enum):
    """Which quota ran out."""

    BYTES_USED = "BytesUsed"
    SESSIONS_CREATED = "SessionsCreated"


@dataclass(frozen=True, slots=True)
class NoUserQuotaRemaining:
    """The sharer has no quota left of the given kind."""

    quota_type: QuotaType


@dataclass(frozen=True, slots=True)
class UserNotFound:
    """The sharer could not be tied to a user."""


@dataclass(frozen=True, slots=True)
class InternalServerError:
    """The server failed; `details` is for logs, never for matching on."""

    details: str


InitFailureReason: TypeAlias = (
    ScrollbackTooLarge | NoUserQuotaRemaining | UserNotFound | InternalServerError
)


@dataclass(frozen=True, slots=True)
class FailedToInitializeSession(Message):
    """Creation refused; the server processes nothing further on this socket."""

    reason: InitFailureReason


@dataclass(frozen=True, slots=True)
class SessionReconnected(Message):
    """Reconnect accepted: the sharer re-sends every event after `last_received_event_no`."""

    wire: ClassVar[WireSpec] = WireSpec(
        extras={"participant_list": filler.PARTICIPANT_LIST},
        required=frozenset({"participant_list"}),
    )

    last_received_event_no: Usize | None = None


class ReconnectFailureReason(enum.Enum):
    """Why a Reconnect was refused (the crate's `ReconnectionFailedReason`)."""

    INVALID = "Invalid"
    SESSION_NOT_FOUND = "SessionNotFound"
    WRONG_PASSWORD = "WrongPassword"
    WRONG_RECONNECTION_TOKEN = "WrongReconnectionToken"
    WRONG_FIREBASE_UID = "WrongFirebaseUid"
    NO_USER_QUOTA_REMAINING = "NoUserQuotaRemaining"
    SESSION_NOT_ACCESSIBLE = "SessionNotAccessible"


@dataclass(frozen=True, slots=True)
class FailedToReconnect(Message):
    """Reconnect refused; nothing further is processed."""

    reason: ReconnectFailureReason


@dataclass(frozen=True, slots=True)
class EventsProcessedAck(Message):
    """Every event up to this number is stored: the sharer may forget them."""

    latest_processed_event_no: Usize


@dataclass(frozen=True, slots=True)
class ExceededSizeLimit:
    """The session grew past its size limit."""


@dataclass(frozen=True, slots=True)
class QuotaExhausted:
    """The user ran out of quota mid-session (`NoUserQuotaRemaining {}` on the wire)."""

    wire: ClassVar[WireSpec] = WireSpec(tag="NoUserQuotaRemaining", shape=Shape.STRUCT)


TerminationReason: TypeAlias = InternalServerError | ExceededSizeLimit | QuotaExhausted


@dataclass(frozen=True, slots=True)
class SessionTerminated(Message):
    """The server ended the session; terminal."""

    reason: TerminationReason


@dataclass(frozen=True, slots=True)
class RoleRequested(Message):
    """A viewer asks the sharer for `role`."""

    participant_id: str
    request_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class ParticipantRoleChanged(Message):
    """A viewer's role changed (the sharer's version carries no reason)."""

    participant_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class AgentPromptRequested(Message):
    """A viewer with an executing role prompts this session's agent."""

    id: str
    participant_id: str
    request: AgentPromptRequest


Downstream: TypeAlias = (
    SessionInitialized
    | FailedToInitializeSession
    | SessionReconnected
    | FailedToReconnect
    | EventsProcessedAck
    | SessionTerminated
    | Pong
    | RoleRequested
    | ParticipantRoleChanged
    | AgentPromptRequested
)
