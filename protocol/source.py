"""Where a shared session came from, and which orchestrator task it belongs to.

The wire keeps `User` a unit variant so that viewers built before orchestration
sharing still parse it; the orchestrator task id of a `User` share rides on the
`source_task_id` sidecar instead. `AmbientAgent` (a cloud-run agent) carries its
task id inside the variant, and newer sharers mirror it into the sidecar too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from ._fields import WireSpec


@dataclass(frozen=True, slots=True)
class User:
    """A share a person started by hand (share modal, context menu, copy link)."""


@dataclass(frozen=True, slots=True)
class AmbientAgent:
    """A share started on behalf of a cloud-run agent; always shared automatically."""

    wire: ClassVar[WireSpec] = WireSpec(accepts_bare=True)
    """Sharers from before the task id sent the bare `"AmbientAgent"`; it still decodes."""

    task_id: str | None = None


SessionSourceType: TypeAlias = User | AmbientAgent


class LegacySessionSourceType(enum.Enum):
    """The unit-only projection that viewers from before the detailed type understand."""

    USER = "User"
    AMBIENT_AGENT = "AmbientAgent"

    @classmethod
    def of(cls, source_type: SessionSourceType) -> LegacySessionSourceType:
        """Project a detailed source type onto its legacy unit form, dropping the task id."""
        if isinstance(source_type, AmbientAgent):
            return cls.AMBIENT_AGENT
        return cls.USER


def resolve_orchestrator_task_id(
    source_type: SessionSourceType, source_task_id: str | None
) -> str | None:
    """The orchestrator task id of a share: the sidecar first, then `AmbientAgent.task_id`.

    This is the single place that decides which task a viewer runs orchestration
    discovery against; `None` means the share cannot be tied to a task.
    """
    if source_task_id is not None:
        return source_task_id
    if isinstance(source_type, AmbientAgent):
        return source_type.task_id
    return None
