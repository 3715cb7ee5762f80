"""A viewer that stops reading: cut off with 1013 once it is too far behind, then rejoins.

The server may hold only so much for one client. Past that it stops queueing,
lets what is queued drain, closes with 1013, and the viewer rejoins from the
last event it received, so nothing is lost and nothing comes twice.
"""

from __future__ import annotations

import trio

from actors.runtime.limits import ConnectionLimits
from actors.runtime.transport import TASKS_FELL_BEHIND, CloseCode
from protocol import Channel, GetRun, OrderedTerminalEvent, UserId, decode, encode, sharer, viewer
from protocol.runs import Execution
from tests.actors.netkit import Client, event_numbers, open_tasks

from .outside import event
from .rawws import GUARD_S, TEXT, RawClient, text_frame
from .scene import Scene, eventually, scene

BACKLOG = 64 << 10
#: Events sent per round while waiting for the viewer to be cut off, and the most rounds.
ROUND, ROUNDS = 20, 250
#: Terminal output per event: about 2 KiB of JSON, so the backlog fills in a few rounds.
EVENT_BYTES = 1024


async def test_a_viewer_that_stops_reading_is_cut_off_and_rejoins_losing_nothing() -> None:
    async with scene(ConnectionLimits(max_backlog_bytes=BACKLOG)) as s:
        join = f"/sessions/join/{s.created.session_id}?pwd={s.created.session_secret.reveal()}"
        lagger = await RawClient.connect(s.session_port, receive_buffer=4096)
        await lagger.open(join)
        await lagger.send(_initialize(viewer.ViewerInitPayload(UserId("lagger"))))
        joined = await _message(lagger)
        assert isinstance(joined, viewer.JoinedSuccessfully)
        port = lagger.stream.socket.getsockname()[1]
        link = s.server_link(f"127.0.0.1:{port}")

        # It reads nothing from here on; the sharer talks until the server cuts it off,
        # while the accepted viewer reads along.
        seen: list[int] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_read_along, s.watcher, seen)
            for _ in range(ROUNDS):
                if link.closed:
                    break
                await _send_round(s)
            assert link.closed, f"still not cut off after {s.events} events"
            await eventually(lambda: len(seen) == s.events - 2, "the watcher read every event")
            nursery.cancel_scope.cancel()
        assert seen == list(range(2, s.events))

        # It reads again: every queued event, in order, then the close.
        frames, close = await lagger.until_closed()
        await lagger.aclose()
        assert close is not None
        assert close.close_code == CloseCode.TRY_AGAIN_LATER
        received = [_event_no(decode(Channel.VIEWER_DOWN, f.payload.decode())) for f in frames]
        assert received == list(range(len(received)))
        assert received, "what was queued was thrown away instead of delivered"
        last = received[-1]
        assert last < s.events - 1, "every event arrived: the viewer was never behind"

        # Rejoin from the last event received: exactly the rest, then live ones.
        again = await RawClient.connect(s.session_port)
        await again.open(join)
        await again.send(
            _initialize(
                viewer.ViewerInitPayload(
                    UserId("lagger"),
                    viewer_id=joined.viewer_id,
                    last_received_event_no=last,
                    rejoin_token=joined.rejoin_token,
                )
            )
        )
        assert await _message(again) == viewer.RejoinedSuccessfully()
        missed = [_event_no(await _message(again)) for _ in range(last + 1, s.events)]
        assert missed == list(range(last + 1, s.events))
        await _send_round(s, count=1)
        assert _event_no(await _message(again)) == s.events - 1
        await again.aclose()
        assert await event_numbers(s.watcher, 1) == [s.events - 1]
        await s.still_serving()


async def _read_along(watcher: Client, seen: list[int]) -> None:
    while True:
        seen.append(_event_no(await watcher.receive()))


async def _send_round(s: Scene, count: int = ROUND) -> None:
    """Send `count` events of `EVENT_BYTES` each and wait for their acks."""
    numbers = range(s.events, s.events + count)
    for n in numbers:
        s.owner.send(event(n, EVENT_BYTES))
    for n in numbers:
        assert (await s.owner.expect(sharer.EventsProcessedAck)).latest_processed_event_no == n
    s.events += count


def _initialize(payload: viewer.ViewerInitPayload) -> bytes:
    return text_frame(encode(viewer.Initialize(payload)))


async def _message(client: RawClient) -> object:
    frame = await client.frame()
    assert frame is not None
    assert frame.opcode == TEXT, frame
    return decode(Channel.VIEWER_DOWN, frame.payload.decode())


def _event_no(message: object) -> int:
    assert isinstance(message, OrderedTerminalEvent), message
    return message.event_no


#: GetRun requests a task client that never reads sends, each answered with a long title.
REQUESTS = 2000


async def test_a_task_client_that_stops_reading_is_told_what_fits_the_task_server() -> None:
    async with scene(ConnectionLimits(max_backlog_bytes=BACKLOG)) as s:
        owner = await open_tasks(s.servers, "alice")
        task_id = (await owner.create("T" * 1000, Execution.LOCAL)).task_id
        lagger = await RawClient.connect(s.task_port, receive_buffer=4096)
        await lagger.open(s.task_route("alice"))
        request = b"".join(text_frame(encode(GetRun(n, task_id))) for n in range(REQUESTS))
        with trio.move_on_after(GUARD_S):
            await lagger.send(request)
        await eventually(
            lambda: all(
                link.closed for link in s.servers.tasks.links.values() if link.peer != "alice"
            ),
            "the lagging task client was cut off",
        )
        _, close = await lagger.until_closed()
        await lagger.aclose()
    assert close is not None
    assert close.close_code == CloseCode.TRY_AGAIN_LATER
    assert close.close_reason == TASKS_FELL_BEHIND
    assert "rejoin" not in close.close_reason
