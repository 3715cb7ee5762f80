"""Settings for the whole suite: no test may depend on the machine's speed."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# By default Hypothesis fails a test whose example takes over 200 ms, or whose
# data is slow to generate: both happen to correct tests on a loaded machine.
settings.register_profile("sharesim", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("sharesim")
