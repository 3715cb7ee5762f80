"""How `sharesim serve` stops: the first stop signal closes every client with 1001 and exits 0;
a second one during that shutdown stops at once, says so, and exits 130.

The signals are sent from this process with `os.kill`, as a terminal, a
service manager or a closed terminal (SIGHUP) would send them.
"""

from __future__ import annotations

import importlib.metadata
import signal
import socket
import subprocess
import sys

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from protocol import Channel, UserId, decode, encode, sharer
from scenarios.cli.interrupt import EXIT_INTERRUPTED
from tests.scenarios.cli.processes import Command

#: Long enough for any answer from a server on loopback; only a hang reaches it.
GUARD_S = 30.0
SESSION_URL = r"^session server: (ws://127\.0\.0\.1:(\d+)/sessions/create)$"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_closes_every_client_with_going_away(signum: signal.Signals) -> None:
    command = Command(["serve", "--port", "0"])
    url = command.wait_for_stdout(SESSION_URL)[1]
    with connect(url, open_timeout=GUARD_S, close_timeout=GUARD_S, proxy=None) as ws:
        ws.send(encode(sharer.Initialize(sharer.InitPayload(UserId("outside")))))
        created = decode(Channel.SHARER_DOWN, str(ws.recv(timeout=GUARD_S)))
        assert isinstance(created, sharer.SessionInitialized)
        command.signal(signum)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=GUARD_S)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001
    assert command.wait() == 0
    stderr = "\n".join(command.stderr)
    assert f"signal='{signum.name}'" in stderr
    assert "Traceback" not in stderr


def _silent_client(port: int) -> socket.socket:
    """A client that opens a WebSocket and then reads nothing, so a close waits for it."""
    client = socket.create_connection(("127.0.0.1", port), timeout=GUARD_S)
    client.sendall(
        b"GET /sessions/create HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    assert client.recv(12) == b"HTTP/1.1 101"
    return client


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_during_shutdown_stops_at_once_with_130(second: signal.Signals) -> None:
    command = Command(["serve", "--port", "0"])
    port = int(command.wait_for_stdout(SESSION_URL)[2])
    with _silent_client(port):
        command.signal(signal.SIGINT)
        # The server now waits for the silent client to answer its close.
        command.wait_for_stderr(r"closing_all_links")
        command.signal(second)
        assert command.wait() == EXIT_INTERRUPTED
    stderr = "\n".join(command.stderr)
    assert f"{second.name} during shutdown: stopping now" in stderr
    assert "Traceback" not in stderr


#: A stop signal that lands once the launcher has installed its handlers and before the
#: command line is loaded: where a real one lands during the second `sharesim` takes to start.
_SIGNALLED_WHILE_STARTING = """
import os, signal, sys
from scenarios.launch import EarlySignals, start
early = EarlySignals()
early.install()
for name in sys.argv[1].split(","):
    os.kill(os.getpid(), getattr(signal, name))
sys.exit(start(early, sys.argv[2:]))
"""


def _signalled_while_starting(signals: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _SIGNALLED_WHILE_STARTING, signals, *argv],
        capture_output=True,
        text=True,
        timeout=GUARD_S,
        check=False,
    )


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stop_signal_while_starting_stops_serve_cleanly(signum: str) -> None:
    done = _signalled_while_starting(signum, "serve", "--port", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # stopped before listening
    assert f"sharesim serve: {signum} while starting" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_second_stop_signal_while_starting_exits_at_once_with_130() -> None:
    done = _signalled_while_starting("SIGTERM,SIGINT", "serve", "--port", "0")
    assert done.returncode == EXIT_INTERRUPTED
    assert "SIGINT while starting: stopping now (exit 130)" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_executable_handles_signals_before_loading_anything_heavy() -> None:
    [script] = [
        e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "sharesim"
    ]
    assert script.value == "scenarios.launch:main"
    probe = (
        "import sys, scenarios.launch; print(sorted({'trio', 'scenarios.cli'} & set(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=GUARD_S, check=True
    )
    assert loaded.stdout.strip() == "[]"
