"""A SIGTERM whose `KeyboardInterrupt` was swallowed is delivered again until it is taken.

Python runs a signal handler between any two bytecodes, also inside a
collector callback, where the exception it raises is printed and dropped.
"""

from __future__ import annotations

import gc
import signal
import time

import pytest

from scenarios.cli.interrupt import catching_interrupts, sigterm_as_interrupt

#: Far longer than redelivery takes; the wait ends as soon as the interruption is taken.
BOUND_S = 10.0


def _sigterm_during_collection(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        signal.raise_signal(signal.SIGTERM)
        sum(range(1000))  # the handler runs at the next check between bytecodes: here


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_sigterm_lost_in_a_collector_callback_still_stops_the_work() -> None:
    deadline = time.monotonic() + BOUND_S
    with sigterm_as_interrupt(), catching_interrupts() as interruption:
        gc.callbacks.append(_sigterm_during_collection)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(_sigterm_during_collection)
        while time.monotonic() < deadline:
            time.sleep(0.01)
    assert interruption.happened


def test_a_taken_sigterm_is_not_delivered_again() -> None:
    with sigterm_as_interrupt():
        with catching_interrupts() as interruption:
            signal.raise_signal(signal.SIGTERM)
            time.sleep(BOUND_S)
        assert interruption.happened
        time.sleep(2.5)  # more than two redelivery periods: none may come now
