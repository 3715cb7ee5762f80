"""What is on its way between the ends of each loopback connection, so virtual time can wait for it.

`tcp` runs use the same autojumping virtual clock as `memory` runs: time stands
still while any task can run, and jumps to the next timer once every task
waits. Over real sockets "every task waits" is not yet "nothing will happen": a
frame may have left one socket and not reached the other, and a busy machine
can keep it in the kernel for a while. Jumping then would let a 30 s timeout
fire before a reply already on its way, so a run's outcome would depend on the
machine's load.

A clock that follows the wall clock has the same flaw: at 100 times the wall
clock, a 30 s timeout is 0.3 s of real time, which a loaded machine can spend
on one round trip. A slower scale only makes that rarer, and every run slower.

Both ends of every connection live in this process, so the network can know
exactly what is in flight: bytes one end handed to its socket that the other
has not read yet, a close the other end has not seen yet, a connect under way,
a connection its server has not accepted yet. While a task waits for such a
thing, `Wire.hold_time` keeps the clock from jumping (Trio does not autojump
while a task waits in `wait_all_tasks_blocked`). Virtual time thus measures
only waits for timers, never the machine's speed.

Connections from outside the process (a client of `sharesim serve`) are passed
through uncounted: their bytes do not come from here, so nothing can be said
about them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

import trio
import trio.testing

#: Wall seconds every task may wait on the loopback network before the run is
#: declared stuck. Loopback delivers in microseconds, so this only turns a bug
#: in the counting below into a clear error instead of a hang.
STUCK_S = 60.0

#: (the client's port, the server's port) of one connection.
Key = tuple[int, int]


class WireStuck(RuntimeError):
    """Every task has waited on loopback for `STUCK_S` wall seconds for bytes that never came."""


@dataclass(eq=False)
class _End:
    """One socket of a connection."""

    connection: Connection
    #: Bytes sent to this end that it has not read yet.
    unread: int = 0
    #: The other end has closed, or can no longer be accepted: an end of stream is coming.
    peer_closed: bool = False
    #: Tasks inside `receive_some` on this end.
    readers: int = 0
    closed: bool = False

    @property
    def waiting(self) -> bool:
        """A task here waits for something the kernel is bound to deliver."""
        return self.readers > 0 and not self.closed and (self.unread > 0 or self.peer_closed)


@dataclass(eq=False)
class Connection:
    """Both ends of one connection, from the client's first byte to the last close."""

    key: Key
    client: _End = field(init=False)
    server: _End = field(init=False)
    #: Counted among its listener's pending connections: connected, neither
    #: accepted nor given up by its client.
    queued: bool = False
    accepted: bool = False

    def __post_init__(self) -> None:
        self.client = _End(self)
        self.server = _End(self)

    @property
    def port(self) -> int:
        return self.key[1]


@dataclass(eq=False)
class _Listening:
    """A server port as the wire sees it."""

    #: Tasks inside `accept`.
    accepting: int = 0
    #: Connections made and not yet accepted, whose clients still wait for them.
    pending: int = 0
    closed: bool = False

    @property
    def waiting(self) -> bool:
        return self.accepting > 0 and self.pending > 0 and not self.closed


