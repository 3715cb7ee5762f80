"""`mailbox`: messages through an actor's `tell` and `handle`, against a bare memory channel.

Both sides move the same objects from one sending task to one receiving loop
through a buffer of the mailbox's default size; the actor side adds what the
runtime adds (an envelope per message, the dispatch to `handle`). `ratio` compares
with trio's `send` and `receive`, which pass through the scheduler on every
message; `ratio_nowait` with the cheapest possible use of the same channel,
which does not while there is room or something queued.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from actors.runtime.actor import DEFAULT_MAILBOX_SIZE, Actor
from actors.runtime.simulation import run_seeded
from actors.runtime.stage import open_stage

from .harness import BenchResult, at_least, best_of, fastest

FULL_MESSAGES = 200_000
SMOKE_MESSAGES = 2_000
TARGET_RATIO = 0.7


@dataclass(frozen=True, slots=True)
class _Note:
    number: int


class _Counter(Actor[_Note]):
    """Counts what it handles and says when the last one is in."""

    def __init__(self, expected: int) -> None:
        super().__init__("counter")
        self.expected = expected
        self.handled = 0
        self.done = trio.Event()

    async def handle(self, message: _Note, sender: str) -> None:
        self.handled += 1
        if self.handled == self.expected:
            self.done.set()


async def _through_actor(notes: list[_Note]) -> float:
    async with open_stage() as stage:
        counter = _Counter(len(notes))
        ref = await stage.start(counter)
        start = time.perf_counter()
        for note in notes:
            await ref.tell(note, sender="bench")
        await counter.done.wait()
        return time.perf_counter() - start


async def _through_channel(notes: list[_Note]) -> float:
    send, receive = trio.open_memory_channel[_Note](DEFAULT_MAILBOX_SIZE)
    handled = 0

    async def consume() -> None:
        nonlocal handled
        async with receive:
            async for _ in receive:
                handled += 1

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        async with send:
            for note in notes:
                await send.send(note)
    assert handled == len(notes)
    return time.perf_counter() - start


async def _through_channel_nowait(notes: list[_Note]) -> float:
    """The cheapest use of a channel: no trip through the scheduler while there is room."""
    send, receive = trio.open_memory_channel[_Note](DEFAULT_MAILBOX_SIZE)
    handled = 0
    done = trio.Event()

    async def consume() -> None:
        nonlocal handled
        while handled < len(notes):
            try:
                receive.receive_nowait()
            except trio.WouldBlock:
                await receive.receive()
            handled += 1
        done.set()

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        for note in notes:
            try:
                send.send_nowait(note)
            except trio.WouldBlock:
                await send.send(note)
        await done.wait()
    return time.perf_counter() - start


def _seconds(body: Callable[[list[_Note]], Awaitable[float]], notes: list[_Note]) -> float:
    return run_seeded(body, notes, seed=0)


def run(*, smoke: bool = False) -> BenchResult:
    count = SMOKE_MESSAGES if smoke else FULL_MESSAGES
    notes = [_Note(number) for number in range(count)]
    actor_s, raw_s = best_of(
        lambda: _seconds(_through_actor, notes), lambda: _seconds(_through_channel, notes)
    )
    nowait_s = fastest(lambda: _seconds(_through_channel_nowait, notes))
    ratio = raw_s / actor_s
    return BenchResult(
        "mailbox",
        {
            "messages": count,
            "actor_per_s": round(count / actor_s),
            "raw_per_s": round(count / raw_s),
            "raw_nowait_per_s": round(count / nowait_s),
            "ratio": round(ratio, 3),
            "ratio_nowait": round(nowait_s / actor_s, 3),
        },
        [at_least("mailbox ratio", ratio, TARGET_RATIO)],
    )
