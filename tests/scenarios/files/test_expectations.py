"""How an expectation's counts compare with what a viewer did."""

from __future__ import annotations

import pytest

from actors.rules.children import PaneState
from actors.rules.pill_bar import ViewerSnapshot
from actors.rules.profiles import Profile
from actors.rules.view import ViewScope
from actors.viewers.viewer import Observation, ViewerStats
from scenarios.expectations import Mismatch, check
from scenarios.schema import Expectation


def observed(fetches: int) -> Observation:
    snapshot = ViewerSnapshot("v", ViewScope.PARENT, PaneState.LOADED, False, (), ())
    return Observation(snapshot, ViewerStats(fetches=fetches, redundant_fetches=0, pushes=0))


@pytest.mark.parametrize(
    ("fetches", "mismatches"),
    [
        (14, [Mismatch("min_fetches", ">= 15", 14)]),
        (15, []),
        (20, []),
        (21, [Mismatch("max_fetches", "<= 20", 21)]),
    ],
)
def test_fetch_bounds_hold_from_both_sides(fetches: int, mismatches: list[Mismatch]) -> None:
    bounds = Expectation((Profile.CURRENT,), "v", None, {"min_fetches": 15, "max_fetches": 20})
    assert check(bounds, observed(fetches), task_ids={}, task_requests=0) == mismatches
