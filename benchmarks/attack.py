"""`attack`: `sharesim serve` in a process of its own, under clients that do it no good.

Four attacks, each against a fresh server, each measured from outside
through /proc (Linux): the server's resident memory and open descriptors.

- a viewer that never reads, while a sharer sends 10,000 events: the server
  must cut it off and then stop growing (compared with the same events and
  no viewer, so the session's own history is not counted against it);
- 1,000 connections opened and closed without a byte: the descriptors must
  be back to where they were within the handshake timeout;
- 2,000 idle WebSocket connections held open: a legitimate client's round
  trip must stay close to its time on an empty server;
- 300 distinct requests of almost 1 MiB each: the decode cache must not keep them.
"""

from __future__ import annotations

import json
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import trio
import trio_websocket

from protocol import Channel, OrderedTerminalEvent, Ping, UserId, decode, encode, sharer, viewer
from protocol.events import PtyBytesRead
from protocol.routes import CREATE_ROUTE, join_route, tasks_route

from .harness import BenchResult, Check, at_most

EVENTS, SMOKE_EVENTS = 10_000, 400
ABANDONED, SMOKE_ABANDONED = 1_000, 50
IDLE, SMOKE_IDLE = 2_000, 50
BIG_FRAMES, SMOKE_BIG_FRAMES = 300, 10
#: Terminal output per event: about 2 KiB of JSON.
EVENT_BYTES = 1024
BATCH = 100
ROUND_TRIPS = 300
IDLE_ROUNDS = 3
#: Short enough to keep the run short; the target is relative to it.
HANDSHAKE_TIMEOUT_S, SMOKE_HANDSHAKE_TIMEOUT_S = 5.0, 1.0
BIG_FRAME_CHARS = 900_000
#: Every wait on the server is bounded by this; only a hang reaches it.
GUARD_S = 120.0

#: Targets: what the stalled viewer may cost beyond the history, and its growth once cut off.
MAX_EXCESS_MB = 16.0
MAX_GROWTH_AFTER_CUT_MB = 2.0
#: Seconds past the handshake timeout the descriptors may take to come back.
FD_SLACK_S = 2.0
MAX_RTT_RATIO = 2.0
MAX_BIG_FRAME_EXCESS_MB = 32.0


@dataclass
class _Served:
    process: trio.Process
    session_port: int
    task_port: int
    log: Path
    #: The task-server token of the bench's one principal.
    token: str

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert match, status
        return int(match.group(1)) / 1024

    def descriptors(self) -> int:
        return len(list(Path(f"/proc/{self.process.pid}/fd").iterdir()))

    def logged(self, event: str) -> bool:
        return f" {event} " in self.log.read_text()


@asynccontextmanager
async def _serve(*options: str) -> AsyncIterator[_Served]:
    """`sharesim serve` until the block ends, then Ctrl-C; its log goes to a temporary file."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "serve.log"
        command = [sys.executable, "-m", "scenarios.cli", "serve", "--principal", "bench", *options]
        with log.open("wb") as stderr:
            process = await trio.lowlevel.open_process(
                command, stdout=subprocess.PIPE, stderr=stderr
            )
            try:
                assert process.stdout is not None
                session, task, token = await _first_lines(process.stdout)
                yield _Served(process, session, task, log, token)
                process.send_signal(signal.SIGINT)
                with trio.fail_after(GUARD_S):
                    await process.wait()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
                if process.stdout is not None:
                    await process.stdout.aclose()


async def _first_lines(stdout: trio.abc.ReceiveStream) -> tuple[int, int, str]:
    """The two servers' ports and the bench principal's task token, from serve's stdout."""
    data = b""
    with trio.fail_after(GUARD_S):
        while data.count(b"\n") < 3:
            chunk = await stdout.receive_some()
            assert chunk, f"serve exited before printing its addresses: {data!r}"
            data += chunk
    session, task, token = data.decode().splitlines()[:3]
    return _port(session), _port(task), token.rsplit(": ", 1)[1]


def _port(address_line: str) -> int:
    return int(re.findall(r":(\d+)/", address_line)[0])


