"""Log lines a client can make the server repeat: the first few in full, then a count.

A client may send a frame the server ignores (an unknown message, a
malformed request) as often as it likes; a line for each would let it fill
the server's log. Each connection gets `SHOWN` lines of each kind, and the
rest are counted and reported once, when the connection ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field

#: Lines of one kind logged in full for one connection.
SHOWN = 3


@dataclass
class Repeats:
    """How often each connection has made each kind of line."""

    _counts: dict[Hashable, Counter[str]] = field(default_factory=dict)

    def show(self, conn: Hashable, kind: str) -> bool:
        """Count one more `kind` line for `conn`; whether it is among the first `SHOWN`."""
        counts = self._counts.setdefault(conn, Counter())
        counts[kind] += 1
        return counts[kind] <= SHOWN

    def forget(self, conn: Hashable) -> dict[str, int]:
        """The connection is gone: how many lines of each kind were not shown."""
        counts = self._counts.pop(conn, Counter())
        return {kind: n - SHOWN for kind, n in sorted(counts.items()) if n > SHOWN}
