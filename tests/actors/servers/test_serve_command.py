"""`sharesim serve` as a user runs it: a real process, real ports, a real client, then Ctrl-C."""

from __future__ import annotations

import io
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trio
import trio.testing
import trio_websocket

from protocol import (
    ListRuns,
    TaskError,
    TaskErrorKind,
    UserId,
    decode_sharer_down,
    decode_tasks,
    encode,
    sharer,
)
from scenarios.cli import build_parser, main
from scenarios.cli.serve import HeldConsole

ADDRESS = re.compile(r"^(session|task) server: (ws://127\.0\.0\.1:\d+/\S+)$")


@pytest.fixture
def real_clock() -> trio.testing.MockClock:
    """Wall-clock time: a child process and real sockets do not follow a virtual clock."""
    return trio.testing.MockClock(rate=1.0)


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


async def test_serve_prints_its_addresses_serves_clients_and_stops_on_ctrl_c(
    real_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "scenarios.cli", "serve", "--port", "0"]
    with (tmp_path / "stderr.log").open("wb") as stderr:
        process = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE, stderr=stderr)
        try:
            assert process.stdout is not None
            with trio.fail_after(30):
                lines = await first_lines(process.stdout, 2)
            matches = [ADDRESS.match(line) for line in lines]
            assert all(matches), lines
            urls = {m.group(1): m.group(2) for m in matches if m}
            assert urls["session"].endswith("/sessions/create")
            assert urls["task"].endswith("/tasks?principal=NAME")

            with trio.fail_after(30):
                async with trio.open_nursery() as nursery:
                    streams = []
                    try:
                        sharer_ws = await connect(nursery, urls["session"], streams)
                        init = sharer.Initialize(sharer.InitPayload(UserId("outside")))
                        await sharer_ws.send_message(encode(init))
                        reply = decode_sharer_down(await sharer_ws.get_message())
                        assert isinstance(reply, sharer.SessionInitialized)

                        task_url = urls["task"].replace("NAME", "outside")
                        tasks_ws = await connect(nursery, task_url, streams)
                        await tasks_ws.send_message(encode(ListRuns(1, "t-none")))
                        answer = decode_tasks(await tasks_ws.get_message())
                        assert answer == TaskError(1, TaskErrorKind.NOT_FOUND, "no run t-none")

                        process.send_signal(signal.SIGINT)
                        for ws in (sharer_ws, tasks_ws):
                            with pytest.raises(trio_websocket.ConnectionClosed) as closed:
                                await ws.get_message()
                            assert closed.value.reason.code == 1001
                    finally:
                        for stream in streams:
                            await stream.aclose()
                assert await process.wait() == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            if process.stdout is not None:
                await process.stdout.aclose()


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
