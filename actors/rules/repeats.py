"""Log lines a client can make the server repeat: the first few in full, then a count.

A client may send a frame the server ignores (an unknown message, a
malformed request) as often as it likes; a line for each would let it fill
the server's log. Each client (as `protocol.clients` keys it, not each
connection, so reconnecting starts nothing afresh) gets `SHOWN` lines of
each kind per window of `WINDOW_S` seconds; the rest are counted, and the
count is reported in one line once the window is over, the next time the
server looks (a line, a connection opening or ending).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

#: Lines of one kind logged in full for one client in one window.
SHOWN = 3
#: Seconds a client's window of shown lines lasts.
WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class Unlogged:
    """Lines of `kind` from `client` that a window that is over did not show."""

    client: str
    kind: str
    count: int


@dataclass
class _Window:
    ends: float
    lines: int = 0


def _no_clock() -> float:
    """The time for rules nobody gave a clock: it stands still, so no window ends."""
    return 0.0


@dataclass
class Repeats:
    """How many lines of each kind each client has made in its current window."""

    clock: Callable[[], float] = _no_clock
    shown: int = SHOWN
    window_s: float = WINDOW_S
    _windows: dict[tuple[str, str], _Window] = field(default_factory=dict)
    _next_end: float = float("inf")
    _unlogged: list[Unlogged] = field(default_factory=list)

    def show(self, client: str, kind: str) -> bool:
        """Count one more `kind` line from `client`; whether it is among the window's first."""
        self._sweep(self.clock())
        window = self._windows.get((client, kind))
        if window is None:
            window = self._windows[client, kind] = _Window(self.clock() + self.window_s)
            self._next_end = min(self._next_end, window.ends)
        window.lines += 1
        return window.lines <= self.shown

    def over(self, *, all_windows: bool = False) -> list[Unlogged]:
        """What the windows that are over (or, at the end, all) left unlogged, each said once."""
        self._sweep(float("inf") if all_windows else self.clock())
        unlogged, self._unlogged = self._unlogged, []
        return unlogged

    def _sweep(self, now: float) -> None:
        """Forget every window over by `now`, keeping what it left unlogged for `over`."""
        if now < self._next_end:
            return
        for (client, kind), window in list(self._windows.items()):
            if window.ends > now:
                continue
            del self._windows[client, kind]
            if window.lines > self.shown:
                self._unlogged.append(Unlogged(client, kind, window.lines - self.shown))
        self._next_end = min((w.ends for w in self._windows.values()), default=float("inf"))
