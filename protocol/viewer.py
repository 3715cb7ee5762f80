"""Traffic between a viewer and the session server.

A viewer opens `/sessions/join/{session_id}?pwd=...` and sends `Initialize`.
A first join is answered by `JoinedSuccessfully`, which carries the share's
source fields; a rejoin (with `viewer_id` and `last_received_event_no`) by
`RejoinedSuccessfully`, which does not, so a viewer keeps what it learnt first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias

from . import _unmodelled as filler
from ._fields import Shape, WireSpec
from ._refined import Usize
from .common import FeatureSupport, Ping, Pong, UserId
from .events import OrderedTerminalEvent
from .message import Message
from .requests import (
    AgentPromptFailureReason,
    AgentPromptRequest,
    RoleRequestAnswer,
    RoleUpdatedReason,
)
from .roles import Role
from .secrets import SeatToken
from .source import LegacySessionSourceType, SessionSourceType, User

# -- upstream (viewer to server) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ViewerInitPayload:
    """A join, or a rejoin when `viewer_id` and `last_received_event_no` are set."""

    wire: ClassVar[WireSpec] = WireSpec(extras={"telemetry_context": None})

    user_id: UserId
    viewer_id: str | None = None
    last_received_event_no: Usize | None = None
    """On a rejoin the server sends only events numbered above this."""
    latest_block_id: str | None = None
    feature_support: FeatureSupport = field(default_factory=FeatureSupport)
    rejoin_token: SeatToken | None = None
    """Added by the simulation: the seat's token from `JoinedSuccessfully`; a rejoin needs it."""


@dataclass(frozen=True, slots=True)
class Initialize(Message):
    """First frame on `/sessions/join/{session_id}`."""

    wire: ClassVar[WireSpec] = WireSpec(shape=Shape.NEWTYPE)

    payload: ViewerInitPayload


@dataclass(frozen=True, slots=True)
class SendAgentPrompt(Message):
    """Prompt the agent of this session; needs a role that can execute."""

    wire: ClassVar[WireSpec] = WireSpec(shape=Shape.NEWTYPE)

    request: AgentPromptRequest


@dataclass(frozen=True, slots=True)
class RequestRole(Message):
    """Ask the sharer for a role (request access); at most one request is pending."""

    wire: ClassVar[WireSpec] = WireSpec(shape=Shape.NEWTYPE)

    role: Role


Upstream: TypeAlias = Initialize | Ping | SendAgentPrompt | RequestRole

# -- downstream (server to viewer) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinedSuccessfully(Message):
    """A first join succeeded.

    Catch-up events up to `latest_event_no` follow (None: there are none). The
    source triple is what orchestration discovery starts from: old viewers read
    only the legacy `source_type`, new ones `source_task_id` and then
    `detailed_source_type`.
    """

    wire: ClassVar[WireSpec] = WireSpec(
        extras={
            "scrollback": filler.SCROLLBACK,
            "active_prompt": "PS1",
            "window_size": filler.WINDOW_SIZE,
            "participant_list": filler.PARTICIPANT_LIST,
            "init_block_id": filler.INIT_BLOCK_ID,
            "input_replica_id": filler.INPUT_REPLICA_ID,
            "universal_developer_input_context": None,
        },
        required=frozenset({"scrollback", "participant_list", "viewer_firebase_uid"}),
    )

    viewer_id: str
    source_type: LegacySessionSourceType = LegacySessionSourceType.USER
    """Deprecated in the crate, kept for old viewers: the detailed type without its task id."""
    detailed_source_type: SessionSourceType = field(default_factory=User)
    source_task_id: str | None = None
    latest_event_no: Usize | None = None
    role: Role = Role.READER
    """Added by the simulation; the real server conveys roles in the participant list."""
    viewer_firebase_uid: str = ""
    """A string, never null, on the real wire; empty when the simulation has no uid."""
    rejoin_token: SeatToken | None = None
    """Added by the simulation: proves a later rejoin is this seat's viewer; the real server
    ties seats to signed-in users instead."""


@dataclass(frozen=True, slots=True)
class RejoinedSuccessfully(Message):
    """A rejoin succeeded; only events after the viewer's last one follow."""

    wire: ClassVar[WireSpec] = WireSpec(extras={"participant_list": filler.PARTICIPANT_LIST})


class JoinFailureReason(enum.Enum):
    """Why a join was refused (the crate's `FailedToJoinReason`)."""

    INVALID = "Invalid"
    SESSION_NOT_FOUND = "SessionNotFound"
    WRONG_PASSWORD = "WrongPassword"
    INTERNAL_SERVER_ERROR = "InternalServerError"
    MAX_NUMBER_OF_PARTICIPANTS_REACHED = "MaxNumberOfParticipantsReached"
    SESSION_NOT_ACCESSIBLE = "SessionNotAccessible"


@dataclass(frozen=True, slots=True)
class FailedToJoin(Message):
    """Join refused; terminal."""

    reason: JoinFailureReason


class SessionEndedReason(enum.Enum):
    """Why a viewer's session ended."""

    INTERNAL_SERVER_ERROR = "InternalServerError"
    ENDED_BY_SHARER = "EndedBySharer"
    INACTIVITY_LIMIT_REACHED = "InactivityLimitReached"
    EXCEEDED_SIZE_LIMIT = "ExceededSizeLimit"
    """Deprecated in the crate, still decodable."""


@dataclass(frozen=True, slots=True)
class SessionEnded(Message):
    """The session is over; terminal."""

    reason: SessionEndedReason


@dataclass(frozen=True, slots=True)
class SourceTaskIdUpdated(Message):
    """Not in the real crate: the proposed push of a share's upgraded orchestrator task id.

    Fixes viewers that joined before the orchestrator's first response and so
    saw `source_task_id = None`.
    """

    source_task_id: str


@dataclass(frozen=True, slots=True)
class AgentPromptRequestInFlight(Message):
    """The prompt went on to the sharer; its answer streams in as response events."""

    wire: ClassVar[WireSpec] = WireSpec(shape=Shape.NEWTYPE)

    request_id: str


@dataclass(frozen=True, slots=True)
class AgentPromptRequestFailed(Message):
    """The prompt was refused, by the server or by the sharer."""

    reason: AgentPromptFailureReason


@dataclass(frozen=True, slots=True)
class RoleRequestInFlight(Message):
    """The role request reached the server and waits for the sharer."""

    wire: ClassVar[WireSpec] = WireSpec(shape=Shape.NEWTYPE)

    request_id: str


@dataclass(frozen=True, slots=True)
class RoleRequestResponse(Message):
    """The sharer's answer to this viewer's role request."""

    wire: ClassVar[WireSpec] = WireSpec(shape=Shape.NEWTYPE)

    response: RoleRequestAnswer


@dataclass(frozen=True, slots=True)
class ParticipantRoleChanged(Message):
    """A participant of this session has a new role; every viewer is told."""

    participant_id: str
    reason: RoleUpdatedReason
    role: Role


Downstream: TypeAlias = (
    JoinedSuccessfully
    | RejoinedSuccessfully
    | FailedToJoin
    | OrderedTerminalEvent
    | SessionEnded
    | Pong
    | SourceTaskIdUpdated
    | AgentPromptRequestInFlight
    | AgentPromptRequestFailed
    | RoleRequestInFlight
    | RoleRequestResponse
    | ParticipantRoleChanged
)
