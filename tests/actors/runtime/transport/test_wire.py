"""The wire keeps virtual time still while bytes or a close are on their way, and only then.

A slow kernel is played by memory streams that a worker thread pumps after a
wall-clock pause: to Trio, as with a loaded machine's loopback, every task is
blocked and nothing is readable yet.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
import trio
import trio.testing
from trio.testing import MemoryReceiveStream, MemorySendStream, memory_stream_pump

from actors.runtime.server_side import accept_connections
from actors.runtime.wire import CountedStream, Wire, WireStuck

#: Wall seconds the slow kernel sits on what it was given.
KERNEL_DELAY_S = 0.05


class SlowKernel:
    """One counted connection whose bytes move only when `deliver` runs."""

    def __init__(self, wire: Wire) -> None:
        self._up = (MemorySendStream(), MemoryReceiveStream())
        self._down = (MemorySendStream(), MemoryReceiveStream())
        connection = wire.dialling((40000, 8000))
        self.client = wire.dialled(connection, trio.StapledStream(self._up[0], self._down[1]))
        self.server = wire.accepted(trio.StapledStream(self._down[0], self._up[1]), (40000, 8000))

    def deliver(self) -> None:
        for send, receive in (self._up, self._down):
            # A closed receiving end loses what was on its way to it.
            with contextlib.suppress(trio.BrokenResourceError):
                memory_stream_pump(send, receive)

    def deliver_after(self, seconds: float) -> None:
        """From a worker thread: wait on the wall clock, then deliver."""
        time.sleep(seconds)
        trio.from_thread.run_sync(self.deliver)

    def deliver_once(self, released: threading.Event) -> None:
        """From a worker thread: deliver once the test says so."""
        released.wait()
        trio.from_thread.run_sync(self.deliver)


async def test_time_stands_still_while_bytes_are_on_their_way(
    autojump_clock: trio.abc.Clock,
) -> None:
    wire = Wire()
    kernel = SlowKernel(wire)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(wire.hold_time)
        await kernel.client.send_all(b"ping")
        nursery.start_soon(trio.to_thread.run_sync, kernel.deliver_after, KERNEL_DELAY_S)
        with trio.fail_after(30):
            assert await kernel.server.receive_some() == b"ping"
        assert trio.current_time() == 0
        assert not wire.busy
        # With nothing in flight, time jumps again as it always does.
        await trio.sleep(5)
        assert trio.current_time() == 5
        nursery.cancel_scope.cancel()


async def test_time_stands_still_while_a_close_is_on_its_way(
    autojump_clock: trio.abc.Clock,
) -> None:
    wire = Wire()
    kernel = SlowKernel(wire)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(wire.hold_time)
        await kernel.client.aclose()
        nursery.start_soon(trio.to_thread.run_sync, kernel.deliver_after, KERNEL_DELAY_S)
        with trio.fail_after(30):
            assert await kernel.server.receive_some() == b""
        assert trio.current_time() == 0
        nursery.cancel_scope.cancel()


async def test_without_the_hold_a_timeout_fires_before_bytes_already_sent(
    autojump_clock: trio.abc.Clock,
) -> None:
    """What the hold prevents: the clock jumps while every task waits on the kernel."""
    wire = Wire()
    kernel = SlowKernel(wire)
    released = threading.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.to_thread.run_sync, kernel.deliver_once, released)
        await kernel.client.send_all(b"ping")
        with pytest.raises(trio.TooSlowError):
            with trio.fail_after(30):
                await kernel.server.receive_some()
        assert trio.current_time() == 30
        released.set()


async def test_bytes_that_never_arrive_are_a_clear_error_not_a_hang(
    autojump_clock: trio.abc.Clock,
) -> None:
    wire = Wire()
    kernel = SlowKernel(wire)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(kernel.server.receive_some)
        await kernel.client.send_all(b"lost")
        with (
            pytest.raises(WireStuck, match=r"waited 0\.05 s .* 1 reads or accepts still owed"),
            trio.fail_after(30),  # a hold that never engaged would let this fire
        ):
            await wire.hold_time(stuck_after=KERNEL_DELAY_S)
        nursery.cancel_scope.cancel()


async def test_only_connections_from_this_process_are_counted(
    autojump_clock: trio.abc.Clock,
) -> None:
    wire = Wire()
    [listener] = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listener.socket.getsockname()[1]
    accepted: list[trio.abc.Stream] = []
    arrivals = [trio.Event(), trio.Event()]

    async def keep(stream: trio.abc.Stream, address: tuple[str, int]) -> None:
        accepted.append(stream)
        arrivals[len(accepted) - 1].set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(wire.hold_time)
        nursery.start_soon(accept_connections, "test", listener, nursery, keep, wire)
        ours = await wire.connect("127.0.0.1", port)
        await arrivals[0].wait()
        theirs = await trio.open_tcp_stream("127.0.0.1", port)
        await arrivals[1].wait()
        assert [isinstance(s, CountedStream) for s in accepted] == [True, False]
        await ours.send_all(b"hello")
        assert await accepted[0].receive_some() == b"hello"
        await accepted[0].send_all(b"bye")
        assert await ours.receive_some() == b"bye"
        await ours.aclose()
        assert await accepted[0].receive_some() == b""
        assert not wire.busy
        for stream in (theirs, *accepted):
            await stream.aclose()
        nursery.cancel_scope.cancel()
        nursery.cancel_scope.cancel()
