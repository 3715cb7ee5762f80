"""A viewer that works out its scope wrongly is caught by the bundled scenarios' checks.

The scope a snapshot reports is the viewer's own conclusion, so a client bug in
it shows: each wrong rule below is injected into the viewer, and the scenarios
about scope (copied links, open in desktop) must fail on what the person sees.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from actors.rules.profiles import Profile
from actors.rules.view import ViewScope
from actors.viewers.viewer import Viewer
from scenarios import catalog
from scenarios.runner import run_scenario

SCENARIOS = ("copied-links", "open-in-desktop")


def _failed_keys(name: str) -> set[str]:
    result = run_scenario(catalog.load(name), Profile.CURRENT)
    return {mismatch.key for failure in result.failures for mismatch in failure.mismatches}


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_right_rule_passes(name: str) -> None:
    assert run_scenario(catalog.load(name), Profile.CURRENT).passed


def _always(scope: ViewScope) -> Callable[[Viewer], ViewScope]:
    return lambda viewer: scope


def _pill_bar_only(viewer: Viewer) -> ViewScope:
    """A rule that forgets a conversation with no children yet may still be a parent's."""
    return ViewScope.PARENT if viewer.pill_bar.visible else ViewScope.CHILD


@pytest.mark.behaviour(18, 44)
@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize(
    ("wrong", "caught_by"),
    [
        (_always(ViewScope.PARENT), {"scope"}),
        (_always(ViewScope.CHILD), {"scope", "pills", "pill_bar"}),
    ],
    ids=["every-view-a-parent", "every-view-a-child"],
)
def test_a_viewer_that_gets_its_scope_wrong_fails_the_scenario(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    wrong: Callable[[Viewer], ViewScope],
    caught_by: set[str],
) -> None:
    monkeypatch.setattr(Viewer, "scope", property(wrong))
    assert _failed_keys(name) & caught_by


@pytest.mark.behaviour(20)
def test_a_parent_view_is_parent_scoped_before_its_first_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Judging by the pill bar alone makes an orchestrator's view a child view until a
    child comes; viewer-before-children looks at the view before then."""
    assert run_scenario(catalog.load("viewer-before-children"), Profile.CURRENT).passed
    monkeypatch.setattr(Viewer, "scope", property(_pill_bar_only))
    assert "scope" in _failed_keys("viewer-before-children")
