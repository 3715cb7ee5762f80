"""The rule a viewer works its scope out by: from what it shows, never from a label."""

from __future__ import annotations

import pytest

from actors.rules.view import ViewScope, derive_scope

PARENT, CHILD = ViewScope.PARENT, ViewScope.CHILD


@pytest.mark.parametrize(
    ("shows_own_children", "has_parent", "scope"),
    [
        (True, False, PARENT),  # an orchestrator's view with its pill bar
        (False, False, PARENT),  # an orchestrator's view before its first child
        (False, True, CHILD),  # a child's view: no children, a parent named
        (True, True, PARENT),  # a child that orchestrates: its own orchestration
        (False, None, CHILD),  # nothing arrived yet: no orchestration to show
        (True, None, PARENT),
    ],
)
def test_scope_follows_what_the_view_shows(
    shows_own_children: bool, has_parent: bool | None, scope: ViewScope
) -> None:
    assert derive_scope(shows_own_children=shows_own_children, has_parent=has_parent) is scope
