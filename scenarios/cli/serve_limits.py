"""`sharesim serve` options for what the session server holds and for whom the task server works."""

from __future__ import annotations

import argparse

from actors.rules.session_limits import MIB, SessionLimits
from actors.rules.task_store import TaskLimits, TaskStore, check_principal
from scenarios.cli.options import at_most, positive

#: A team as `--team` gives it: its name and its members, in the order given.
Team = tuple[str, tuple[str, ...]]

_DEFAULTS = SessionLimits()
#: Without a per-client option, one client may hold this fraction (1/N) of a server-wide
#: limit: several clients must join forces to fill the server.
CLIENT_SHARE = 4


def client_share(total: int) -> int:
    """What one client may hold of a server-wide `total` when no per-client option says."""
    return max(1, total // CLIENT_SHARE)


_TASK_DEFAULTS = TaskLimits()
#: Viewer seats in all sessions under `serve`: at about 2 KB a seat, some 20 MB.
MAX_SEATS = 10_000


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--principal",
        action="append",
        default=[],
        type=_principal,
        metavar="NAME",
        help=(
            "a task-server principal to issue a token for; repeat for more. Each token is "
            "printed on stdout as 'task token for NAME: TOKEN' after the address lines"
        ),
    )
    parser.add_argument(
        "--team",
        action="append",
        default=[],
        type=_team,
        metavar="NAME=MEMBER,...",
        help=(
            "a team on the task server: each member may view the runs any member owns "
            "(children belong to their parent's owner); anyone else is told such a run does "
            "not exist. Members get tokens as --principal does; one team per principal. "
            "Repeat for more teams"
        ),
    )
    limits = parser.add_argument_group(
        "limits", "what the session server holds; the defaults fit a laptop for a day of use"
    )
    limits.add_argument(
        "--max-sessions",
        type=positive(int),
        default=_DEFAULTS.max_sessions,
        metavar="N",
        help=(
            "sessions held at once, live, ended or waiting for their sharer; when full, an "
            "ended one is forgotten, else a new share is refused (default: %(default)s)"
        ),
    )
    limits.add_argument(
        "--max-client-sessions",
        type=positive(int),
        default=None,
        metavar="N",
        help=(
            "sessions one client (all of loopback is one) holds at once; past it, its own "
            "ended ones are forgotten, else its new share is refused (default: a quarter of "
            "--max-sessions)"
        ),
    )
    limits.add_argument(
        "--max-history-mb",
        type=positive(int),
        default=_DEFAULTS.max_history_bytes // MIB,
        metavar="MB",
        help=(
            "event history of all sessions together; when full, ended sessions are forgotten, "
            "else the session whose event does not fit is ended (default: %(default)s)"
        ),
    )
    limits.add_argument(
        "--max-client-history-mb",
        type=positive(int),
        default=None,
        metavar="MB",
        help=(
            "event history of one client's sessions together; past it, its "
            "own ended sessions are forgotten, else its session whose event does not fit is "
            "ended (default: a quarter of --max-history-mb)"
        ),
    )
    limits.add_argument(
        "--max-session-history-mb",
        type=positive(int),
        default=_DEFAULTS.max_session_history_bytes // MIB,
        metavar="MB",
        help="event history of one session; past it the session is ended (default: %(default)s)",
    )
    limits.add_argument(
        "--max-viewers",
        type=positive(int),
        default=_DEFAULTS.max_seats,
        metavar="N",
        help="viewer seats in one session, with or without a link (default: %(default)s)",
    )
    limits.add_argument(
        "--max-seats",
        type=positive(int),
        default=MAX_SEATS,
        metavar="N",
        help=(
            "viewer seats in all sessions together, with or without a link; past it a join "
            "is refused until a seat expires (default: %(default)s)"
        ),
    )
    limits.add_argument(
        "--max-client-seats",
        type=positive(int),
        default=None,
        metavar="N",
        help=(
            "viewer seats one client (all of loopback is one) holds in all sessions, with or "
            "without a link; past it its join is refused, naming the limit, until one of its "
            "seats expires (default: a quarter of --max-seats)"
        ),
    )
    limits.add_argument(
        "--seat-idle-minutes",
        type=_seat_idle_minutes,
        default=_DEFAULTS.seat_idle_s / 60,
        metavar="MIN",
        help="how long a viewer's seat waits for it to rejoin after its link goes "
        "(default: %(default)g)",
    )
    limits.add_argument(
        "--max-field-chars",
        type=positive(int),
        default=_DEFAULTS.max_field_chars,
        metavar="N",
        help=(
            "longest string the session server keeps from a client (a user id, a task id); "
            "a longer one is refused and its link closed with 1009 (default: %(default)s)"
        ),
    )
    limits.add_argument(
        "--linger-hours",
        type=positive(float),
        default=_DEFAULTS.linger_s / 3600,
        metavar="H",
        help="how long an ended Lingering session stays joinable (default: %(default)g)",
    )


