"""Ctrl-C and SIGTERM: stop the work, keep what was found, exit 130.

Trio delivers Ctrl-C as a `KeyboardInterrupt` inside the exception groups of
the nurseries it crossed, so a bare `except KeyboardInterrupt` misses it;
`is_interrupt` sees through the groups. SIGTERM is turned into Ctrl-C for the
duration of a command, so both stop a run the same way: inside Trio, through
Trio's own delivery of Ctrl-C; outside, as a `KeyboardInterrupt`.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

#: The exit code of a command stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


def is_interrupt(error: BaseException) -> bool:
    """A `KeyboardInterrupt`, bare or inside (nested) exception groups."""
    if isinstance(error, BaseExceptionGroup):
        return error.subgroup(KeyboardInterrupt) is not None
    return isinstance(error, KeyboardInterrupt)


@dataclass
class Interruption:
    """Whether the work inside `catching_interrupts` was stopped by Ctrl-C or SIGTERM."""

    happened: bool = False

    def note(self) -> None:
        """Say on stderr that the output that follows is partial."""
        print("interrupted: stopping and printing what was found so far", file=sys.stderr)


@contextlib.contextmanager
def catching_interrupts() -> Iterator[Interruption]:
    """Stop the enclosed work on an interruption and carry on after the block."""
    interruption = Interruption()
    try:
        yield interruption
    except BaseException as error:
        if not is_interrupt(error):
            raise
        interruption.happened = True
        interruption.note()


def _as_sigint(_signum: int, frame: FrameType | None) -> None:
    """Handle SIGTERM with whatever handles Ctrl-C now (Trio's, inside a run).

    Where Ctrl-C is ignored (a background job of a script), SIGTERM must still
    stop the command, so it raises `KeyboardInterrupt` itself.
    """
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM as Ctrl-C while a command runs (main thread only; restored afterwards)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _as_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
