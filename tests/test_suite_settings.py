"""The suite's Hypothesis profile is in force: no example is timed."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def test_hypothesis_never_fails_a_test_for_being_slow() -> None:
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check
