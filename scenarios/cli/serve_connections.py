"""`sharesim serve` options for what one connection may cost the servers, and room for them.

Each option sets one field of `ConnectionLimits`; the defaults are
`SERVE_LIMITS`. The README's table under `sharesim serve` explains each.
"""

from __future__ import annotations

import argparse
import resource

import structlog

from actors.runtime.limits import MAX_REFUSING, SERVE_LIMITS, ConnectionLimits
from scenarios.cli.options import at_most, not_negative, positive
from scenarios.cli.serve_limits import client_share

_log = structlog.get_logger("sharesim.serve")

#: Descriptors the process needs besides its clients' (listeners, stdio, the trace).
_SPARE_DESCRIPTORS = 64


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "connection limits", "what one client may cost the servers; the README explains each"
    )
    defaults = SERVE_LIMITS
    group.add_argument(
        "--handshake-timeout",
        type=positive(float),
        default=defaults.handshake_timeout,
        metavar="SECONDS",
        help="hang up on a connection whose upgrade request is not complete by then "
        "(default: %(default)g)",
    )
    group.add_argument(
        "--close-timeout",
        type=positive(float),
        default=defaults.close_timeout,
        metavar="SECONDS",
        help="hang up on a client that has not answered a close by then (default: %(default)g)",
    )
    group.add_argument(
        "--identify-timeout",
        type=positive(float),
        default=defaults.identify_timeout,
        metavar="SECONDS",
        help="close with 1008 a session-server link that has not shared, reconnected or "
        "joined by then (default: %(default)g)",
    )
    group.add_argument(
        "--ping-interval",
        type=not_negative(float),
        default=defaults.ping_interval,
        metavar="SECONDS",
        help="ping every client this often; 0 sends no pings (default: %(default)g)",
    )
    group.add_argument(
        "--ping-timeout",
        type=positive(float),
        default=defaults.ping_timeout,
        metavar="SECONDS",
        help="close a client with 1011 when a ping goes unanswered this long "
        "(default: %(default)g)",
    )
    group.add_argument(
        "--max-connections",
        type=positive(int),
        default=defaults.max_connections,
        metavar="N",
        help="connections each server holds at once; more get HTTP 503 (default: %(default)s)",
    )
    group.add_argument(
        "--max-client-connections",
        type=positive(int),
        default=None,
        metavar="N",
        help="connections each server holds at once from one client (all of loopback is one); more "
        "from it get HTTP 503 (default: a quarter of --max-connections)",
    )
    group.add_argument(
        "--max-backlog",
        type=positive(int),
        default=defaults.max_backlog_bytes,
        metavar="BYTES",
        help="frames waiting for one slow client before it is closed with 1013 "
        "(default: %(default)s, 4 MiB)",
    )


def connection_limits(args: argparse.Namespace) -> ConnectionLimits:
    """The connection limits the options ask for; a share above its total is a `ValueError`."""
    at_most(
        args.max_client_connections,
        "--max-client-connections",
        args.max_connections,
        "--max-connections",
    )
    return ConnectionLimits(
        handshake_timeout=args.handshake_timeout,
        close_timeout=args.close_timeout,
        identify_timeout=args.identify_timeout,
        ping_interval=args.ping_interval or None,
        ping_timeout=args.ping_timeout,
        max_connections=args.max_connections,
        max_client_connections=min(
            args.max_client_connections or client_share(args.max_connections),
            args.max_connections,
        ),
        max_backlog_bytes=args.max_backlog,
    )


def descriptors_needed(limits: ConnectionLimits) -> int | None:
    """Open files for both servers at their cap, with their refusals and a spare; None if uncapped.

    A server holds at most its cap plus `MAX_REFUSING` connections, so with
    this many neither server's flood can take the descriptors the other needs.
    """
    if limits.max_connections is None:
        return None
    return 2 * (limits.max_connections + MAX_REFUSING) + _SPARE_DESCRIPTORS


def make_room_for(limits: ConnectionLimits) -> None:
    """Raise the soft limit on open files to `descriptors_needed`.

    Past the limit, accepting pauses until a descriptor is free; a cap above
    what the hard limit allows is reported once.
    """
    needed = descriptors_needed(limits)
    if needed is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        if raised < needed:
            _log.warning(
                "descriptor_limit",
                max_connections=limits.max_connections,
                open_files=raised,
                hint="the cap cannot be reached; raise the hard limit (ulimit -Hn)",
            )
