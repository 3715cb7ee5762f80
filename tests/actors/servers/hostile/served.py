"""`sharesim serve` as a separate process: what a crash would really take down."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import trio

from .rawws import GUARD_S

ADDRESS = re.compile(r"^(session|task) server: ws://(127\.0\.0\.1|\[::1\]):(\d+)/")
TOKEN = re.compile(r"^task token for (\S+): (\S+)$")


@dataclass
class Served:
    process: trio.Process
    session_port: int
    task_port: int
    log: Path
    #: The task-server token of each `--principal`.
    tokens: dict[str, str]
    #: The host as a URL names it (an IPv6 address in brackets).
    host: str = "127.0.0.1"

    def task_url(self, principal: str) -> str:
        return f"ws://{self.host}:{self.task_port}/tasks?token={self.tokens[principal]}"

    @property
    def session_base(self) -> str:
        return f"ws://{self.host}:{self.session_port}"

    def running(self) -> bool:
        return self.process.returncode is None

    def log_lines(self, event: str) -> list[str]:
        """The stderr lines of one log event (the console renders `event` first)."""
        return [line for line in self.log.read_text().splitlines() if f" {event} " in line]


async def _first_lines(stdout: trio.abc.ReceiveStream, count: int) -> list[str]:
    data = b""
    with trio.fail_after(GUARD_S):
        while data.count(b"\n") < count:
            chunk = await stdout.receive_some()
            assert chunk, f"serve exited before printing its addresses: {data!r}"
            data += chunk
    return data.decode().splitlines()[:count]


@asynccontextmanager
async def serve(tmp_path: Path, *options: str) -> AsyncIterator[Served]:
    """Run `sharesim serve` until the block ends, then stop it as Ctrl-C does; it must exit 0."""
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "scenarios.cli", "serve", "--port", "0", *options]
    with log.open("wb") as stderr:
        process = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE, stderr=stderr)
        try:
            assert process.stdout is not None
            lines = await _first_lines(process.stdout, 2 + options.count("--principal"))
            ports = {}
            hosts = set()
            for line in lines[:2]:
                match = ADDRESS.match(line)
                assert match, line
                hosts.add(match.group(2))
                ports[match.group(1)] = int(match.group(3))
            tokens: dict[str, str] = {}
            for line in lines[2:]:
                token = TOKEN.match(line)
                assert token, line
                tokens[token.group(1)] = token.group(2)
            [host] = hosts
            served = Served(process, ports["session"], ports["task"], log, tokens, host)
            yield served
            assert served.running(), f"serve died:\n{log.read_text()[-3000:]}"
            process.send_signal(signal.SIGINT)
            with trio.fail_after(GUARD_S):
                assert await process.wait() == 0, log.read_text()[-3000:]
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            if process.stdout is not None:
                await process.stdout.aclose()
