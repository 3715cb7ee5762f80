"""What kind of view a viewer has opened: the link's scope.

Name resolution and the snapshot both depend on it, so it lives on its own.
"""

from __future__ import annotations

import enum


class ViewScope(enum.Enum):
    """A parent link opens the orchestration; a child link stays on that one child."""

    PARENT = "parent"
    CHILD = "child"
