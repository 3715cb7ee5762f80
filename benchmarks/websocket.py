"""`websocket`: the session server fanning events out to viewers, against bare trio-websocket.

Measured: a sharer and V viewers on bare links (no agent or viewer actors) of
a running session server; the sharer streams N events and every viewer reads
all N, decoded. Baseline: one upstream connection and V downstream ones of
plain trio-websocket, with a relay task copying each of the same N frames to
every viewer. Both run over memory streams, then both over TCP loopback.
"""

from __future__ import annotations

import time

import trio

from actors.rules.credentials import SeededCredentials
from actors.runtime.simulation import open_simulation, run_seeded
from actors.runtime.transport import Link, Mode
from actors.servers.session_server import SessionServer
from protocol import OrderedTerminalEvent, UserId, encode, sharer, viewer
from protocol.routes import CREATE_ROUTE, join_route

from .frames import exchange_events
from .harness import BenchResult, at_least, best_of
from .raw_ws import relay_frames

FULL = (2_000, 20)
SMOKE = (40, 3)
TARGET_RATIO = 0.5


async def _fan_out(mode: Mode, stream: list[OrderedTerminalEvent], viewers: int) -> float:
    async with open_simulation(mode=mode) as simulation, trio.open_nursery() as nursery:
        network = simulation.network
        server = SessionServer(network, SeededCredentials(simulation.random.stream))
        await simulation.stage.start(server)
        up = await network.connect("sharer", server.name, CREATE_ROUTE, nursery)
        up.send(sharer.Initialize(sharer.InitPayload(UserId("sharer"))))
        created = await up.receive()
        assert isinstance(created, sharer.SessionInitialized)
        route = join_route(created.session_id, created.session_secret.reveal())
        downs: list[Link] = []
        for number in range(viewers):
            down = await network.connect(f"viewer-{number}", server.name, route, nursery)
            down.send(viewer.Initialize(viewer.ViewerInitPayload(UserId("viewer"))))
            assert isinstance(await down.receive(), viewer.JoinedSuccessfully)
            downs.append(down)
        start = time.perf_counter()
        async with trio.open_nursery() as readers:
            readers.start_soon(_read, up, len(stream))  # the acks
            for down in downs:
                readers.start_soon(_read, down, len(stream))
            for event in stream:
                up.send(event)
        elapsed = time.perf_counter() - start
        nursery.cancel_scope.cancel()
    return elapsed


async def _read(link: Link, count: int) -> None:
    for _ in range(count):
        await link.receive()


def _measure(mode: Mode, count: int, viewers: int) -> tuple[float, float]:
    stream = exchange_events(count)
    frames = [encode(event) for event in stream]

    def measured() -> float:
        return run_seeded(_fan_out, mode, stream, viewers, seed=0)

    def baseline() -> float:
        return run_seeded(relay_frames, mode, frames, viewers, seed=0)

    return best_of(measured, baseline)


def run(*, smoke: bool = False) -> BenchResult:
    count, viewers = SMOKE if smoke else FULL
    figures: dict[str, float | int] = {"events": count, "viewers": viewers}
    checks = []
    for mode in Mode:
        measured_s, raw_s = _measure(mode, count, viewers)
        ratio = raw_s / measured_s
        frames = count * viewers
        figures[f"frames_per_s_{mode.value}"] = round(frames / measured_s)
        figures[f"raw_frames_per_s_{mode.value}"] = round(frames / raw_s)
        figures[f"ratio_{mode.value}"] = round(ratio, 3)
        checks.append(at_least(f"websocket ratio_{mode.value}", ratio, TARGET_RATIO))
    return BenchResult("websocket", dict(figures), checks)
