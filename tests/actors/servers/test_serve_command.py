"""`sharesim serve` as a user runs it: a real process, real ports, a real client, then Ctrl-C."""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trio
import trio.testing
import trio_websocket

from actors.rules.session_store import SessionLimits
from protocol import (
    Channel,
    CreateRun,
    Execution,
    GetRun,
    ListRuns,
    RunReply,
    RunsListed,
    TaskError,
    TaskErrorKind,
    UserId,
    decode,
    encode,
    sharer,
    viewer,
)
from protocol.tasks import TaskRequest
from scenarios.cli import build_parser, main
from scenarios.cli.serve import HeldConsole, session_limits
from scenarios.cli.serve_limits import MAX_SEATS

ADDRESS = re.compile(r"^(session|task) server: (ws://127\.0\.0\.1:\d+/\S+)$")
_RUNS = itertools.count()
TOKEN = re.compile(r"^task token for (\S+): ([0-9a-f]{32,})$")


@pytest.fixture
def real_clock() -> trio.testing.MockClock:
    """Wall-clock time: a child process and real sockets do not follow a virtual clock."""
    return trio.testing.MockClock(rate=1.0)


async def text(ws: trio_websocket.WebSocketConnection) -> str:
    """The next message, which the servers always send as text."""
    message = await ws.get_message()
    assert isinstance(message, str), message
    return message


async def first_lines(stream: trio.abc.ReceiveStream, count: int) -> list[str]:
    data = b""
    while data.count(b"\n") < count:
        chunk = await stream.receive_some()
        assert chunk, f"the process closed stdout after {data!r}"
        data += chunk
    return data.decode().splitlines()[:count]


async def connect(
    nursery: trio.Nursery, url: str, streams: list[trio.SocketStream]
) -> trio_websocket.WebSocketConnection:
    """A client WebSocket on a TCP stream the test closes itself.

    trio-websocket leaves a client's socket open when the server closes first.
    """
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    stream = await trio.open_tcp_stream(parts.hostname, parts.port)
    streams.append(stream)
    resource = f"{parts.path}?{parts.query}" if parts.query else parts.path
    return await trio_websocket.wrap_client_stream(nursery, stream, parts.hostname, resource)


@asynccontextmanager
async def serving(tmp_path: Path, *options: str, tokens: int | None = None) -> AsyncIterator[Serve]:
    """`sharesim serve` in a child process; yields once its first lines are read.

    `tokens` is how many token lines to wait for: one per `--principal` unless said.
    """
    command = [sys.executable, "-m", "scenarios.cli", "serve", "--port", "0", *options]
    log = tmp_path / f"stderr-{next(_RUNS)}.log"
    with log.open("wb") as stderr:
        process = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE, stderr=stderr)
        try:
            assert process.stdout is not None
            with trio.fail_after(30):
                if tokens is None:
                    tokens = options.count("--principal")
                lines = await first_lines(process.stdout, 2 + tokens)
            yield Serve(process, lines, log)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            if process.stdout is not None:
                await process.stdout.aclose()


@dataclass
class Serve:
    process: trio.Process
    lines: list[str]
    log: Path

    def urls(self) -> dict[str, str]:
        matches = [ADDRESS.match(line) for line in self.lines[:2]]
        assert all(matches), self.lines
        return {m.group(1): m.group(2) for m in matches if m}

    def tokens(self) -> dict[str, str]:
        found = [TOKEN.match(line) for line in self.lines[2:]]
        assert all(found), self.lines
        return {m.group(1): m.group(2) for m in found if m}