def add_task_options(parser: argparse.ArgumentParser) -> None:
    limits = parser.add_argument_group(
        "task limits", "what the task server holds; the defaults fit a laptop for a day of use"
    )
    limits.add_argument(
        "--max-runs",
        type=positive(int),
        default=_TASK_DEFAULTS.max_runs,
        metavar="N",
        help="runs the task server holds; past it a CreateRun is refused (default: %(default)s)",
    )
    limits.add_argument(
        "--max-principal-runs",
        type=positive(int),
        default=None,
        metavar="N",
        help=(
            "runs one principal owns (children included); past it its CreateRun is refused "
            "with INVALID naming the limit (default: a quarter of --max-runs)"
        ),
    )
    limits.add_argument(
        "--max-task-field-chars",
        type=positive(int),
        default=_TASK_DEFAULTS.max_field_chars,
        metavar="N",
        help=(
            "longest string in a task-server request (a title, a status line, an "
            "idempotency key); a longer one is refused with INVALID (default: %(default)s)"
        ),
    )


def task_limits(args: argparse.Namespace) -> TaskLimits:
    """The task-server limits the options ask for; a share above its total is a `ValueError`."""
    at_most(args.max_principal_runs, "--max-principal-runs", args.max_runs, "--max-runs")
    share = args.max_principal_runs or client_share(args.max_runs)
    return TaskLimits(
        max_runs=args.max_runs,
        max_field_chars=args.max_task_field_chars,
        max_principal_runs=min(share, args.max_runs),
    )


def session_limits(args: argparse.Namespace) -> SessionLimits:
    """The limits the options ask for; a combination that cannot work is a `ValueError`."""
    if args.max_session_history_mb > args.max_history_mb:
        raise ValueError(
            f"--max-session-history-mb ({args.max_session_history_mb}) must not be more than "
            f"--max-history-mb ({args.max_history_mb})"
        )
    at_most(args.max_client_sessions, "--max-client-sessions", args.max_sessions, "--max-sessions")
    at_most(
        args.max_client_history_mb,
        "--max-client-history-mb",
        args.max_history_mb,
        "--max-history-mb",
    )
    at_most(args.max_client_seats, "--max-client-seats", args.max_seats, "--max-seats")
    client_sessions = args.max_client_sessions or client_share(args.max_sessions)
    client_history_mb = args.max_client_history_mb or client_share(args.max_history_mb)
    client_seats = args.max_client_seats or client_share(args.max_seats)
    return SessionLimits(
        max_client_sessions=min(client_sessions, args.max_sessions),
        max_client_history_bytes=min(client_history_mb, args.max_history_mb) * MIB,
        max_sessions=args.max_sessions,
        max_history_bytes=args.max_history_mb * MIB,
        max_session_history_bytes=args.max_session_history_mb * MIB,
        max_seats=args.max_viewers,
        max_server_seats=args.max_seats,
        max_client_seats=min(client_seats, args.max_seats),
        seat_idle_s=args.seat_idle_minutes * 60,
        linger_s=args.linger_hours * 3600,
        max_field_chars=args.max_field_chars,
    )


def task_teams(args: argparse.Namespace) -> tuple[Team, ...]:
    """The teams the options ask for, each checked by the task store's own rules.

    They are tried on a scratch store, so a team defined twice or a principal
    in two teams is a usage error here, before any server starts.
    """
    teams: tuple[Team, ...] = tuple(args.team)
    scratch = TaskStore()
    for name, members in teams:
        try:
            scratch.add_team(name, members)
        except ValueError as error:
            raise ValueError(f"--team {name}: {error}") from None
    return teams


def _team(text: str) -> Team:
    name, equals, listed = text.partition("=")
    members = tuple(m for m in listed.split(",") if m)
    if not equals or not members:
        raise argparse.ArgumentTypeError(f"expected NAME=MEMBER,MEMBER..., got {text!r}")
    try:
        check_principal(name, what="team name")
        for member in members:
            check_principal(member)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return name, members


#: Shorter than this, a seat would be gone before its viewer could rejoin it.
MIN_SEAT_IDLE_MINUTES = 0.1


def _seat_idle_minutes(text: str) -> float:
    value = positive(float)(text)
    if value < MIN_SEAT_IDLE_MINUTES:
        raise argparse.ArgumentTypeError(
            f"must be at least {MIN_SEAT_IDLE_MINUTES:g} minutes (6 s), got {text}"
        )
    return value


def _principal(text: str) -> str:
    try:
        check_principal(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text
