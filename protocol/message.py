"""What every top-level frame has in common: its channel, its tag and the ids worth tracing."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias

from ._fields import per_class, variant_tag
from .secrets import Secret


class Channel(enum.Enum):
    """A direction of traffic; each has its own set of message tags."""

    SHARER_UP = "sharer-up"
    SHARER_DOWN = "sharer-down"
    VIEWER_UP = "viewer-up"
    VIEWER_DOWN = "viewer-down"
    TASKS = "tasks"


TRACE_KEYS = frozenset(
    {
        "session_id",
        "viewer_id",
        "sharer_id",
        "participant_id",
        "task_id",
        "source_task_id",
        "parent_run_id",
        "conversation_id",
        "request_id",
        "event_no",
        "last_received_event_no",
        "last_sent_event_no",
        "latest_event_no",
        "latest_processed_event_no",
        "sequence",
        "since",
    }
)
"""Field names whose values tie a message to a flow; `key_ids` reports these and only these."""


class Message:
    """Base of every top-level frame.

    The tag and the traced ids are derived from the dataclass itself, so adding
    a message never means adding trace code.
    """

    __slots__ = ()
    message_type: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.message_type = variant_tag(cls)

    def key_ids(self) -> dict[str, str]:
        """The ids in this message worth a trace column, nested payloads included.

        The first occurrence of a name wins (depth first), None is left out and
        secrets are never looked at.
        """
        found: dict[str, str] = {}
        _collect_ids(self, found)
        return found


def _collect_ids(value: object, found: dict[str, str]) -> None:
    if not dataclasses.is_dataclass(value) or isinstance(value, Secret):
        return
    for name, traced in _id_plan(type(value)):
        item = getattr(value, name)
        if traced and isinstance(item, str | int) and not isinstance(item, bool):
            found.setdefault(name, str(item))
        else:
            _collect_ids(item, found)


@per_class
def _id_plan(cls: type) -> tuple[tuple[str, bool], ...]:
    """Each field's name and whether it is traced, read off the class once."""
    return tuple((f.name, f.name in TRACE_KEYS) for f in dataclasses.fields(cls))


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A frame whose top-level tag this channel does not know.

    A newer peer may send messages we have never heard of; receivers log this
    and carry on rather than drop the connection. `raw` is the frame as
    canonical JSON and stays out of the repr, since it may carry secrets.
    """

    channel: Channel
    tag: str
    raw: str = field(repr=False)

    @property
    def message_type(self) -> str:
        return self.tag

    def key_ids(self) -> dict[str, str]:
        """Nothing is traced from a frame we could not read."""
        return {}


AnyMessage: TypeAlias = Message | UnknownMessage
"""Whatever a decoder can return."""


def tag_of(message: object) -> str:
    """The wire tag of a decoded message, or the class name of anything else (for logs)."""
    return str(getattr(message, "message_type", type(message).__name__))
