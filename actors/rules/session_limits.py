"""How much the session server holds, and for how long.

Without limits a server that runs for a day keeps every event of every
session, every lingering session and every seat ever taken. The defaults
fit a laptop: at most 1 GiB of event history in all (64 MiB per session),
ended lingering sessions kept for a day, a viewer's seat kept ten minutes
after its link goes (the client gives up rejoining after about two), and at
most 256 seats a session and 10,000 sessions; `sharesim serve` also caps the
seats of all sessions together (about 2 KB each). Every string kept from a client
(a user id, a task id) is at most 256 characters: a frame may hold a
megabyte, and a seat or a session kept for hours must not cost that much.

A client (the network a connection comes from, as `protocol.clients` keys
it) may also be held to a share of the sessions, of the history and of the
seats, so that one client filling the server cannot keep every other out:
when the server is full, room is only ever made from sessions that have
ended, never from another client's live one.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """Bounds on what the session server keeps; see the module docstring for the defaults."""

    #: Sessions held at once, live or ended; when full, the oldest ended one makes room.
    max_sessions: int = 10_000
    #: Encoded event history of all sessions together.
    max_history_bytes: int = 1024 * MIB
    #: Encoded event history of one session; a session that would pass it is terminated.
    max_session_history_bytes: int = 64 * MIB
    #: Seats one session holds, with or without a link.
    max_seats: int = 256
    #: Seats all sessions hold together, with or without a link; None: no cap. A simulation
    #: may seat a crowd of panes; `sharesim serve` sets one (10,000, about 20 MB).
    max_server_seats: int | None = None
    #: How long a seat whose link is gone waits for its viewer to rejoin.
    seat_idle_s: float = 600.0
    #: How long an ended lingering session stays joinable.
    linger_s: float = 24 * 3600.0
    #: Longest string kept from a client (ids, user names); a longer one is refused.
    max_field_chars: int = 256
    #: Sessions one client (`client_of`) holds at once; None: only `max_sessions` bounds it.
    max_client_sessions: int | None = None
    #: Encoded event history of one client's sessions together; None: only the total bounds it.
    max_client_history_bytes: int | None = None
    #: Seats one client takes in all sessions; None: only `max_server_seats` bounds it.
    max_client_seats: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "max_sessions",
            "max_history_bytes",
            "max_session_history_bytes",
            "max_seats",
            "max_field_chars",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in (
            "max_client_sessions",
            "max_client_history_bytes",
            "max_server_seats",
            "max_client_seats",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.seat_idle_s <= 0:
            raise ValueError(f"seat_idle_s must be positive, got {self.seat_idle_s}")
        if self.linger_s < 0:
            raise ValueError(f"linger_s must not be negative, got {self.linger_s}")
        if self.max_session_history_bytes > self.max_history_bytes:
            raise ValueError(
                f"max_history_bytes ({self.max_history_bytes}) must be at least "
                f"max_session_history_bytes ({self.max_session_history_bytes})"
            )

    @property
    def sweep_every_s(self) -> float:
        """How often expired sessions and seats are looked for: often enough to free memory
        promptly, rarely enough that a busy server does not walk every session on each link."""
        return min(60.0, self.seat_idle_s, self.linger_s or 60.0)
