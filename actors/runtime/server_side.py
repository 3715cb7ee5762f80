"""The server's side of one WebSocket connection, below the link: handshake, refusal, failure.

trio-websocket does the protocol; this module holds what a server facing
unknown clients needs around it: an opening handshake that must finish in
time, a cheap HTTP 503 when the server is full, a check that the request
target is a path, and a proper close frame when a client breaks the framing
rules (trio-websocket would drop TCP without one).
"""

from __future__ import annotations

import contextlib
import enum
import errno
import math
import os
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import structlog
import trio
import trio_websocket
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection
from wsproto.utilities import LocalProtocolError

from actors.runtime.limits import REFUSAL_S
from actors.runtime.wire import Wire

_log = structlog.get_logger("sharesim.transport")

#: The longest close reason a close frame may carry (RFC 6455: 125 bytes less the code).
MAX_REASON_BYTES = 123

_BUSY_BODY = b"too many connections; try again later\n"
#: What a client holding its share of a server's connections is told.
CLIENT_BUSY_BODY = b"too many connections from your address; close one and try again\n"


#: The longest request head (request line and headers) read; h11's own bound, which a
#: head that arrives in pieces hits with an unanswered reset.
MAX_REQUEST_HEAD_BYTES = 16 * 1024
_HEAD_TOO_LARGE = b"request header fields too large\n"
#: Where a request head ends; h11 also takes bare line feeds.
_HEAD_END = re.compile(rb"\r?\n\r?\n")


def _busy(body: bytes) -> bytes:
    return _response(b"503 Service Unavailable", body)


def _response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: close\r\n\r\n" + body
    )


class _HeadLimit(trio.abc.Stream):
    """A connection's stream that answers a request head past `MAX_REQUEST_HEAD_BYTES` itself.

    trio-websocket leaves the head to h11, which fails a head that grows too
    large without an answer, and the unread rest turns the close into a
    reset. Here such a client gets HTTP 431 and one log line, and then, to
    the connection's reader, the stream has ended.
    """

    def __init__(self, stream: trio.abc.Stream, peer: str) -> None:
        self._stream = stream
        self._peer = peer
        self._head = bytearray()
        self.head_done = False

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        data = await self._stream.receive_some(max_bytes)
        if self.head_done or not data:
            return data
        self._head += data
        end = _HEAD_END.search(self._head, max(0, len(self._head) - len(data) - 3))
        size = len(self._head) if end is None else end.end()
        if size <= MAX_REQUEST_HEAD_BYTES:
            if end is not None:
                self.head_done, self._head = True, bytearray()
        else:
            _log.warning(
                "request_head_too_large", peer=self._peer, max_bytes=MAX_REQUEST_HEAD_BYTES
            )
            response = _response(b"431 Request Header Fields Too Large", _HEAD_TOO_LARGE)
            await refuse(self._stream, response)
            return b""
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self._stream.aclose()


class ServerConnection(trio_websocket.WebSocketConnection):
    """trio-websocket's server connection, but a framing error gets its close frame.

    When a client breaks the framing rules (invalid UTF-8 in a text frame,
    reserved bits, an unknown opcode, an unmasked frame), wsproto reports the
    code the RFC names (1007 or 1002) as if the client had closed, and
    trio-websocket hangs up without telling the client. Here the close frame
    goes out first, and `take_failure` tells what went wrong, once, for the log.
    """

    def __init__(self, stream: trio.abc.Stream, *, max_message_size: int) -> None:
        super().__init__(
            stream, WSConnection(ConnectionType.SERVER), max_message_size=max_message_size
        )
        self._failure: trio_websocket.CloseReason | None = None

    def take_failure(self) -> trio_websocket.CloseReason | None:
        """The framing error this end failed the connection for, if any; told only once."""
        failure, self._failure = self._failure, None
        return failure

    async def _handle_close_connection_event(self, event: CloseConnection) -> None:
        # A close frame from the client moves wsproto to REMOTE_CLOSING; still OPEN,
        # the event is wsproto's own verdict on a frame it could not accept.
        if self._wsproto.state is ConnectionState.OPEN:
            self._failure = trio_websocket.CloseReason(event.code, event.reason or None)
            with contextlib.suppress(trio_websocket.ConnectionClosed):
                await self._send(CloseConnection(event.code, clip_reason(event.reason)))
        await super()._handle_close_connection_event(event)


class HandshakeFailed(enum.Enum):
    """Why no upgrade request came: the client took too long, or it is already gone."""

    TIMED_OUT = "timed out"
    PEER_GONE = "peer gone"


async def open_handshake(
    stream: trio.abc.Stream,
    nursery: trio.Nursery,
    *,
    within: float | None,
    max_message_size: int,
    peer: str = "",
) -> trio_websocket.WebSocketRequest | HandshakeFailed:
    """The client's upgrade request, or why a complete one did not arrive.

    It waits `within` seconds at most (as long as the client takes if None),
    and no longer than the client is there: a client that hangs up or resets
    first frees its connection at once, not at the timeout.

    The connection's reader runs in `nursery`, which the caller closes with
    the connection, so nothing it does can outlive or escape it.
    """
    limited = _HeadLimit(stream, peer)
    connection = ServerConnection(limited, max_message_size=max_message_size)
    waiting = trio.CancelScope(
        deadline=math.inf if within is None else trio.current_time() + within
    )
    nursery.start_soon(_read, connection, stream, waiting, peer, name="websocket-reader")
    with waiting:
        request = await connection._get_request()
        limited.head_done = True
        return request
    return (
        HandshakeFailed.TIMED_OUT
        if trio.current_time() >= waiting.deadline
        else HandshakeFailed.PEER_GONE
    )


