"""Values that grant access and must never leak into a repr, a log line or a trace."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Secret:
    """A string that prints as `***`; compare and encode it through `.reveal()` only."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        """The raw value, for the wire and for comparisons; never for logs."""
        return self._value

    def __repr__(self) -> str:
        return f"{type(self).__name__}(***)"

    def __str__(self) -> str:
        return "***"


class SessionSecret(Secret):
    """The `pwd` of a join link: without it a session id opens nothing."""

    __slots__ = ()


class ReconnectToken(Secret):
    """Proves a reconnecting sharer is the one that created the session."""

    __slots__ = ()


class SeatToken(Secret):
    """Proves a rejoining viewer is the one its seat was given to (a simulation addition)."""

    __slots__ = ()


class TaskToken(Secret):
    """Who a task-server client is: the server issued it to one principal."""

    __slots__ = ()
