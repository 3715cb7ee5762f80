"""What one connection may cost a server: time to open and close, silence, memory, count.

A server facing clients it does not control must bound each of them, or one
client that stalls (or thousands that do) holds descriptors, tasks and memory
for ever. Times are in seconds of the run's clock; in `sharesim serve` that
clock runs at wall-clock speed.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Seconds a server full to its cap spends on a newcomer: its 503 answer, then it hangs up.
REFUSAL_S = 1.0
#: Newcomers a full server answers at once; beyond them it hangs up without a word, so a
#: flood of connections over the cap costs at most this many descriptors more.
MAX_REFUSING = 64


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Limits every connection of a network's servers is held to.

    None means no limit. The defaults suit simulations, whose peers are all
    well-behaved actors and whose clock may run a hundred times faster than
    the wall clock: no timeouts, no keepalive (it would add frames to idle
    virtual time), no cap on connections; only the backlog is bounded, in
    bytes. `SERVE_LIMITS` are the defaults for clients from outside.
    """

    #: From accepting the TCP connection to a complete upgrade request.
    handshake_timeout: float | None = None
    #: From deciding to close to the peer's close frame, queued frames drained first.
    close_timeout: float | None = None
    #: Seconds between keepalive pings to a client; None sends none.
    ping_interval: float | None = None
    #: How long a ping may go unanswered before the client is taken for gone.
    ping_timeout: float = 20.0
    #: From the upgrade to the link saying who it is (a session accepted it); None: no limit.
    identify_timeout: float | None = None
    #: Open connections per server, handshakes included; None for no cap.
    max_connections: int | None = None
    #: Open connections per server from one client (`client_key`); None: only the cap above.
    max_client_connections: int | None = None
    #: Bytes of frames that may wait to be sent to one peer before it is closed with 1013.
    max_backlog_bytes: int = 4 << 20

    def __post_init__(self) -> None:
        for name in (
            "handshake_timeout",
            "close_timeout",
            "ping_timeout",
            "ping_interval",
            "identify_timeout",
        ):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        for name in ("max_connections", "max_client_connections", "max_backlog_bytes"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")


#: The limits of `sharesim serve` unless its options say otherwise.
SERVE_LIMITS = ConnectionLimits(
    handshake_timeout=10.0,
    close_timeout=10.0,
    identify_timeout=10.0,
    ping_interval=20.0,
    ping_timeout=20.0,
    max_connections=1000,
    max_client_connections=250,
)
