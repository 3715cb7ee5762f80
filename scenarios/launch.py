"""The `sharesim` executable: stop signals are handled before anything else is loaded.

Loading the command line takes about a second; a stop signal in that time
would otherwise be a `KeyboardInterrupt` traceback (SIGINT) or an exit by
the signal (SIGTERM, SIGHUP). So this module imports nothing heavy: it
installs handlers that note the first signal, then loads the command line,
which finds the note and stops cleanly before starting any work (`serve`
exits 0, as after a graceful stop; other commands 130, as when interrupted).
A second signal during that time exits at once with 130, saying so.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

#: The signals that stop a command.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: 128 + SIGINT, as a shell reports an interrupted command.
EXIT_INTERRUPTED = 130


class EarlySignals:
    """Notes the first stop signal until the command takes signals over."""

    def __init__(self) -> None:
        #: The first stop signal's name, once one has come.
        self.first: str | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        """Handle the stop signals from now on (main thread only)."""
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        """Give the stop signals back to the handlers they had before `install`."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.first is None:
            self.first = name
            return
        # Only async-signal-safe calls from here: no logging, no locks.
        message = f"sharesim: {name} while starting: stopping now (exit {EXIT_INTERRUPTED})\n"
        os.write(sys.stderr.fileno(), message.encode())
        os._exit(EXIT_INTERRUPTED)


def start(early: EarlySignals, argv: Sequence[str] | None = None) -> int:
    """Load the command line and run the command, with `early` noting signals until then."""
    from scenarios.cli import main as command_line

    return command_line(argv, early=early)


def main() -> int:
    early = EarlySignals()
    early.install()
    return start(early)


if __name__ == "__main__":
    sys.exit(main())
