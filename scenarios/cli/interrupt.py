"""Ctrl-C and SIGTERM: stop the work, keep what was found, exit 130.

Trio delivers Ctrl-C as a `KeyboardInterrupt` inside the exception groups of
the nurseries it crossed, so a bare `except KeyboardInterrupt` misses it;
`is_interrupt` sees through the groups. SIGTERM is turned into Ctrl-C for the
duration of a command, so both stop a run the same way: inside Trio, through
Trio's own delivery of Ctrl-C; outside, as a `KeyboardInterrupt`. A SIGTERM is
sent again until the command has taken it, since a `KeyboardInterrupt` raised
inside a collector callback or a finalizer is dropped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

#: The exit code of a command stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: How often a SIGTERM not yet taken is delivered again (see `_Sigterm`).
REDELIVER_EVERY_S = 1.0


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
        if _sigterm is not None:
            _sigterm.take()
        interruption.happened = True
        interruption.note()


class _Sigterm:
    """SIGTERM handled as Ctrl-C, and delivered again until the command has taken it.

    Python runs a signal handler between any two bytecodes of the main thread,
    also inside a collector callback or a finalizer, where the
    `KeyboardInterrupt` it raises is printed and dropped. So after a SIGTERM a
    thread sends it again every `REDELIVER_EVERY_S` until an interruption is
    taken (`catching_interrupts`) or the command ends; one that arrives after
    that is ignored, so it cannot break the summary being printed.
    """

    def __init__(self) -> None:
        self.received = threading.Event()
        self._taken = threading.Event()
        #: Held while a signal is sent again, so none is sent once `take` has returned.
        self._sending = threading.Lock()

    def take(self) -> None:
        """The interruption has been taken, or the command has ended: send nothing more."""
        with self._sending:
            self._taken.set()

    def handle(self, _signum: int, frame: FrameType | None) -> None:
        """Stop as Ctrl-C does: through whatever handles it now (Trio's, inside a run).

        Where Ctrl-C is ignored (a background job of a script), SIGTERM must
        still stop the command, so it raises `KeyboardInterrupt` itself.
        """
        if self._taken.is_set():
            return
        if not self.received.is_set():
            self.received.set()
            threading.Thread(target=self._redeliver, name="sigterm-redelivery", daemon=True).start()
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    def _redeliver(self) -> None:
        while not self._taken.wait(REDELIVER_EVERY_S):
            with self._sending:
                if not self._taken.is_set():
                    os.kill(os.getpid(), signal.SIGTERM)


#: The SIGTERM handling of the command running now, if any.
_sigterm: _Sigterm | None = None


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM as Ctrl-C while a command runs (main thread only; restored afterwards)."""
    global _sigterm
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _sigterm = sigterm = _Sigterm()
    previous = signal.signal(signal.SIGTERM, sigterm.handle)
    try:
        yield
    finally:
        sigterm.take()
        signal.signal(signal.SIGTERM, previous)
        _sigterm = None
