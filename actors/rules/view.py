"""What kind of view a viewer has: parent or child, worked out from what it shows.

The client has no scope flag. It builds its orchestration view on the run id
the share carries and shows a pill bar when that run has children; the
conversation it shows says, from its first response, whether it has a parent.
Name resolution, pill selection and copied links all depend on the answer, so
the rule lives on its own.
"""

from __future__ import annotations

import enum


class ViewScope(enum.Enum):
    """A parent link opens the orchestration; a child link stays on that one child."""

    PARENT = "parent"
    CHILD = "child"


def derive_scope(*, shows_own_children: bool, has_parent: bool | None) -> ViewScope:
    """The scope of a view from what it shows.

    `shows_own_children`: the run the view was opened on has children on its pill
    bar. `has_parent`: whether the view's conversation names a parent agent; None
    while no exchange has arrived to say.

    A view that lists its own run's children is a parent view, whatever that run's
    own parent: the link of a child that orchestrates opens that child's
    orchestration (client notes 2.2 (2): the view is built on the child's run). A
    view with no children to show is a parent view once its conversation turns out
    to have no parent (an orchestrator before its first child), and a child view
    otherwise, including before anything has arrived to say.
    """
    if shows_own_children or has_parent is False:
        return ViewScope.PARENT
    return ViewScope.CHILD
