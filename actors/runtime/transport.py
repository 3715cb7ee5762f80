"""WebSocket links between actors and servers, in memory or over TCP loopback.

Both modes speak real WebSocket through trio-websocket; they differ only in the
byte stream underneath. `memory` wraps an in-process stream pair (no sockets,
works under virtual time); `tcp` listens on 127.0.0.1 on an ephemeral port.
Actor code sees the same `Link` either way.

A link sends through a single writer task, so the order of frames on one link is
the order they were sent, whatever latency the network conditions add (TCP
keeps order too). Frames are decoded and traced where they are received.

A connection has two `Link`s, one per end; the end that connected is the
`dialled` one. Faults act on the dialled end: dropping it cuts the byte stream,
and the other end sees the link end as a real server sees a vanished client.

A server's connections are held to the network's `ConnectionLimits`: each
runs in a nursery of its own from its first byte, so whatever goes wrong in
it (a bad request, a reset, a bug) ends that connection and nothing else.
"""

from __future__ import annotations

import enum
import itertools
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import structlog
import trio
import trio.testing
import trio_websocket

from actors.runtime.actor import receive_eagerly
from actors.runtime.conditions import NetworkConditions
from actors.runtime.limits import MAX_REFUSING, ConnectionLimits
from actors.runtime.server_side import (
    CLIENT_BUSY_BODY,
    HandshakeFailed,
    ServerConnection,
    accept_connections,
    clip_reason,
    is_resource,
    open_handshake,
    refuse_busy,
)
from actors.runtime.trace import Trace, deciding_fields
from actors.runtime.wire import CountedStream, Wire
from protocol import AnyMessage, Channel, ProtocolError, decode, encode
from protocol.clients import client_key
from protocol.errors import SharesimError
from protocol.message import tag_of

_log = structlog.get_logger("sharesim.transport")

DEFAULT_MAX_FRAME_BYTES = 1 << 20


class CloseCode(enum.IntEnum):
    """The WebSocket close codes used here (RFC 6455, section 7.4; 1013 from IANA's registry)."""

    #: The session ended, or the client said goodbye.
    NORMAL = 1000
    #: The server is shutting down.
    GOING_AWAY = 1001
    #: A frame broke the framing rules (reserved bits, unknown opcode, unmasked).
    PROTOCOL_ERROR = 1002
    #: A binary frame: every message is JSON text.
    UNSUPPORTED_DATA = 1003
    #: Never sent: how a connection that ended without a close frame is reported.
    ABNORMAL = 1006
    #: A frame's data is not what it must be: invalid UTF-8, or not a message.
    INVALID_DATA = 1007
    #: A refusal, a message on the wrong channel, a link replaced by a newer one.
    POLICY_VIOLATION = 1008
    #: A frame larger than the server accepts.
    TOO_BIG = 1009
    #: The server failed (a bug), or the client stopped answering pings.
    INTERNAL_ERROR = 1011
    #: The client fell too far behind; it may come back and resume.
    TRY_AGAIN_LATER = 1013


#: The reason a session link that fell behind is closed with; it rejoins from its last event.
FELL_BEHIND = "too far behind; rejoin from the last event received"
#: The same for a task-server link: requests are answered by id and children followed by cursor.
TASKS_FELL_BEHIND = (
    "too far behind; reconnect, resend the requests not answered, resubscribe from the last cursor"
)
#: The reason a link that sent a binary frame is closed with.
BINARY_REFUSED = "binary frames are not accepted; every message is JSON text"
#: The reason a client that stopped answering pings is closed with.
NO_PONG = "no pong within the keepalive timeout"


class Mode(enum.Enum):
    MEMORY = "memory"
    TCP = "tcp"


class LinkClosed(SharesimError):
    """The link is gone: closed by either side, dropped, or cut by a partition."""

    def __init__(self, link: str, code: int | None, reason: str | None) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{link} closed (code {code}, {reason or 'no reason'})")