async def test_serve_prints_its_addresses_serves_clients_and_stops_on_ctrl_c(
    real_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    async with serving(tmp_path, "-v", "--principal", "outside", "--principal", "other") as serve:
        urls, tokens = serve.urls(), serve.tokens()
        assert urls["session"].endswith("/sessions/create")
        assert urls["task"].endswith("/tasks?token=TOKEN")
        assert set(tokens) == {"outside", "other"}
        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                streams: list[trio.SocketStream] = []
                try:
                    sharer_ws = await connect(nursery, urls["session"], streams)
                    init = sharer.Initialize(sharer.InitPayload(UserId("outside")))
                    await sharer_ws.send_message(encode(init))
                    created = decode(Channel.SHARER_DOWN, await text(sharer_ws))
                    assert isinstance(created, sharer.SessionInitialized)
                    join = urls["session"].replace(
                        "/sessions/create",
                        f"/sessions/join/{created.session_id}?pwd={created.session_secret.reveal()}",
                    )
                    viewer_ws = await connect(nursery, join, streams)
                    hello = viewer.Initialize(viewer.ViewerInitPayload(UserId("bob")))
                    await viewer_ws.send_message(encode(hello))
                    joined = decode(Channel.VIEWER_DOWN, await text(viewer_ws))
                    assert isinstance(joined, viewer.JoinedSuccessfully)
                    assert joined.rejoin_token is not None

                    task_url = urls["task"].replace("TOKEN", tokens["outside"])
                    tasks_ws = await connect(nursery, task_url, streams)
                    await tasks_ws.send_message(encode(ListRuns(1, "t-none")))
                    answer = decode(Channel.TASKS, await text(tasks_ws))
                    assert answer == TaskError(1, TaskErrorKind.NOT_FOUND, "no run t-none")

                    claimed = urls["task"].replace("token=TOKEN", "principal=outside")
                    impostor = await connect(nursery, claimed, streams)
                    with pytest.raises(trio_websocket.ConnectionClosed) as refused:
                        await impostor.get_message()
                    assert refused.value.reason is not None
                    assert refused.value.reason.code == 1008

                    serve.process.send_signal(signal.SIGINT)
                    for ws in (sharer_ws, viewer_ws, tasks_ws):
                        with pytest.raises(trio_websocket.ConnectionClosed) as closed:
                            await ws.get_message()
                        assert closed.value.reason is not None
                        assert closed.value.reason.code == 1001
                finally:
                    for stream in streams:
                        await stream.aclose()
            assert await serve.process.wait() == 0
    log = serve.log.read_text()
    assert "session_created" in log
    assert "viewer_joined" in log
    secrets = [
        created.session_secret.reveal(),
        created.reconnect_token.reveal(),
        joined.rejoin_token.reveal(),
        *tokens.values(),
    ]
    assert [s for s in secrets if s in log] == []
    assert "seed" not in log


async def test_serve_secrets_differ_every_run_unless_a_seed_is_asked_for(
    real_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Without --seed nothing in one run predicts the next; --seed is for fixtures and says so."""
    seen: dict[str, list[str]] = {"fresh": [], "seeded": []}
    runs: list[tuple[str, tuple[str, ...]]] = [
        ("fresh", ()),
        ("fresh", ()),
        ("seeded", ("--seed", "5")),
        ("seeded", ("--seed", "5")),
    ]
    for kind, options in runs:
        async with serving(tmp_path, "--principal", "p", *options) as serve:
            seen[kind].append(serve.tokens()["p"])
            serve.process.send_signal(signal.SIGINT)
            with trio.fail_after(30):
                assert await serve.process.wait() == 0
        if kind == "seeded":
            assert "predictable" in serve.log.read_text()
    assert seen["fresh"][0] != seen["fresh"][1]
    assert seen["seeded"][0] == seen["seeded"][1]


async def test_serve_teams_share_their_runs_and_hide_them_from_anyone_else(
    real_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """Alice's child run is read by her teammate; to Mallory it is a run that does not exist."""
    options = ("--team", "owners=alice,bob", "--principal", "mallory", "--principal", "alice")
    async with serving(tmp_path, *options, tokens=3) as serve:
        urls, tokens = serve.urls(), serve.tokens()
        assert list(tokens) == ["mallory", "alice", "bob"]
        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                streams: list[trio.SocketStream] = []
                try:
                    ws = {
                        who: await connect(
                            nursery, urls["task"].replace("TOKEN", tokens[who]), streams
                        )
                        for who in ("alice", "bob", "mallory")
                    }

                    async def ask(who: str, request: TaskRequest) -> object:
                        await ws[who].send_message(encode(request))
                        return decode(Channel.TASKS, await text(ws[who]))

                    parent = await ask("alice", CreateRun(1, "Plan", Execution.LOCAL))
                    assert isinstance(parent, RunReply)
                    plan = parent.run.task_id
                    child = await ask("alice", CreateRun(2, "Research", Execution.CLOUD, plan))
                    assert isinstance(child, RunReply)
                    listed = await ask("bob", ListRuns(1, plan))
                    assert isinstance(listed, RunsListed)
                    assert [r.task_id for r in listed.runs] == [child.run.task_id]
                    for task_id in (plan, child.run.task_id, "t-none"):
                        refused = await ask("mallory", GetRun(1, task_id))
                        assert refused == TaskError(1, TaskErrorKind.NOT_FOUND, f"no run {task_id}")
                    serve.process.send_signal(signal.SIGINT)
                finally:
                    for stream in streams:
                        await stream.aclose()
            assert await serve.process.wait() == 0


@pytest.mark.parametrize("port", ["65535", "-1", "http"])
def test_serve_refuses_a_port_it_cannot_use_with_the_next_one(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", "--port", port])
    assert exited.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_the_held_console_keeps_log_lines_until_released() -> None:
    out = io.StringIO()
    console = HeldConsole(out)
    console.write("listening\n")
    console.flush()
    assert out.getvalue() == ""
    console.release()
    console.write("later\n")
    assert out.getvalue() == "listening\nlater\n"


def test_serve_on_a_busy_port_says_so_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1].startswith("sharesim serve: cannot listen on 127.0.0.1: ")


def test_serve_limits_come_from_its_options() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--max-sessions",
            "50",
            "--max-history-mb",
            "256",
            "--max-session-history-mb",
            "16",
            "--max-viewers",
            "8",
            "--seat-idle-minutes",
            "5",
            "--linger-hours",
            "2",
            "--max-seats",
            "400",
        ]
    )
    assert session_limits(args) == SessionLimits(
        max_sessions=50,
        max_history_bytes=256 << 20,
        max_session_history_bytes=16 << 20,
        max_seats=8,
        seat_idle_s=300.0,
        linger_s=7200.0,
        max_client_sessions=12,
        max_client_history_bytes=64 << 20,
        max_server_seats=400,
        max_client_seats=100,
    )
    defaults = SessionLimits()
    assert session_limits(build_parser().parse_args(["serve"])) == dataclasses.replace(
        defaults,
        max_client_sessions=defaults.max_sessions // 4,
        max_client_history_bytes=defaults.max_history_bytes // 4,
        max_server_seats=MAX_SEATS,
        max_client_seats=MAX_SEATS // 4,
    )
    chosen = build_parser().parse_args(
        [
            "serve",
            "--max-client-sessions",
            "7",
            "--max-client-history-mb",
            "3",
            "--max-client-seats",
            "9",
        ]
    )
    assert session_limits(chosen).max_client_sessions == 7
    assert session_limits(chosen).max_client_history_bytes == 3 << 20
    assert session_limits(chosen).max_client_seats == 9


