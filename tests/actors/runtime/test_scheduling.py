"""What the runtime does to avoid scheduler round trips, and what it keeps."""

from __future__ import annotations

import gc

import pytest
import trio

from actors.runtime import Actor, open_stage
from actors.runtime.actor import receive_eagerly
from actors.runtime.stage import STAGE_GC_THRESHOLDS


class Sink(Actor[object]):
    def __init__(self) -> None:
        super().__init__("sink")
        self.seen: list[object] = []

    async def handle(self, message: object, sender: str) -> None:
        self.seen.append(message)


async def test_a_cancelled_sender_still_stops_at_tell(autojump_clock: trio.abc.Clock) -> None:
    async with open_stage() as stage:
        sink = Sink()
        ref = await stage.start(sink)
        with trio.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(trio.Cancelled):
                await ref.tell("never")
        await ref.tell("sent")
        await trio.testing.wait_all_tasks_blocked()
        assert sink.seen == ["sent"]


async def test_receive_eagerly_takes_what_is_queued_then_waits_then_ends() -> None:
    send, receive = trio.open_memory_channel[int](4)
    send.send_nowait(1)
    send.send_nowait(2)
    assert [await receive_eagerly(receive), await receive_eagerly(receive)] == [1, 2]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(send.send, 3)
        assert await receive_eagerly(receive) == 3
    send.close()
    with pytest.raises(trio.EndOfChannel):
        await receive_eagerly(receive)


async def test_collection_is_relaxed_while_any_stage_is_open() -> None:
    before = gc.get_threshold()
    async with open_stage():
        assert gc.get_threshold() == STAGE_GC_THRESHOLDS
        async with open_stage():
            assert gc.get_threshold() == STAGE_GC_THRESHOLDS
        assert gc.get_threshold() == STAGE_GC_THRESHOLDS
    assert gc.get_threshold() == before