class LinkRefused(SharesimError):
    """A connection could not be made: no such server, or a partition is in force."""


@dataclass(frozen=True, slots=True)
class MalformedFrame:
    """A frame that did not decode; the receiver decides how to answer it."""

    error: ProtocolError
    size: int


@dataclass(frozen=True, slots=True)
class _Paced:
    """Frames that take one place in a link's outbox and leave as the peer reads them."""

    texts: Sequence[str]


class Link:
    """One WebSocket connection as seen from one end.

    Frames wait in an outbox until the link's writer sends them. The outbox is
    bounded by `ConnectionLimits.max_backlog_bytes`: a peer that reads too
    slowly is closed with 1013 once it is that far behind, after what is
    queued has drained, rather than growing its server without limit.
    """

    __slots__ = (
        "_backlog",
        "_close_request",
        "_ended",
        "_last_due",
        "_network",
        "_outbox_receive",
        "_outbox_send",
        "_stream",
        "_writer_done",
        "_writer_scope",
        "_ws",
        "closed",
        "dialled",
        "id",
        "local",
        "peer",
        "receive_channel",
        "resource",
        "send_channel",
    )

    def __init__(
        self,
        *,
        link_id: int,
        local: str,
        peer: str,
        resource: str,
        send_channel: Channel,
        receive_channel: Channel,
        ws: trio_websocket.WebSocketConnection,
        stream: trio.abc.Stream,
        network: Network,
        dialled: bool,
    ) -> None:
        self.id = link_id
        self.local = local
        self.peer = peer
        self.resource = resource
        self.send_channel = send_channel
        self.receive_channel = receive_channel
        self._ws = ws
        self._stream = stream
        self._network = network
        self._outbox_send, self._outbox_receive = trio.open_memory_channel[
            tuple[float, str | _Paced]
        ](float("inf"))
        #: Characters (frames are ASCII JSON, so bytes) of the frames waiting in the outbox.
        self._backlog = 0
        self._last_due = 0.0
        self._close_request: tuple[int, str | None] | None = None
        self._writer_scope = trio.CancelScope()
        self._writer_done = trio.Event()
        self.dialled = dialled
        #: No more frames can be sent; queued ones may still be leaving.
        self.closed = False
        self._ended = False

    def __repr__(self) -> str:
        # The path only: a resource's query carries secrets (`pwd`, `token`), and
        # this text goes into log lines and errors.
        path = self.resource.partition("?")[0]
        return f"Link#{self.id}({self.local}->{self.peer} {path})"

    def send(self, message: AnyMessage) -> None:
        """Queue a message; it leaves after the link's latency, in send order.

        A message sent on a closed link is lost, as on a dead socket; the
        sender learns of the loss from its reader, which sees the link end.
        """
        if self.closed:
            _log.debug("send_on_closed_link", link=repr(self), type=tag_of(message))
            return
        self._enqueue(self._network.frames.encode(message))

    def send_raw(self, text: str) -> None:
        """Queue a frame already encoded: one a server encoded once for many links,
        or any text at all (tests of how servers treat bad input)."""
        if self.closed:
            _log.debug("send_on_closed_link", link=repr(self), type="raw")
            return
        self._enqueue(text)

    def send_paced(self, texts: Sequence[str]) -> None:
        """Queue frames that leave as the peer reads them, one after another.

        They take one place in the outbox and count nothing against the
        backlog: a viewer catching up on a long history must be able to
        take all of it in one go if it keeps reading, while what a peer that
        stops reading can hold up is still bounded (its live frames fill the
        backlog, and its close is cut after the close timeout). With
        latency jitter, each frame draws its own latency, as sent ones do.
        """
        if self.closed:
            _log.debug("send_on_closed_link", link=repr(self), type="paced")
            return
        if self._network.conditions.latency.jitter:
            for text in texts:
                self._enqueue(text)
            return
        due = max(self._last_due, trio.current_time() + self._network.conditions.next_latency())
        self._last_due = due
        try:
            self._outbox_send.send_nowait((due, _Paced(texts)))
        except trio.BrokenResourceError:  # the writer has stopped: the connection is gone
            _log.debug("send_after_writer_stopped", link=repr(self))

    def _enqueue(self, text: str) -> None:
        if self._backlog and self._backlog + len(text) > self._network.limits.max_backlog_bytes:
            _log.warning("peer_fell_behind", peer=self.peer, backlog_bytes=self._backlog)
            behind = TASKS_FELL_BEHIND if self.send_channel is Channel.TASKS else FELL_BEHIND
            self._request_close(CloseCode.TRY_AGAIN_LATER, behind)
            return
        # A frame never overtakes the one before it, however the latency draws fall.
        due = max(self._last_due, trio.current_time() + self._network.conditions.next_latency())
        self._last_due = due
        try:
            self._outbox_send.send_nowait((due, text))
        except trio.BrokenResourceError:  # the writer has stopped: the connection is gone
            _log.debug("send_after_writer_stopped", link=repr(self))
            return
        self._backlog += len(text)

    async def _write_frames(self) -> None:
        try:
            with self._writer_scope:
                async with self._outbox_receive as outbox:
                    while True:
                        try:
                            due, item = await receive_eagerly(outbox)
                        except trio.EndOfChannel:
                            break
                        if not isinstance(item, _Paced):
                            self._backlog -= len(item)
                        if due > trio.current_time():
                            await trio.sleep_until(due)
                        if isinstance(item, _Paced):
                            for text in item.texts:
                                await self._ws.send_message(text)
                        else:
                            await self._ws.send_message(item)
                if self._close_request is not None:
                    await self._ws.aclose(*self._close_request)
            if self._writer_scope.cancelled_caught and self.closed:
                _log.debug("close_timed_out", peer=self.peer, link=repr(self))
        except _GONE:
            pass
        finally:
            # However the writer ends (closed, dropped, timed out, or its actor
            # stopped), the socket under it must not outlive it.
            await trio.aclose_forcefully(self._stream)
            self._writer_done.set()
            if self.closed:
                self._end()

    async def _keep_alive(self, interval: float, patience: float) -> None:
        """Ping every `interval` s; a peer that leaves a ping unanswered `patience` s is closed."""
        for number in itertools.count():
            await trio.sleep(interval)
            with trio.move_on_after(patience) as waiting:
                try:
                    await self._ws.ping(number.to_bytes(8, "big"))
                except trio_websocket.ConnectionClosed:
                    return
            if waiting.cancelled_caught:
                _log.warning("keepalive_timeout", peer=self.peer, timeout=patience)
                await self.close(CloseCode.INTERNAL_ERROR, NO_PONG)
                return

    async def receive(self) -> object:
        """The next decoded message, a `MalformedFrame`, or `LinkClosed` when it ends."""
        try:
            text = await self._ws.get_message()
        except trio_websocket.ConnectionClosed as closed:
            self._mark_closed()
            self._end()
            failure = self._ws.take_failure() if isinstance(self._ws, ServerConnection) else None
            if failure is not None:
                _log.warning(
                    "frame_rejected", peer=self.peer, code=int(failure.code), reason=failure.reason
                )
            reason = closed.reason
            code = int(reason.code) if reason else None  # wsproto may hand an IntEnum
            raise LinkClosed(repr(self), code, reason.reason if reason else None) from None
        if isinstance(text, bytes):
            return await self._reject_binary(len(text))
        try:
            frame = self._network.frames.decode(self.receive_channel, text)
        except ProtocolError as error:
            self._network.trace_event(
                self.peer, self.local, self.receive_channel.value, "MalformedFrame", frame=text
            )
            return MalformedFrame(error, len(text))
        self._network.trace.record(
            trio.current_time(),
            self.peer,
            self.local,
            self.receive_channel.value,
            frame.kind,
            frame.ids,
            frame=text,
        )
        return frame.message

    async def _reject_binary(self, size: int) -> object:
        """Close a link that sent a binary frame; what it sends meanwhile is read and dropped.

        Every message is JSON text, so a binary frame is a client speaking
        something else: it is told so (1003), and the link ends as any other.
        """
        code = CloseCode.UNSUPPORTED_DATA
        _log.warning(
            "frame_rejected", peer=self.peer, code=int(code), reason="binary frame", bytes=size
        )
        self._request_close(code, BINARY_REFUSED)
        while True:
            try:
                await self._ws.get_message()
            except trio_websocket.ConnectionClosed:
                return await self.receive()

    async def __aiter__(self) -> AsyncIterator[object]:
        while True:
            try:
                yield await self.receive()
            except LinkClosed:
                return

    async def close(self, code: int = CloseCode.NORMAL, reason: str | None = None) -> None:
        """Close with the WebSocket handshake once the queued frames have left.

        Until they have, the link still counts as open, so a fault can cut it.
        Draining and the handshake together take at most the close timeout;
        then the connection is cut. A reason too long for a close frame is clipped.
        """
        if self.closed:
            return
        self._request_close(code, reason)
        await self._writer_done.wait()

    async def drop(self) -> None:
        """Cut the byte stream with no close handshake, as a network fault.

        Frames still queued are lost. Both ends see `LinkClosed` with code 1006
        (abnormal closure): this end at once, the peer as soon as its reader
        notices the stream has ended.
        """
        if self._ended:
            return
        self._network.trace_event(
            self.local, self.peer, self.send_channel.value, "ConnectionDropped"
        )
        self._mark_closed()
        self._end()
        self._writer_scope.cancel()
        await self._stream.aclose()

    def _request_close(self, code: int, reason: str | None) -> None:
        """Close once what is queued has gone; nothing more is queued meanwhile."""
        self._close_request = (code, clip_reason(reason))
        self._mark_closed()

    def _mark_closed(self) -> None:
        """Refuse further sends; the writer has the close timeout to send what is queued."""
        self.closed = True
        self._outbox_send.close()
        timeout = self._network.limits.close_timeout
        if timeout is not None:
            deadline = trio.current_time() + timeout
            self._writer_scope.deadline = min(self._writer_scope.deadline, deadline)

    def _end(self) -> None:
        """The connection is over: faults and `links_between` no longer see it."""
        self._ended = True
        self._network.forget(self)


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """A received frame as the trace records it: the message, its type name and its ids."""

    message: AnyMessage
    kind: str
    ids: Mapping[str, str]


