"""Transport tests run in both modes, on the virtual clock every run uses."""

from __future__ import annotations

import pytest
import trio.testing

from actors.runtime.simulation import virtual_clock
from actors.runtime.transport import Mode


@pytest.fixture(params=list(Mode), ids=[m.value for m in Mode])
def mode(request: pytest.FixtureRequest) -> Mode:
    mode: Mode = request.param
    return mode


@pytest.fixture
def clock() -> trio.testing.MockClock:
    """The same in both modes: over tcp, time also waits for what is in flight."""
    return virtual_clock()
