"""Ctrl-C during a simulation stops it even when it lands where exceptions are swallowed.

Python runs a signal handler in the main thread between any two bytecodes,
also inside a garbage-collector callback or a finalizer, where an exception
is printed and dropped: a Ctrl-C raised there would be lost, and the run would
go on as if nobody had asked it to stop.
"""

from __future__ import annotations

import gc
import signal

import pytest
import trio

from actors.runtime.simulation import run_seeded


def _ctrl_c_during_collection(phase: str, info: dict[str, int]) -> None:
    """A collector callback (as a library may register) during which Ctrl-C arrives."""
    if phase == "start":
        signal.raise_signal(signal.SIGINT)
        sum(range(1000))  # the handler runs at the next check between bytecodes: here


async def _collect_then_keep_running() -> str:
    gc.callbacks.append(_ctrl_c_during_collection)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(_ctrl_c_during_collection)
    await trio.sleep(60)  # a checkpoint, on the virtual clock
    return "ran to the end"


def test_ctrl_c_inside_a_collector_callback_still_stops_the_run() -> None:
    with pytest.raises(KeyboardInterrupt):
        run_seeded(_collect_then_keep_running, seed=0)