class FrameCodec:
    """Encodes and decodes frames for every link of one network, once per distinct frame.

    A server fanning an event out encodes the same message object once per
    viewer, and every viewer then decodes the same text. Messages are
    immutable, so one encoding, and one decoding with its traced ids, can serve
    them all. The decodings of the latest frames are kept: at most `keep` of
    them, of at most `max_chars` characters of text together, so a server
    whose clients each send their own large frames holds little.
    """

    def __init__(self, keep: int = 256, max_chars: int = 1 << 20) -> None:
        self._keep = keep
        self._max_chars = max_chars
        self._last_encoded: tuple[AnyMessage, str] | None = None
        self._decoded: OrderedDict[tuple[Channel, str], DecodedFrame] = OrderedDict()
        #: Characters of text behind the kept decodings.
        self.kept_chars = 0

    def encode(self, message: AnyMessage) -> str:
        last = self._last_encoded
        if last is not None and last[0] is message:
            return last[1]
        text = encode(message)
        self._last_encoded = (message, text)
        return text

    def decode(self, channel: Channel, text: str) -> DecodedFrame:
        """The frame decoded on `channel`; a ProtocolError is raised every time, never kept."""
        key = (channel, text)
        decoded = self._decoded.get(key)
        if decoded is not None:
            return decoded
        message = decode(channel, text)
        decoded = DecodedFrame(message, tag_of(message), _ids(message))
        if len(text) <= self._max_chars:
            self._decoded[key] = decoded
            self.kept_chars += len(text)
            while len(self._decoded) > self._keep or self.kept_chars > self._max_chars:
                (_, oldest), _ = self._decoded.popitem(last=False)
                self.kept_chars -= len(oldest)
        return decoded


