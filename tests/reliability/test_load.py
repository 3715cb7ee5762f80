"""Load over real sockets: one share, a hundred viewers, some of them rejoining mid-stream.

Every viewer must end with every event exactly once and in order, including
the ten that drop their link part-way and rejoin with their seat and the last
event they hold. By default the sharer sends a few hundred events so the suite
stays quick; `SHARESIM_LOAD_EVENTS=10000` runs the full load, whose figures
(printed with `-s`) are in `benchmarks/RESULTS.md`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import pytest
import trio
import trio.testing

from actors.runtime.simulation import virtual_clock
from actors.runtime.transport import Mode
from protocol import OrderedTerminalEvent, SeatToken, sharer, viewer
from tests.actors.netkit import Client, Servers, joined, running_servers, send_events

VIEWERS = 100
REJOINERS = 10
EVENTS = int(os.environ.get("SHARESIM_LOAD_EVENTS", "300"))
#: Events the sharer sends before waiting for their acks.
BATCH = 100
#: Virtual seconds the run may take. Nothing here waits on a timer, so virtual time
#: moves only once every task waits with nothing in flight: by then the run is stuck,
#: however slow or loaded the machine.
BUDGET_S = 60.0


@pytest.fixture
def load_clock() -> trio.testing.MockClock:
    """The clock every run is on: over real sockets it also waits for what is in flight."""
    return virtual_clock()


class Countdown:
    """An event that is set once `count` parties have arrived."""

    def __init__(self, count: int) -> None:
        self.left = count
        self.done = trio.Event()

    def arrive(self) -> None:
        self.left -= 1
        if not self.left:
            self.done.set()


@dataclass
class Watcher:
    """One viewer reading until the session ends; a rejoiner drops once, after `drop_after`."""

    name: str
    client: Client
    viewer_id: str
    rejoin_token: SeatToken | None
    drop_after: int | None = None
    received: list[int] = field(default_factory=list)

    async def watch(
        self, servers: Servers, created: sharer.SessionInitialized, rejoined: Countdown
    ) -> None:
        while True:
            message = await self.client.receive()
            if isinstance(message, viewer.SessionEnded):
                return
            assert isinstance(message, OrderedTerminalEvent), (self.name, message)
            self.received.append(message.event_no)
            if message.event_no == self.drop_after:
                self.drop_after = None  # once: a resent event must not start another round
                await self.client.link.drop()
                self.client, reply = await servers.join(
                    self.name,
                    created,
                    viewer_id=self.viewer_id,
                    rejoin_token=self.rejoin_token,
                    last_received_event_no=message.event_no,
                )
                assert reply == viewer.RejoinedSuccessfully(), (self.name, reply)
                rejoined.arrive()


def first_wrong(received: list[int]) -> str:
    """Where a viewer's event numbers first leave 0, 1, 2, ..., in a few words."""
    for position, number in enumerate(received):
        if number != position:
            return f"event {number} at position {position}"
    return f"only {len(received)} events"


async def stream(owner: Client, rejoined: Countdown) -> None:
    """Send every event in acked batches; the second half only once every rejoiner is back."""
    half = EVENTS // 2
    for start, end in ((0, half), (half, EVENTS)):
        if start:
            await rejoined.done.wait()
        for first in range(start, end, BATCH):
            await send_events(owner, *range(first, min(first + BATCH, end)))
    owner.send(sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER))


async def test_every_viewer_gets_every_event_once_in_order_over_tcp(
    load_clock: trio.testing.MockClock,
) -> None:
    async with running_servers(mode=Mode.TCP) as servers:
        with trio.fail_after(BUDGET_S):
            owner, created = await servers.share(lifetime=sharer.Lifetime.LINGERING)
            watchers = []
            for i in range(VIEWERS):
                client, seat = await joined(servers, f"viewer-{i}", created)
                watchers.append(Watcher(f"viewer-{i}", client, seat.viewer_id, seat.rejoin_token))
            # Rejoiners are spread over the viewers and drop at points spread over the first half.
            for n in range(REJOINERS):
                rejoiner = watchers[n * VIEWERS // REJOINERS]
                rejoiner.drop_after = (n + 1) * (EVENTS // 2) // (REJOINERS + 1)
            rejoined = Countdown(REJOINERS)
            trace = servers.simulation.trace
            mark, started = len(trace), time.perf_counter()
            async with trio.open_nursery() as nursery:
                for watcher in watchers:
                    nursery.start_soon(watcher.watch, servers, created, rejoined)
                nursery.start_soon(stream, owner, rejoined)
            wall_s = time.perf_counter() - started
    wrong = {w.name: first_wrong(w.received) for w in watchers if w.received != list(range(EVENTS))}
    assert not wrong, wrong
    frames = sum(1 for record in list(trace)[mark:] if record.type != "ConnectionDropped")
    print(
        f"\n{VIEWERS} viewers ({REJOINERS} rejoining), {EVENTS} events over TCP, "
        f"{os.cpu_count()} cores: {wall_s:.1f} s, {EVENTS / wall_s:,.0f} events/s, "
        f"{frames / wall_s:,.0f} frames/s ({frames:,} frames)"
    )