#: How a client ending its connection abruptly surfaces in the reader: a reset mid-request
#: (1006), or a ping answered while the connection is already closing.
_CLIENTS_DOING = (
    trio_websocket.ConnectionClosed,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    LocalProtocolError,
)


async def _read(
    connection: ServerConnection, stream: trio.abc.Stream, waiting: trio.CancelScope, peer: str
) -> None:
    """Run the connection's reader; if it fails, end this connection and say why.

    Hanging up ends the link the usual way, so its server still learns that it
    ended; letting the error out would cancel the link's other tasks instead.
    When the reader stops, nothing more can arrive, so a wait for the upgrade
    request (`waiting`) ends too. What a client can cause (a reset in the
    middle of a request, a ping while closing) is one info line naming it;
    anything else is a bug below the link, logged as an error.
    """
    try:
        await connection._reader_task()
    except _CLIENTS_DOING as error:
        _log.info("websocket_reader_stopped", peer=peer, error=_one_line(error))
        await trio.aclose_forcefully(stream)
    except Exception as error:
        _log.error("websocket_reader_failed", peer=peer, error=_one_line(error))
        await trio.aclose_forcefully(stream)
    finally:
        waiting.cancel()


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


#: Accept errors that mean the process or system is out of descriptors or memory for now.
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})
#: Accept errors about a connection that died before it was accepted: skip it.
_DIED_IN_QUEUE = frozenset({errno.ECONNABORTED, errno.EPERM, errno.EPROTO})
#: How long accepting pauses when descriptors run out, for connections to end meanwhile.
ACCEPT_PAUSE_S = 0.1

Accepted = Callable[[trio.abc.Stream, tuple[str, int]], Awaitable[None]]


async def accept_connections(
    server: str,
    listener: trio.SocketListener,
    nursery: trio.Nursery,
    handle: Accepted,
    wire: Wire | None = None,
) -> None:
    """Accept for ever, handing each connection with its client's address to `handle`.

    The address comes from accept itself, so a client that resets at once is
    still named by it. Running out of descriptors pauses accepting and says
    so in one log line per episode, rather than a traceback per attempt.
    With a `wire`, accepting and what is accepted are counted, so virtual
    time can wait for connections in flight on loopback.
    """
    port: int = listener.socket.getsockname()[1]
    try:
        async with listener:
            await _accept_until_cancelled(server, listener.socket, port, nursery, handle, wire)
    finally:
        if wire is not None:
            wire.stopped_listening(port)


async def _accept_until_cancelled(
    server: str,
    listener: trio.socket.SocketType,
    port: int,
    nursery: trio.Nursery,
    handle: Accepted,
    wire: Wire | None,
) -> None:
    starved = False
    while True:
        if wire is not None:
            wire.accepting(port, +1)
        try:
            sock, address = await listener.accept()
        except OSError as error:
            if error.errno in _DIED_IN_QUEUE:
                continue
            if error.errno not in _OUT_OF_RESOURCES:
                raise
            if not starved:
                starved = True
                _log.warning("accept_paused", server=server, error=os.strerror(error.errno))
            await trio.sleep(ACCEPT_PAUSE_S)
            continue
        finally:
            if wire is not None:
                wire.accepting(port, -1)
        if starved:
            starved = False
            _log.info("accept_resumed", server=server)
        stream: trio.abc.Stream = trio.SocketStream(sock)
        if wire is not None:
            stream = wire.accepted(stream, (int(address[1]), port))
        nursery.start_soon(handle, stream, (str(address[0]), int(address[1])))


async def refuse_busy(stream: trio.abc.Stream, body: bytes = _BUSY_BODY) -> None:
    """Answer HTTP 503 and hang up without reading the request, within `REFUSAL_S` in all."""
    await refuse(stream, _busy(body))


async def refuse(stream: trio.abc.Stream, response: bytes) -> None:
    """Send an HTTP `response` and hang up, within `REFUSAL_S` in all.

    What the client sends meanwhile is read and dropped until it hangs up or
    the time is up, so that closing does not reset the connection and lose
    the answer before the client has read it; the close timeout plays no
    part, so a client that never hangs up costs its descriptor only briefly.
    """
    with (
        trio.move_on_after(REFUSAL_S),
        contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
    ):
        await stream.send_all(response)
        if isinstance(stream, trio.abc.HalfCloseableStream):
            await stream.send_eof()
        while await stream.receive_some(4096):
            pass


def is_resource(target: str) -> bool:
    """Whether a request target is a path and query, the only form a server route can match."""
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. "//[x": an unclosed IPv6 host
        return False
    return target.startswith("/") and not parts.scheme and not parts.netloc


def clip_reason(reason: str | None) -> str | None:
    """A close reason cut to what fits in a close frame, on a character boundary."""
    if reason is None:
        return None
    data = reason.encode("utf-8")
    if len(data) <= MAX_REASON_BYTES:
        return reason
    return data[: MAX_REASON_BYTES - 3].decode("utf-8", errors="ignore") + "..."
