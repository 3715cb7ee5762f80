"""What a viewer may ask of a shared session: agent prompts and role requests.

These are the crate's shapes for the two interactive flows sharesim models:
an executor prompting the agent of the session it is viewing, and a reader
asking the sharer for a stronger role. The crate's conversation token is a
UUID; the simulation derives it from the run id (`conversation_token`), so
the server can tell which session's conversation a prompt is aimed at.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from ._fields import WireSpec
from ._refined import Uuid
from .roles import Role

#: The namespace the simulation's conversation tokens are drawn from.
_CONVERSATIONS = uuid.UUID("6f1d2c3b-5a4e-4b7c-9d8e-0a1b2c3d4e5f")


def conversation_token(task_id: str) -> str:
    """The server conversation token of the run `task_id`'s conversation (a UUID string)."""
    return str(uuid.uuid5(_CONVERSATIONS, task_id))


@dataclass(frozen=True, slots=True)
class AgentPromptRequest:
    """A viewer's prompt; a null token starts a new conversation in the session."""

    wire: ClassVar[WireSpec] = WireSpec(extras={"attachments": []})

    id: str
    server_conversation_token: Uuid | None
    prompt: str


class AgentPromptFailureReason(enum.Enum):
    """Why a prompt was refused (the crate's `AgentPromptFailureReason`)."""

    INSUFFICIENT_PERMISSIONS = "InsufficientPermissions"
    INVALID_CONVERSATION = "InvalidConversation"
    """The token names no conversation of this session: a viewer acts only where it looks."""
    COMMAND_IN_PROGRESS = "CommandInProgress"


class RoleUpdatedReason(enum.Enum):
    """Why a viewer's role changed, as viewers are told."""

    UPDATED_BY_SHARER = "UpdatedBySharer"
    INACTIVITY_LIMIT_REACHED = "InactivityLimitReached"


class RoleRequestRejectedReason(enum.Enum):
    REJECTED_BY_SHARER = "RejectedBySharer"


@dataclass(frozen=True, slots=True)
class Approved:
    new_role: Role


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: RoleRequestRejectedReason = RoleRequestRejectedReason.REJECTED_BY_SHARER


RoleRequestAnswer: TypeAlias = Approved | Rejected
"""The crate's `RoleRequestResponse` enum (the message of that name carries one)."""