def _upgrade(target: str) -> bytes:
    return (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def _masked_text(text: str) -> bytes:
    """One client text frame (mask of zeros: the payload goes as it is)."""
    data = text.encode()
    size = len(data)
    if size < 126:
        head = bytes([0x81, 0x80 | size])
    elif size < 1 << 16:
        head = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    return head + bytes(4) + data


async def _open(stream: trio.SocketStream, target: str) -> None:
    """The opening handshake by hand; a client must wait for the answer before it sends."""
    await stream.send_all(_upgrade(target))
    answer = b""
    with trio.fail_after(GUARD_S):
        while b"\r\n\r\n" not in answer:
            chunk = await stream.receive_some(4096)
            assert chunk, f"the server hung up during the handshake: {answer!r}"
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 101 "), answer


async def _raw(port: int, *, receive_buffer: int | None = None) -> trio.SocketStream:
    sock = trio.socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_RCVBUF, receive_buffer)
    await sock.connect(("127.0.0.1", port))
    return trio.SocketStream(sock)


@asynccontextmanager
async def _client(port: int, target: str) -> AsyncIterator[trio_websocket.WebSocketConnection]:
    async with trio_websocket.open_websocket("127.0.0.1", port, target, use_ssl=False) as ws:
        yield ws


# -- a viewer that never reads ---------------------------------------------------