@pytest.mark.parametrize(
    "option",
    [
        ["--max-sessions", "0"],
        ["--max-history-mb", "-1"],
        ["--max-session-history-mb", "many"],
        ["--max-viewers", "0"],
        ["--max-seats", "0"],
        ["--max-client-seats", "-3"],
        ["--seat-idle-minutes", "0"],
        ["--linger-hours", "-2"],
        ["--linger-hours", "inf"],
        ["--linger-hours", "nan"],
        ["--seat-idle-minutes", "0.0001"],
        ["--max-history-mb", "8", "--max-session-history-mb", "16"],
        ["--max-connections", "1000", "--max-client-connections", "5000"],
        ["--max-sessions", "10", "--max-client-sessions", "11"],
        ["--max-history-mb", "100", "--max-client-history-mb", "101"],
        ["--max-seats", "10", "--max-client-seats", "20"],
        ["--max-runs", "10", "--max-principal-runs", "11"],
        ["--principal", ""],
        ["--principal", "two words"],
        ["--team", "owners"],
        ["--team", "owners=", "--principal", "p"],
        ["--team", "two words=alice"],
        ["--team", "a=x", "--team", "a=y"],
        ["--team", "a=x,y", "--team", "b=y"],
    ],
)
def test_serve_refuses_limits_that_cannot_work(
    option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["serve", *option])
    except SystemExit as exited:  # argparse refuses a value on its own
        code = exited.code  # type: ignore[assignment]
    assert code == 2
    err = capsys.readouterr().err
    assert option[-2] in err
    assert "Traceback" not in err
