"""Ordered terminal events, and the agent exchanges the simulation carries inside them.

The session server numbers nothing itself: the sharer numbers each event, the
server relays it, and viewers resume by `event_no`.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import functools
import json
from dataclasses import dataclass
from typing import TypeAlias

from ._fields import decode_variant, dumps, encode_variant, variant_tag
from ._refined import Usize
from .common import WindowSize
from .errors import ProtocolError
from .message import Message


@dataclass(frozen=True, slots=True)
class PtyBytesRead:
    """Output read off the sharer's PTY."""

    bytes: builtins.bytes


@dataclass(frozen=True, slots=True)
class AiCommandMetadata:
    """Ties a command block to the agent tool call that ran it."""

    tool_call_id: str
    is_agent_monitored: bool = False


@dataclass(frozen=True, slots=True)
class CommandExecutionStarted:
    """A command began; `ai_metadata` is set when an agent ran it."""

    participant_id: str
    ai_metadata: AiCommandMetadata | None = None


@dataclass(frozen=True, slots=True)
class CommandExecutionFinished:
    """A command ended; output after this belongs to `next_block_id`."""

    next_block_id: str


@dataclass(frozen=True, slots=True)
class Resize:
    """The sharer's terminal changed size."""

    window_size: WindowSize


@dataclass(frozen=True, slots=True)
class AgentResponseEvent:
    """One agent response event; `response_event` is base64 text, opaque to the server."""

    response_event: str
    response_initiator: str | None = None
    """The participant whose query started this response."""
    forked_from_conversation_token: str | None = None


@dataclass(frozen=True, slots=True)
class AgentConversationReplayStarted:
    """Historical replay begins: viewers hold back live-only reactions until it ends."""


@dataclass(frozen=True, slots=True)
class AgentConversationReplayEnded:
    """Historical replay is over; what follows is live."""


@dataclass(frozen=True, slots=True)
class AmbientSetupPhaseEnded:
    """Cloud setup finished and no first model turn follows (one name of this marker)."""


@dataclass(frozen=True, slots=True)
class CloudModeSetupPhaseEnded:
    """The same marker under the name other crate versions use; both must decode."""


OrderedTerminalEventType: TypeAlias = (
    PtyBytesRead
    | CommandExecutionStarted
    | CommandExecutionFinished
    | Resize
    | AgentResponseEvent
    | AgentConversationReplayStarted
    | AgentConversationReplayEnded
    | AmbientSetupPhaseEnded
    | CloudModeSetupPhaseEnded
)


@dataclass(frozen=True, slots=True)
class OrderedTerminalEvent(Message):
    """An event whose order against the other events matters; sharer-up and viewer-down."""

    event_no: Usize
    event_type: OrderedTerminalEventType


@dataclass(frozen=True, slots=True)
class AgentExchange:
    """An exchange appended to an agent conversation, as the simulation models it.

    Real response events are protobuf; ours travel in the same slot as the
    base64 of `{"AgentExchange": {...}}` canonical JSON, so the server relays
    them untouched and a viewer can tell ours from anything else.
    """

    agent_task_id: str | None
    """The task of the agent that produced the exchange; None before it has one."""
    exchange_no: int
    text: str
    mentions: tuple[str, ...] = ()
    """Agent ids named in the text, for viewers to resolve to names."""
    parent_agent_id: str | None = None
    """The producing agent's parent (its run id), as the conversation's StreamInit carries
    it; None for an agent nobody spawned. A viewer learns from it that it shows a child."""

    def to_event(self) -> AgentResponseEvent:
        """Wrap this exchange as the response event that carries it."""
        payload = dumps(encode_variant(self)).encode("ascii")
        return AgentResponseEvent(response_event=base64.b64encode(payload).decode("ascii"))

    @classmethod
    def from_event(cls, event: OrderedTerminalEventType) -> AgentExchange | None:
        """The exchange inside `event`, or None if the event does not carry one of ours.

        Text that is not base64 cannot come from any real sharer and raises a
        ProtocolError, as does our envelope with bad fields inside.
        """
        if not isinstance(event, AgentResponseEvent):
            return None
        return _exchange_in(event.response_event)


@functools.lru_cache(maxsize=1024)
def _exchange_in(response_event: str) -> AgentExchange | None:
    """The exchange a response event carries, read once however many viewers receive it.

    Exchanges are immutable, so every viewer of one event may share the same one.
    """
    path = "$.response_event"
    try:
        payload = base64.b64decode(response_event, validate=True)
    except binascii.Error:
        raise ProtocolError(path, "base64 text", "text that is not base64") from None
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    tag = variant_tag(AgentExchange)
    if not (isinstance(value, dict) and value.keys() == {tag}):
        return None
    exchange: AgentExchange = decode_variant(AgentExchange, value[tag], f"{path}.{tag}")
    return exchange
