"""What kind of view a viewer has opened: the link's scope and the share's family.

Name resolution and the snapshot both depend on it, so it lives on its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from protocol.source import SessionSourceType, User


class ViewScope(enum.Enum):
    """A parent link opens the orchestration; a child link stays on that one child."""

    PARENT = "parent"
    CHILD = "child"


@dataclass(frozen=True, slots=True)
class ViewContext:
    """The scope of the link plus whether the share was user-initiated (`User`)."""

    scope: ViewScope
    user_share: bool

    @classmethod
    def of(cls, scope: ViewScope, source_type: SessionSourceType) -> ViewContext:
        """Build from what JoinedSuccessfully told the viewer."""
        return cls(scope=scope, user_share=isinstance(source_type, User))