_GONE = (trio_websocket.ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError)

Handler = Callable[[Link], Awaitable[None]]


#: Which (receive, send) channels a resource speaks, from the server's side; None refuses it.
ChannelsFor = Callable[[str], "tuple[Channel, Channel] | None"]


@dataclass
class _Server:
    name: str
    handler: Handler
    nursery: trio.Nursery
    channels: ChannelsFor
    max_frame_bytes: int
    port: int | None = None
    #: Connections open now, from accept to close, handshakes included.
    connections: int = 0
    #: At the connection cap: newcomers get HTTP 503.
    full: bool = False
    #: Newcomers being answered 503 now; at `MAX_REFUSING` the next are dropped unanswered.
    refusing: int = 0
    #: Connections open now per client (`client_key` of its address, or an in-memory name).
    by_client: dict[str, int] = field(default_factory=dict)
    #: Clients at their share of connections: each said so once until it has room again.
    clients_full: set[str] = field(default_factory=set)


#: Where a TCP connection comes from: host and port.
Address = tuple[str, int]


@dataclass
class Network:
    """Connects clients to servers by name and applies the network conditions."""

    mode: Mode
    trace: Trace
    conditions: NetworkConditions = field(default_factory=NetworkConditions)
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    _servers: dict[str, _Server] = field(default_factory=dict)
    _links: dict[int, Link] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: The actors of this simulation dialling a server over TCP, by their socket's address.
    _dialling: dict[Address, str] = field(default_factory=dict)
    frames: FrameCodec = field(default_factory=FrameCodec)
    #: What is in flight on loopback (`tcp` only), so virtual time can wait for it.
    wire: Wire = field(default_factory=Wire)

    # -- servers -----------------------------------------------------------

    async def listen(
        self,
        name: str,
        handler: Handler,
        nursery: trio.Nursery,
        *,
        channels: ChannelsFor,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> str:
        """Accept connections for `name`; returns the address clients can use."""
        server = _Server(name, handler, nursery, channels, max_frame_bytes)
        self._servers[name] = server
        if self.mode is Mode.MEMORY:
            return f"memory://{name}"
        listeners = await trio.open_tcp_listeners(port, host=host)
        server.port = listeners[0].socket.getsockname()[1]
        for listener in listeners:
            nursery.start_soon(
                accept_connections,
                name,
                listener,
                nursery,
                lambda stream, address: self._accept(server, stream, _named(address), address),
                self.wire,
            )
        return f"ws://{url_host(host)}:{server.port}"

    def open_connections(self, name: str) -> int:
        """How many connections the server `name` holds now, handshakes included."""
        return self._servers[name].connections

    async def _accept(
        self, server: _Server, stream: trio.abc.Stream, peer: str, address: Address | None
    ) -> None:
        """One connection, from its first byte to its end; no failure in it goes further.

        `peer` names an in-memory client; over TCP a connection is known by its
        `address`, or by the name of the actor of this simulation that dialled it.
        """
        server.connections += 1
        client = peer if address is None else client_key(address[0])
        server.by_client[client] = server.by_client.get(client, 0) + 1
        try:
            async with trio.open_nursery() as tasks:
                await self._serve_connection(server, stream, peer, client, address, tasks)
                tasks.cancel_scope.cancel()
        except Exception as error:
            _log.error("connection_failed", peer=peer, error=_describe(error))
        finally:
            await trio.aclose_forcefully(stream)
            server.connections -= 1
            server.by_client[client] -= 1
            left = server.by_client[client]
            if not left:
                del server.by_client[client]
            per_client = self.limits.max_client_connections
            if per_client is not None and left < per_client:
                server.clients_full.discard(client)
            limit = self.limits.max_connections
            if server.full and limit is not None and server.connections < limit:
                server.full = False
                _log.info("server_has_room", connections=server.connections)

    async def _serve_connection(
        self,
        server: _Server,
        stream: trio.abc.Stream,
        peer: str,
        client: str,
        address: Address | None,
        tasks: trio.Nursery,
    ) -> None:
        limits = self.limits
        if limits.max_connections is not None and server.connections > limits.max_connections:
            if not server.full:
                server.full = True
                _log.warning("server_full", max_connections=limits.max_connections)
            await self._refuse(server, stream, peer, "server full")
            return
        per_client = limits.max_client_connections
        if per_client is not None and server.by_client[client] > per_client:
            if client not in server.clients_full:
                server.clients_full.add(client)
                _log.warning(
                    "client_connections_full", peer=peer, max_client_connections=per_client
                )
            await self._refuse(server, stream, peer, "client full", CLIENT_BUSY_BODY)
            return
        request = await open_handshake(
            stream,
            tasks,
            within=limits.handshake_timeout,
            max_message_size=server.max_frame_bytes,
            peer=peer,
        )
        if request is HandshakeFailed.TIMED_OUT:
            _log.debug("handshake_timeout", peer=peer, timeout=limits.handshake_timeout)
            return
        if request is HandshakeFailed.PEER_GONE:
            _log.debug("handshake_abandoned", peer=peer)
            return
        if address is not None:
            peer = self._dialling.get(address, peer)
        resource = request.path
        try:
            if not is_resource(resource):
                # Up to the query, which may hold a secret even in a bad target.
                _log.warning("bad_request_target", peer=peer, target=resource.partition("?")[0])
                await request.reject(400, body=b"the request target must be a path\n")
                return
            channels = server.channels(resource)
            if channels is None:
                await request.reject(404, body=f"no route {resource}\n".encode())
                return
            ws = await request.accept()
        except trio_websocket.ConnectionClosed:
            _log.debug("handshake_abandoned", peer=peer)
            return
        receive_channel, send_channel = channels
        link = Link(
            link_id=next(self._ids),
            local=server.name,
            peer=peer,
            resource=resource,
            send_channel=send_channel,
            receive_channel=receive_channel,
            ws=ws,
            stream=stream,
            network=self,
            dialled=False,
        )
        self._register(link, tasks)
        if limits.ping_interval is not None:
            tasks.start_soon(link._keep_alive, limits.ping_interval, limits.ping_timeout)
        try:
            await server.handler(link)
        finally:
            link._mark_closed()
            link._end()
        await link._writer_done.wait()

    async def _refuse(
        self,
        server: _Server,
        stream: trio.abc.Stream,
        peer: str,
        reason: str,
        body: bytes | None = None,
    ) -> None:
        """Answer HTTP 503, or hang up unanswered when `MAX_REFUSING` are being answered."""
        if server.refusing >= MAX_REFUSING:
            _log.debug("connection_dropped", peer=peer, reason=reason)
            return
        _log.debug("connection_refused", peer=peer, reason=reason)
        server.refusing += 1
        try:
            await (refuse_busy(stream) if body is None else refuse_busy(stream, body))
        finally:
            server.refusing -= 1

    # -- clients -----------------------------------------------------------

    async def connect(
        self, client: str, server_name: str, resource: str, nursery: trio.Nursery
    ) -> Link:
        """Open a WebSocket from `client` to the server named `server_name`."""
        server = self._servers.get(server_name)
        if server is None:
            raise LinkRefused(f"{client}: no server named {server_name!r}")
        channels = server.channels(resource)
        if channels is None:
            raise LinkRefused(f"{client}: {server_name} has no route {resource}")
        receive_channel, send_channel = channels
        self._refuse_if_partitioned(client, server_name, receive_channel)
        stream = await self._open_stream(server, client)
        dialling = _socket_address(stream)
        if dialling is not None:
            self._dialling[dialling] = client
        try:
            ws = await trio_websocket.wrap_client_stream(
                nursery,
                cast(trio.SocketStream, stream),  # any trio stream works; the hint is narrower
                server_name,
                resource,
                max_message_size=server.max_frame_bytes,
            )
            # A partition that began during the handshake loses its last frames.
            self._refuse_if_partitioned(client, server_name, receive_channel)
        except trio_websocket.HandshakeError as refused:
            await trio.aclose_forcefully(stream)
            raise LinkRefused(
                f"{client}: {server_name} refused the connection ({refused})"
            ) from None
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        finally:
            if dialling is not None:
                del self._dialling[dialling]
        link = Link(
            link_id=next(self._ids),
            local=client,
            peer=server_name,
            resource=resource,
            send_channel=receive_channel,
            receive_channel=send_channel,
            ws=ws,
            stream=stream,
            network=self,
            dialled=True,
        )
        self._register(link, nursery)
        return link

    def _refuse_if_partitioned(self, client: str, server_name: str, channel: Channel) -> None:
        if self.conditions.partitioned(client, server_name, trio.current_time()):
            self.trace_event(client, server_name, channel.value, "ConnectionRefused")
            raise LinkRefused(f"{client}: partitioned from {server_name}")

    async def _open_stream(self, server: _Server, client: str) -> trio.abc.Stream:
        """A byte stream to the server, or `LinkRefused` if it no longer listens."""
        if self.mode is Mode.TCP:
            assert server.port is not None
            try:
                return await self.wire.connect("127.0.0.1", server.port)
            except OSError as error:
                raise LinkRefused(f"{client}: {server.name} is not listening ({error})") from None
        client_end, server_end = trio.testing.memory_stream_pair()
        try:
            server.nursery.start_soon(self._accept, server, server_end, client, None)
        except RuntimeError:  # the server's nursery has closed: it has stopped
            raise LinkRefused(f"{client}: {server.name} is not listening") from None
        return client_end

    def _register(self, link: Link, nursery: trio.Nursery) -> None:
        self._links[link.id] = link
        nursery.start_soon(link._write_frames, name=f"{link!r}:writer")

    def forget(self, link: Link) -> None:
        self._links.pop(link.id, None)

    # -- conditions ----------------------------------------------------------

    def links_between(self, actor: str, server: str) -> list[Link]:
        """Open connections between an actor and a server, as their dialled ends, oldest first."""
        pair = {actor, server}
        return [link for link in self.dialled_links() if {link.local, link.peer} == pair]

    def dialled_links(self) -> list[Link]:
        """Every open connection, once each, as the end that connected."""
        return [link for link in self._links.values() if link.dialled]

    # -- trace ---------------------------------------------------------------

    def trace_event(
        self, src: str, dst: str, channel: str, kind: str, *, frame: str | None = None
    ) -> None:
        self.trace.record(trio.current_time(), src, dst, channel, kind, frame=frame)


def _ids(message: object) -> Mapping[str, str]:
    key_ids = getattr(message, "key_ids", None)
    ids = key_ids() if callable(key_ids) else {}
    deciding = deciding_fields(message)
    return {**ids, **deciding} if deciding else ids


def _socket_address(stream: trio.abc.Stream, *, local: bool = True) -> Address | None:
    """A TCP stream's own address (or its peer's); None for a stream with no socket."""
    if isinstance(stream, CountedStream):
        stream = stream.inner
    if not isinstance(stream, trio.SocketStream):
        return None
    name = stream.socket.getsockname()
    return (str(name[0]), int(name[1]))


def url_host(host: str) -> str:
    """A host as a URL names it: an IPv6 address goes in brackets (RFC 3986)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _named(address: Address) -> str:
    """A client's address as logs and the trace name it: `host:port`, `[v6 host]:port`."""
    return f"{url_host(address[0])}:{address[1]}"


def _describe(error: BaseException) -> str:
    """An error in one line; a group as the errors it holds."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(_describe(leaf) for leaf in error.exceptions)
    return f"{type(error).__name__}: {error}"
