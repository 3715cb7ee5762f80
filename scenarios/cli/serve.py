"""`sharesim serve`: both servers on real ports, for clients outside the simulation.

The two address lines come first on stdout, before any log line, so a script
can start the command and read where to connect; a line per `--principal`
(and per `--team` member) with its task-server token follows. Logs go to
stderr. Ctrl-C, SIGTERM or SIGHUP closes every client link with 1001 and
exits 0; a second one during that shutdown exits at once with 130 (see
`serve_stop`).

Ids, secrets and tokens come from the operating system's randomness, so
nothing a client or a log line shows predicts them. `--seed` derives them
from a seed instead, for reproducible fixtures: anyone who knows the seed can
compute every secret, so the server says so when it starts.

The servers face clients they do not control, so every connection is held to
`ConnectionLimits` (see `serve_connections`), and the trace is streamed to a
file of bounded size (see `serve_trace`) or dropped rather than kept for the
life of the process.
"""

from __future__ import annotations

import argparse
import io
import socket
import sys
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar

import structlog
import trio
import trio.testing

from actors.rules.credentials import Credentials, SeededCredentials, SystemCredentials
from actors.rules.profiles import Profile
from actors.rules.session_limits import SessionLimits
from actors.rules.task_store import TaskLimits
from actors.runtime.limits import ConnectionLimits
from actors.runtime.logs import configure_logging
from actors.runtime.simulation import open_simulation
from actors.runtime.transport import Mode
from actors.servers.session_server import SessionServer
from actors.servers.task_server import TaskServer
from actors.servers.websocket_server import CloseAll
from actors.world import server_switches, task_gates
from protocol.routes import CREATE_ROUTE, tasks_route
from scenarios.cli import serve_connections, serve_trace
from scenarios.cli.options import add_verbosity_option, seed
from scenarios.cli.serve_limits import (
    Team,
    add_options,
    add_task_options,
    session_limits,
    task_limits,
    task_teams,
)
from scenarios.cli.serve_stop import Stopper
from scenarios.usage import UsageError

__all__ = ["HeldConsole", "register", "run", "session_limits"]

_log = structlog.get_logger("sharesim.serve")

_MAX_PORT = 65535


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the session server and the task server over TCP",
        description=(
            "Run both servers on real sockets until Ctrl-C, SIGTERM or SIGHUP, which close "
            "every client with 1001 and exit 0; a second one during that shutdown stops at "
            "once, without waiting for clients, and exits 130. The first two lines on stdout "
            "are 'session server: ws://HOST:PORT/sessions/create' and "
            "'task server: ws://HOST:PORT/tasks?token=TOKEN', then one "
            "'task token for NAME: TOKEN' line per --principal and --team member; logs "
            "follow on stderr. "
            "The README's 'Talking to the servers' lists every route and message."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=0,
        help=(
            "the session server's port; the task server listens on PORT+1. "
            "0 (the default) gives each server a free port of its own"
        ),
    )
    parser.add_argument(
        "--profile",
        choices=[p.value for p in Profile],
        default=Profile.CURRENT.value,
        help="server-side behaviour: gates and the task-id push (default: current)",
    )
    parser.add_argument(
        "--seed",
        type=seed,
        default=None,
        help=(
            "derive ids, secrets and tokens from this seed, for reproducible test fixtures. "
            "UNSAFE for real use: the seed predicts every secret. By default they come from "
            "the operating system's randomness"
        ),
    )
    serve_trace.add_options(parser)
    add_options(parser)
    add_task_options(parser)
    serve_connections.add_options(parser)
    add_verbosity_option(parser, levels="log debug events too (info by default)")
    parser.set_defaults(run=run)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port < _MAX_PORT:
        raise argparse.ArgumentTypeError(f"port must be 0..{_MAX_PORT - 1} (PORT+1 is used too)")
    return port


@dataclass(frozen=True, slots=True)
class _Setup:
    host: str
    port: int
    profile: Profile
    credentials: Credentials
    limits: SessionLimits
    task_limits: TaskLimits
    connections: ConnectionLimits
    principals: tuple[str, ...]
    teams: tuple[Team, ...]


