"""A history far longer than the backlog: a viewer that keeps reading takes it in one go.

The backlog bounds how far behind live events a viewer may fall; the history
a joining viewer is owed is sent as it reads it, so it never counts, and a
viewer that joins and then reads nothing still costs only a bounded time.
"""

from __future__ import annotations

from contextlib import ExitStack

from websockets.sync.client import ClientConnection

from actors.runtime.limits import ConnectionLimits
from protocol import Channel, OrderedTerminalEvent, UserId, encode, viewer

from .outside import event, exchange, in_thread, join_url, open_client, receive, share
from .rawws import RawClient, text_frame
from .scene import eventually, scene

BACKLOG = 64 << 10
#: About 4 KiB of JSON each (bytes go as integers): the history is about 30 times the backlog.
EVENTS, EVENT_BYTES = 500, 1000
#: Live events per round while waiting for a viewer that reads nothing to be let go.
ROUND, ROUNDS = 20, 100


def send_events(owner: ClientConnection, numbers: range) -> None:
    """Send big events and read their acks, so the server holds them all."""
    for n in numbers:
        owner.send(encode(event(n, EVENT_BYTES)))
    for _ in numbers:
        receive(owner, Channel.SHARER_DOWN)


def join_and_read_all(url: str) -> list[int]:
    """Join once and read every event of the history, without a rejoin."""
    with open_client(url, max_size=None) as ws:
        hello = viewer.Initialize(viewer.ViewerInitPayload(UserId("reader")))
        joined = exchange(ws, hello, Channel.VIEWER_DOWN)
        assert isinstance(joined, viewer.JoinedSuccessfully), joined
        numbers = []
        for _ in range(EVENTS):
            message = receive(ws, Channel.VIEWER_DOWN)
            assert isinstance(message, OrderedTerminalEvent), message
            numbers.append(message.event_no)
        return numbers


async def test_a_history_far_past_the_backlog_is_joined_in_one_go() -> None:
    limits = ConnectionLimits(max_backlog_bytes=BACKLOG, close_timeout=1.0)
    async with scene(limits) as s:
        with ExitStack() as clients:
            owner, created = await in_thread(lambda: share(s.session_base, clients))
            await in_thread(lambda: send_events(owner, range(EVENTS)))
            url = join_url(s.session_base, created)
            assert await in_thread(lambda: join_and_read_all(url)) == list(range(EVENTS))

            # A viewer that joins and never reads is let go once its live frames pile up.
            baseline = 3  # the scene's sharer and watcher, and the history's sharer
            await eventually(lambda: s.open_connections() == baseline, "the reader gone")
            stuck = await RawClient.connect(s.session_port, receive_buffer=4096)
            await stuck.open(url.removeprefix(s.session_base))
            hello = viewer.Initialize(viewer.ViewerInitPayload(UserId("stuck")))
            await stuck.send(text_frame(encode(hello)))
            assert s.open_connections() == baseline + 1  # its handshake is done: it counts
            sent = EVENTS
            for _ in range(ROUNDS):
                if s.open_connections() == baseline:
                    break
                more = range(sent, sent + ROUND)
                await in_thread(lambda: send_events(owner, more))  # noqa: B023 - awaited here
                sent += ROUND
            await eventually(lambda: s.open_connections() == baseline, "the stuck viewer let go")
            await stuck.aclose()
            await in_thread(clients.close)
