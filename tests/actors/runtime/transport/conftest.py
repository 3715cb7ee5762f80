"""Transport tests run in both modes, each on the clock its mode needs."""

from __future__ import annotations

import pytest
import trio.testing

from actors.runtime.simulation import make_clock
from actors.runtime.transport import Mode


@pytest.fixture(params=list(Mode), ids=[m.value for m in Mode])
def mode(request: pytest.FixtureRequest) -> Mode:
    mode: Mode = request.param
    return mode


@pytest.fixture
def clock(mode: Mode) -> trio.testing.MockClock:
    """Autojumping virtual time in memory; virtual time 100x faster than real over tcp."""
    return make_clock(mode)
