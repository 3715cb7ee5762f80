"""How `sharesim serve` stops: gracefully on the first stop signal, at once on a second.

Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal went away) all ask for
the same graceful stop: every client link is closed with 1001 and the
command exits 0. Closing waits for clients to answer, up to a few seconds
each; a second stop signal during that wait means the user will not wait,
so the process says so on stderr and exits at once with 130 (128 + SIGINT,
as a shell reports an interrupted command), whichever phase of the
shutdown it is in.

The handlers are plain Python signal handlers installed before Trio starts
(Trio then leaves SIGINT alone), so no signal can slip between two
receivers, be redelivered later, or take the default action of SIGHUP.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

import trio

from scenarios.cli.interrupt import EXIT_INTERRUPTED


class Noted(Protocol):
    """Where a stop signal that came before these handlers were installed was noted."""

    first: str | None


#: The signals that stop the servers.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopper:
    """Turns the first stop signal into a graceful stop, and a second into an exit at once."""

    def __init__(self, early: Noted | None = None) -> None:
        #: The first stop signal's name, once one has come.
        self.first: str | None = None
        #: Signals noted while the command was starting, before these handlers took over.
        self._early = early
        self._stop: trio.Event | None = None
        self._token: trio.lowlevel.TrioToken | None = None

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Handle the stop signals for the duration of the block (main thread only)."""
        previous = {signum: signal.signal(signum, self._handle) for signum in STOP_SIGNALS}
        if self.first is None and self._early is not None:
            self.first = self._early.first  # one that came before: stop as soon as started
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.first is None:
            self.first = name
            stop, token = self._stop, self._token
            if stop is not None and token is not None:
                token.run_sync_soon(stop.set, idempotent=True)
            return
        # Only async-signal-safe calls from here: no logging, no locks.
        message = (
            f"sharesim serve: {name} during shutdown: stopping now without waiting for "
            f"clients (exit {EXIT_INTERRUPTED})\n"
        )
        os.write(sys.stderr.fileno(), message.encode())
        os._exit(EXIT_INTERRUPTED)

    async def wait(self) -> str:
        """Wait for the first stop signal (it may have come already); its name."""
        self._stop = trio.Event()
        self._token = trio.lowlevel.current_trio_token()
        if self.first is None:
            await self._stop.wait()
        assert self.first is not None
        return self.first
