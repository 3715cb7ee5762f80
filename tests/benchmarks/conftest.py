"""Benchmarks log as `sharesim bench` does: warnings only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scenarios.cli.run import logging_for_run


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    with logging_for_run(verbosity=0, json_stream=None):
        yield
