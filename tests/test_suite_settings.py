"""The suite's Hypothesis profile is in force: no example is timed."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def test_hypothesis_never_fails_a_test_for_being_slow() -> None:
    active = settings.default
    assert active is not None
    assert active.deadline is None
    assert HealthCheck.too_slow in active.suppress_health_check