async def _stalled_viewer(events: int, *, with_viewer: bool) -> tuple[dict[int, float], int | None]:
    """RSS (MiB) after every quarter of `events`, and the event the viewer was cut off at."""
    checkpoints = {events * quarter // 4 for quarter in range(1, 5)}
    samples: dict[int, float] = {}
    cut_at: int | None = None
    async with (
        _serve("--port", "0") as served,
        _client(served.session_port, CREATE_ROUTE) as owner,
    ):
        init = sharer.Initialize(sharer.InitPayload(UserId("bench")))
        await owner.send_message(encode(init))
        created = decode(Channel.SHARER_DOWN, str(await owner.get_message()))
        assert isinstance(created, sharer.SessionInitialized), created
        lagger = None
        if with_viewer:
            secret = created.session_secret.reveal()
            lagger = await _raw(served.session_port, receive_buffer=4096)
            await _open(lagger, join_route(created.session_id, secret))
            hello = viewer.Initialize(viewer.ViewerInitPayload(UserId("lagger")))
            await lagger.send_all(_masked_text(encode(hello)))
        samples[0] = served.rss_mb()
        for start in range(0, events, BATCH):
            numbers = range(start, min(start + BATCH, events))
            for n in numbers:
                event = OrderedTerminalEvent(n, PtyBytesRead(bytes(EVENT_BYTES)))
                await owner.send_message(encode(event))
            for _ in numbers:
                await owner.get_message()
            sent = numbers[-1] + 1
            if cut_at is None and with_viewer and served.logged("peer_fell_behind"):
                cut_at = sent
                samples[sent] = served.rss_mb()
            if sent in checkpoints:
                samples[sent] = served.rss_mb()
        if lagger is not None:
            await lagger.aclose()
    return samples, cut_at


# -- abandoned handshakes ----------------------------------------------------------


async def _abandoned(count: int, timeout_s: float) -> tuple[int, int, float]:
    """Descriptors before, right after `count` connect-and-close cycles, and seconds to recover."""
    options = ("--port", "0", "--handshake-timeout", str(timeout_s))
    async with _serve(*options) as served:
        await trio.sleep(0.5)
        baseline = served.descriptors()
        for _ in range(count):
            stream = await _raw(served.session_port)
            await stream.aclose()
        await trio.sleep(0.1)  # let the server accept what is still in its backlog
        peak = served.descriptors()
        started = time.perf_counter()
        with trio.move_on_after(timeout_s + GUARD_S):
            while served.descriptors() > baseline:  # noqa: ASYNC110 - /proc has no event
                await trio.sleep(0.05)
        return baseline, peak, time.perf_counter() - started


# -- idle connections ---------------------------------------------------------------


async def _round_trips(ws: trio_websocket.WebSocketConnection) -> float:
    """Median seconds for a Ping to come back as a Pong, after as many to warm up."""
    times = []
    for n in range(2 * ROUND_TRIPS):
        started = time.perf_counter()
        await ws.send_message(encode(Ping(n.to_bytes(4, "big"))))
        await ws.get_message()
        times.append(time.perf_counter() - started)
    return statistics.median(times[ROUND_TRIPS:])


async def _idle(count: int) -> tuple[float, float]:
    """Median round trip on an empty server, and with `count` idle connections held.

    The two alternate for `IDLE_ROUNDS` rounds and each keeps its fastest, the
    one least disturbed by anything else on the machine.
    """
    _room_for(count)
    empty, held = [], []
    # Every connection comes from one address here: it may hold them all.
    cap = str(count + 100)
    options = ("--port", "0", "--max-connections", cap, "--max-client-connections", cap)
    async with _serve(*options) as served, _client(served.session_port, CREATE_ROUTE) as ws:
        await ws.send_message(encode(sharer.Initialize(sharer.InitPayload(UserId("bench")))))
        await ws.get_message()
        for _ in range(IDLE_ROUNDS):
            empty.append(await _round_trips(ws))
            idle = []
            try:
                for _ in range(count):
                    stream = await _raw(served.session_port)
                    idle.append(stream)
                    await _open(stream, CREATE_ROUTE)
                held.append(await _round_trips(ws))
            finally:
                for stream in idle:
                    await stream.aclose()
    return min(empty), min(held)


def _room_for(count: int) -> None:
    """This process holds `count` sockets at once: raise its soft limit on open files to fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = count + 256
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


# -- big distinct frames -----------------------------------------------------------


async def _big_frames(count: int) -> tuple[float, float]:
    """RSS (MiB) of an idle server, and after `count` distinct requests of ~0.9 MB each."""
    async with _serve("--port", "0") as served:
        await trio.sleep(0.5)
        before = served.rss_mb()
        async with _client(served.task_port, tasks_route(served.token)) as ws:
            for n in range(count):
                padding = str(n) * (BIG_FRAME_CHARS // len(str(n)))
                request = {"GetRun": {"request_id": n, "task_id": "t-none", "padding": padding}}
                await ws.send_message(json.dumps(request))
                await ws.get_message()
        await trio.sleep(0.5)
        return before, served.rss_mb()


def run(*, smoke: bool = False) -> BenchResult:
    events = SMOKE_EVENTS if smoke else EVENTS
    abandoned = SMOKE_ABANDONED if smoke else ABANDONED
    idle_count = SMOKE_IDLE if smoke else IDLE
    big = SMOKE_BIG_FRAMES if smoke else BIG_FRAMES
    handshake_timeout_s = SMOKE_HANDSHAKE_TIMEOUT_S if smoke else HANDSHAKE_TIMEOUT_S

    quiet, _ = trio.run(lambda: _stalled_viewer(events, with_viewer=False))
    stalled, cut_at = trio.run(lambda: _stalled_viewer(events, with_viewer=True))
    excess = {n: stalled[n] - quiet[n] for n in quiet}
    # From the cut on, the stalled server may grow only as the quiet one does (its history).
    first = min((n for n in quiet if cut_at is not None and n >= cut_at), default=events)
    growth = (stalled[events] - stalled[first]) - (quiet[events] - quiet[first])
    baseline, peak, recovered_s = trio.run(_abandoned, abandoned, handshake_timeout_s)
    empty_s, held_s = trio.run(_idle, idle_count)
    big_before, big_after = trio.run(_big_frames, big)

    checks: list[Check] = [
        Check(f"the stalled viewer is cut off (at event {cut_at})", cut_at is not None),
        at_most("stalled viewer's excess MiB at the end", excess[events], MAX_EXCESS_MB),
        at_most("growth MiB once cut off, beyond the history", growth, MAX_GROWTH_AFTER_CUT_MB),
        at_most(
            "seconds for descriptors to come back",
            recovered_s,
            handshake_timeout_s + FD_SLACK_S,
        ),
        at_most("round trip, idle-held / empty", held_s / empty_s, MAX_RTT_RATIO),
        at_most("MiB kept after big frames", big_after - big_before, MAX_BIG_FRAME_EXCESS_MB),
    ]
    return BenchResult(
        "attack",
        {
            "events": events,
            "rss_mb_no_viewer": {str(n): round(mb, 1) for n, mb in sorted(quiet.items())},
            "rss_mb_stalled_viewer": {str(n): round(mb, 1) for n, mb in sorted(stalled.items())},
            "cut_off_at_event": -1 if cut_at is None else cut_at,
            "excess_mb": round(excess[events], 1),
            "growth_after_cut_mb": round(growth, 1),
            "abandoned": abandoned,
            "fds": {"baseline": baseline, "peak": peak},
            "fd_recovery_s": round(recovered_s, 2),
            "handshake_timeout_s": handshake_timeout_s,
            "idle_connections": idle_count,
            "rtt_ms": {"empty": round(empty_s * 1e3, 3), "idle_held": round(held_s * 1e3, 3)},
            "rtt_ratio": round(held_s / empty_s, 2),
            "big_frames": big,
            "big_frames_rss_mb": {"before": round(big_before, 1), "after": round(big_after, 1)},
        },
        checks,
    )