class Wire:
    """Counts what is in flight on loopback, for one network.

    A connection is counted in three steps, each the moment it happens:
    `dialling` before the client connects, `dialled` once it has, and
    `accepted` when the server takes it. Counted streams and listeners report
    the rest.
    """

    def __init__(self) -> None:
        self._connections: dict[Key, Connection] = {}
        self._listening: dict[int, _Listening] = {}
        self._connecting = 0
        self._waiting: set[_End | _Listening] = set()
        self._busy = False
        self._became_busy = trio.Event()
        self._hold: trio.CancelScope | None = None

    @property
    def busy(self) -> bool:
        """Some task waits for bytes, a close, a connect or an accept the kernel will deliver."""
        return self._connecting > 0 or bool(self._waiting)

    async def hold_time(self, stuck_after: float = STUCK_S) -> NoReturn:
        """Keep the virtual clock still whenever the wire is busy; runs until cancelled."""
        while True:
            if not self._busy:
                await self._became_busy.wait()
                continue
            with trio.CancelScope() as self._hold:
                await trio.testing.wait_all_tasks_blocked(stuck_after)
                raise WireStuck(
                    f"every task has waited {stuck_after:g} s of wall time on loopback: "
                    f"{self._connecting} connects under way, "
                    f"{len(self._waiting)} reads or accepts still owed"
                )
            self._hold = None

    # -- clients -------------------------------------------------------------

    async def connect(self, host: str, port: int) -> trio.abc.Stream:
        """A counted TCP stream to `host:port`.

        The socket is bound before it connects, so its connection is known
        before the server can accept it.
        """
        sock = trio.socket.socket()
        try:
            await sock.bind((host, 0))
            connection = self.dialling((sock.getsockname()[1], port))
            try:
                await sock.connect((host, port))
            except BaseException:
                self.failed(connection)
                raise
        except BaseException:
            sock.close()
            raise
        return self.dialled(connection, trio.SocketStream(sock))

    def dialling(self, key: Key) -> Connection:
        """A client is about to connect from `key`'s first port to its second."""
        connection = Connection(key)
        self._connections[key] = connection
        self._connecting += 1
        self._refresh()
        return connection

    def failed(self, connection: Connection) -> None:
        """The connect failed: there is no connection."""
        self._connecting -= 1
        self._connections.pop(connection.key, None)
        self._refresh()

    def dialled(self, connection: Connection, stream: trio.abc.Stream) -> CountedStream:
        """The connect succeeded; `stream` is the client's end."""
        self._connecting -= 1
        if not connection.accepted:
            listening = self._listening_on(connection.port)
            if listening.closed:
                connection.client.peer_closed = True  # the server stopped first: a reset is coming
                self._update(connection.client)
            else:
                connection.queued = True
                listening.pending += 1
                self._update(listening)
        self._refresh()
        return CountedStream(stream, connection.client, connection.server, self)

    # -- servers -------------------------------------------------------------

    def accepted(self, stream: trio.abc.Stream, key: Key) -> trio.abc.Stream:
        """The server's end of the connection from `key`; counted if its client is ours."""
        connection = self._connections.get(key)
        if connection is None or connection.accepted:
            return stream  # a client from outside this process
        connection.accepted = True
        self._dequeue(connection)
        return CountedStream(stream, connection.server, connection.client, self)

    def _dequeue(self, connection: Connection) -> None:
        if connection.queued:
            connection.queued = False
            listening = self._listening_on(connection.port)
            listening.pending -= 1
            self._update(listening)

    def accepting(self, port: int, change: int) -> None:
        """A server on `port` starts (+1) or stops (-1) waiting to accept."""
        listening = self._listening_on(port)
        listening.accepting += change
        self._update(listening)

    def stopped_listening(self, port: int) -> None:
        """The listener on `port` closed: what it never accepted is reset."""
        listening = self._listening_on(port)
        listening.closed = True
        self._update(listening)
        for connection in list(self._connections.values()):
            if connection.port == port and not connection.accepted:
                self._peer_closed(connection.client)  # the kernel resets what was not accepted
                self._forget_if_over(connection)

    def _listening_on(self, port: int) -> _Listening:
        return self._listening.setdefault(port, _Listening())

    # -- what the counted streams report -------------------------------------

    def _sent(self, to: _End, count: int) -> None:
        to.unread += count
        self._update(to)

    def _reading(self, end: _End, change: int) -> None:
        end.readers += change
        self._update(end)

    def _read(self, end: _End, count: int) -> None:
        end.unread = max(0, end.unread - count)
        self._update(end)

    def _heard_the_end(self, end: _End) -> None:
        """End of stream, a reset or a local close: nothing more will arrive here."""
        end.unread = 0
        end.peer_closed = False
        self._update(end)

    def _closed(self, end: _End, peer: _End) -> None:
        if end.closed:
            return
        end.closed = True
        self._heard_the_end(end)
        self._peer_closed(peer)
        if end is end.connection.client:
            # The server may still accept it, but no one waits for that any more.
            self._dequeue(end.connection)
        self._forget_if_over(end.connection)

    def _peer_closed(self, end: _End) -> None:
        end.peer_closed = True
        self._update(end)

    def _forget_if_over(self, connection: Connection) -> None:
        """Both ends are closed, or the client's is and the server can no longer accept it."""
        over = connection.client.closed and (
            connection.server.closed
            or (not connection.accepted and self._listening_on(connection.port).closed)
        )
        if over and self._connections.get(connection.key) is connection:
            del self._connections[connection.key]

    # -- busy or not ------------------------------------------------------------

    def _update(self, thing: _End | _Listening) -> None:
        if thing.waiting:
            self._waiting.add(thing)
        else:
            self._waiting.discard(thing)
        self._refresh()

    def _refresh(self) -> None:
        busy = self.busy
        if busy and not self._busy:
            self._became_busy.set()
            self._became_busy = trio.Event()
        elif not busy and self._hold is not None:
            self._hold.cancel()
        self._busy = busy


class CountedStream(trio.abc.Stream):
    """A stream that tells the wire what it sends, reads and closes."""

    def __init__(self, inner: trio.abc.Stream, end: _End, peer: _End, wire: Wire) -> None:
        #: The stream counted, for what only it can tell (its socket's addresses).
        self.inner = inner
        self._end = end
        self._peer = peer
        self._wire = wire

    def __repr__(self) -> str:
        return f"CountedStream({self.inner!r})"

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        # Counted before the bytes leave: from here on, the peer is owed them.
        self._wire._sent(self._peer, len(data))
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        self._wire._reading(self._end, +1)
        try:
            data = await self.inner.receive_some(max_bytes)
        except Exception:
            self._wire._heard_the_end(self._end)
            raise
        finally:
            self._wire._reading(self._end, -1)
        if data:
            self._wire._read(self._end, len(data))
        else:
            self._wire._heard_the_end(self._end)
        return data

    async def aclose(self) -> None:
        self._wire._closed(self._end, self._peer)
        await self.inner.aclose()