def run(args: argparse.Namespace) -> int:
    try:
        limits = session_limits(args)
        runs = task_limits(args)
        connections = serve_connections.connection_limits(args)
        teams = task_teams(args)
    except ValueError as error:
        raise UsageError(str(error)) from None
    credentials = SeededCredentials.from_seed(args.seed) if args.seed is not None else None
    members = [member for _, team in teams for member in team]
    setup = _Setup(
        args.host,
        args.port,
        Profile(args.profile),
        credentials or SystemCredentials(),
        limits,
        runs,
        connections,
        tuple(dict.fromkeys([*args.principal, *members])),
        teams,
    )
    console = HeldConsole(sys.stderr)
    configure_logging(verbosity=1 + args.verbose, console=console)
    stopper = Stopper(getattr(args, "early", None))
    try:
        with serve_trace.trace_file(args.trace, args.max_trace_mb) as trace, stopper.installed():
            serve_connections.make_room_for(setup.connections)
            # Virtual time that runs at wall-clock speed: log lines and run rows count
            # seconds from the start of the server, not from the machine's boot.
            trio.run(_serve, setup, trace, console, stopper, clock=trio.testing.MockClock(rate=1.0))
    except BaseExceptionGroup as group:
        # Nurseries wrap what the servers raise; unwrap the one a user can act on.
        failed = _only(group, OSError)
        if failed is None:
            raise
        raise UsageError(
            f"cannot listen on {args.host}: {_busy_port(args.host, args.port)}{failed}"
        ) from None
    finally:
        console.release()
        structlog.reset_defaults()
    return 0


def _busy_port(host: str, port: int) -> str:
    """`port N: ` for the first of the two ports that cannot be bound now, else nothing.

    Each port is tried on every address `host` names, of its own family, as
    the servers bind them: `::1` is probed over IPv6, `localhost` on each of
    its addresses.
    """
    try:
        addresses = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return ""  # the listening error says what is wrong with the host
    for candidate in (port, port + 1) if port else ():
        for family, kind, proto, _, address in addresses:
            if not _can_bind(family, kind, proto, (address[0], candidate, *address[2:])):
                return f"port {candidate}: "
    return ""


def _can_bind(family: int, kind: int, proto: int, address: tuple[object, ...]) -> bool:
    """Whether a listener could bind `address` now, with the options Trio's listeners set."""
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


E = TypeVar("E", bound=BaseException)


def _only(group: BaseExceptionGroup[BaseException], kind: type[E]) -> E | None:
    """The first `kind` error in `group` when the group holds nothing else."""
    matched, rest = group.split(kind)
    if matched is None or rest is not None:
        return None
    leaf: BaseException = matched
    while isinstance(leaf, BaseExceptionGroup):
        leaf = leaf.exceptions[0]
    return leaf if isinstance(leaf, kind) else None


async def _serve(
    setup: _Setup, trace: serve_trace.CappedTrace | None, console: HeldConsole, stopper: Stopper
) -> None:
    switches = setup.profile.switches()
    async with open_simulation(
        mode=Mode.TCP,
        trace_sink=trace,
        keep_trace=False,
        limits=setup.connections,
        log_context={"command": "serve"},
    ) as simulation:
        # The run's seed picks nothing here (no faults, no latency, no secrets):
        # on every log line it would only suggest otherwise.
        structlog.contextvars.unbind_contextvars("seed")
        if setup.credentials.predictable:
            _log.warning(
                "predictable_credentials",
                detail="--seed derives every id, secret and token; for test fixtures only",
            )
        sessions = SessionServer(
            simulation.network,
            setup.credentials,
            switches=server_switches(switches),
            limits=setup.limits,
            host=setup.host,
            port=setup.port,
        )
        tasks = TaskServer(
            simulation.network,
            gates=task_gates(switches),
            credentials=setup.credentials,
            limits=setup.task_limits,
            host=setup.host,
            port=setup.port + 1 if setup.port else 0,
        )
        for name, team in setup.teams:
            tasks.store.add_team(name, team)
        await simulation.stage.start(sessions)
        await simulation.stage.start(tasks)
        print(f"session server: {sessions.address}{CREATE_ROUTE}", flush=True)
        print(f"task server: {tasks.address}{tasks_route('TOKEN')}", flush=True)
        for principal in setup.principals:
            token = tasks.store.issue_token(principal).reveal()
            print(f"task token for {principal}: {token}", flush=True)
        console.release()
        _log.info("stopping", signal=await stopper.wait())
        for server in (sessions, tasks):
            await server.ref.ask(CloseAll(), timeout=CloseAll().timeout + 1)


class HeldConsole(io.StringIO):
    """A console that holds log lines back until released, then writes straight through.

    The servers log as they start listening, before their addresses can be
    printed; holding those lines keeps the address lines first.
    """

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self._out = out
        self._held = True

    def write(self, text: str) -> int:
        if self._held:
            return super().write(text)
        return self._out.write(text)

    def flush(self) -> None:
        if not self._held:
            self._out.flush()

    def release(self) -> None:
        if self._held:
            self._held = False
            self._out.write(self.getvalue())
            self._out.flush()
