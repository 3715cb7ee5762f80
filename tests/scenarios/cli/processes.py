"""A `sharesim` command run in a child process, read line by line, and the processes it started.

Interruption can only be tested from outside: a signal goes to a process id,
and what is left running afterwards is only visible in /proc. Every wait here
has a bound, so a command that hangs fails its test instead of stalling it.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

#: How long a command may take to print the line a test waits for.
START_BOUND_S = 120.0
#: How long a command may take to exit once signalled.
EXIT_BOUND_S = 15.0


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, or None if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def children_of(pid: int) -> dict[int, str]:
    """Every live process whose parent is `pid`, with its start time (to tell reused ids apart)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat_fields(int(entry.name))
        # After the name: state, ppid, ...; the start time is field 22 of the whole line.
        if stat is not None and stat[1] == str(pid):
            found[int(entry.name)] = stat[19]
    return found


def still_running(processes: dict[int, str]) -> list[int]:
    """The processes of `processes` that are still alive (not gone, not a zombie)."""
    alive = []
    for pid, started in processes.items():
        stat = _stat_fields(pid)
        if stat is not None and stat[19] == started and stat[0] != "Z":
            alive.append(pid)
    return alive


def cmdline(pid: int) -> str:
    """The command line of process `pid`, its arguments joined by spaces ("" once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def gone_within(processes: dict[int, str], bound_s: float) -> bool:
    """Whether every process of `processes` has ended within `bound_s` seconds."""
    deadline = time.monotonic() + bound_s
    while still_running(processes):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclass
class Command:
    """A running `python -m scenarios.cli ...` with its output collected as it comes."""

    args: list[str]
    process: subprocess.Popen[str] = field(init=False)
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    _lines: queue.Queue[str] = field(default_factory=queue.Queue)
    _out_lines: queue.Queue[str] = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scenarios.cli", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._readers = [
            threading.Thread(
                target=self._read, args=(self.process.stdout, self.stdout, self._out_lines)
            ),
            threading.Thread(
                target=self._read, args=(self.process.stderr, self.stderr, self._lines)
            ),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], into: list[str], announce: queue.Queue[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))
            announce.put(line)

    def wait_for_stderr(self, pattern: str) -> re.Match[str]:
        """The first stderr line matching `pattern`; fails if none comes within the bound."""
        return self._wait_for(self._lines, pattern, "stderr")

    def wait_for_stdout(self, pattern: str) -> re.Match[str]:
        """The first stdout line matching `pattern`; fails if none comes within the bound."""
        return self._wait_for(self._out_lines, pattern, "stdout")

    def _wait_for(self, lines: queue.Queue[str], pattern: str, name: str) -> re.Match[str]:
        deadline = time.monotonic() + START_BOUND_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            match = re.search(pattern, line)
            if match:
                return match
        self.kill()
        raise AssertionError(f"no {name} line matched {pattern!r}; stderr: {self.stderr[-20:]}")

    def signal(self, signum: signal.Signals) -> float:
        """Send `signum` to the command's own process id; returns when it was sent."""
        os.kill(self.process.pid, signum)
        return time.monotonic()

    def wait(self) -> int:
        """The exit code, once both output streams are read to the end."""
        try:
            code = self.process.wait(timeout=EXIT_BOUND_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running {EXIT_BOUND_S} s after the signal") from None
        self._close()
        return code

    def _close(self) -> None:
        for reader in self._readers:
            reader.join(timeout=EXIT_BOUND_S)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def kill(self) -> None:
        """Stop the command and every process it started (cleanup after a failed test)."""
        for pid in children_of(self.process.pid):
            os.kill(pid, signal.SIGKILL)
        self.process.kill()
        self.process.wait()
        self._close()
