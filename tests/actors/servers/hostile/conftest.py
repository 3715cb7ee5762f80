"""Real sockets and outside clients live in wall-clock time, so these tests run on it."""

from __future__ import annotations

import pytest
import trio.testing


@pytest.fixture(autouse=True)
def wall_clock() -> trio.testing.MockClock:
    """Virtual time that runs at wall-clock speed: the limits under test mean real seconds."""
    return trio.testing.MockClock(rate=1.0)
