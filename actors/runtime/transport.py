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
"""

from __future__ import annotations

import enum
import itertools
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

import structlog
import trio
import trio.testing
import trio_websocket

from actors.runtime.actor import receive_eagerly
from actors.runtime.conditions import NetworkConditions
from actors.runtime.trace import Trace
from protocol import AnyMessage, Channel, ProtocolError, decode, encode
from protocol.message import tag_of

_log = structlog.get_logger("sharesim.transport")

#: WebSocket close code for a frame too large to accept (RFC 6455).
CLOSE_TOO_BIG = 1009
#: WebSocket close code for a policy violation, such as a message on the wrong channel.
CLOSE_POLICY = 1008
DEFAULT_MAX_FRAME_BYTES = 1 << 20


class Mode(enum.Enum):
    MEMORY = "memory"
    TCP = "tcp"


class LinkClosed(Exception):
    """The link is gone: closed by either side, dropped, or cut by a partition."""

    def __init__(self, link: str, code: int | None, reason: str | None) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{link} closed (code {code}, {reason or 'no reason'})")


class LinkRefused(Exception):
    """A connection could not be made: no such server, or a partition is in force."""


@dataclass(frozen=True, slots=True)
class MalformedFrame:
    """A frame that did not decode; the receiver decides how to answer it."""

    error: ProtocolError
    size: int


class Link:
    """One WebSocket connection as seen from one end."""

    __slots__ = (
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
        self._outbox_send, self._outbox_receive = trio.open_memory_channel[tuple[float, str]](
            float("inf")
        )
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

    def _enqueue(self, text: str) -> None:
        # A frame never overtakes the one before it, however the latency draws fall.
        due = max(self._last_due, trio.current_time() + self._network.conditions.next_latency())
        self._last_due = due
        try:
            self._outbox_send.send_nowait((due, text))
        except trio.BrokenResourceError:  # the writer has stopped: the connection is gone
            _log.debug("send_after_writer_stopped", link=repr(self))

    async def _write_frames(self) -> None:
        try:
            with self._writer_scope:
                async with self._outbox_receive as outbox:
                    while True:
                        try:
                            due, text = await receive_eagerly(outbox)
                        except trio.EndOfChannel:
                            break
                        if due > trio.current_time():
                            await trio.sleep_until(due)
                        await self._ws.send_message(text)
                if self._close_request is not None:
                    await self._ws.aclose(*self._close_request)
        except _GONE:
            pass
        finally:
            # However the writer ends (closed, dropped, or its actor stopped),
            # the socket under it must not outlive it.
            await trio.aclose_forcefully(self._stream)
            self._writer_done.set()
            if self.closed:
                self._end()

    async def receive(self) -> object:
        """The next decoded message, a `MalformedFrame`, or `LinkClosed` when it ends."""
        try:
            text = await self._ws.get_message()
        except trio_websocket.ConnectionClosed as closed:
            self._mark_closed()
            self._end()
            reason = closed.reason
            code = int(reason.code) if reason else None  # wsproto may hand an IntEnum
            raise LinkClosed(repr(self), code, reason.reason if reason else None) from None
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        try:
            frame = self._network.frames.decode(self.receive_channel, text)
        except ProtocolError as error:
            self._network.trace_event(
                self.peer, self.local, self.receive_channel.value, "MalformedFrame"
            )
            return MalformedFrame(error, len(text))
        self._network.trace.record(
            trio.current_time(),
            self.peer,
            self.local,
            self.receive_channel.value,
            frame.kind,
            frame.ids,
        )
        return frame.message

    async def __aiter__(self) -> AsyncIterator[object]:
        while True:
            try:
                yield await self.receive()
            except LinkClosed:
                return

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close with the WebSocket handshake once the queued frames have left.

        Until they have, the link still counts as open, so a fault can cut it.
        """
        if self.closed:
            return
        self._close_request = (code, reason)
        self._mark_closed()
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

    def _mark_closed(self) -> None:
        """Refuse further sends; the writer ends once what is queued has gone or failed."""
        self.closed = True
        self._outbox_send.close()

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
    them all; the decodings of the latest `keep` distinct frames are kept.
    """

    def __init__(self, keep: int = 256) -> None:
        self._keep = keep
        self._last_encoded: tuple[AnyMessage, str] | None = None
        self._decoded: OrderedDict[tuple[Channel, str], DecodedFrame] = OrderedDict()

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
        if decoded is None:
            message = decode(channel, text)
            decoded = DecodedFrame(message, tag_of(message), _ids(message))
            if len(self._decoded) >= self._keep:
                self._decoded.popitem(last=False)
            self._decoded[key] = decoded
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


@dataclass
class Network:
    """Connects clients to servers by name and applies the network conditions."""

    mode: Mode
    trace: Trace
    conditions: NetworkConditions = field(default_factory=NetworkConditions)
    _servers: dict[str, _Server] = field(default_factory=dict)
    _links: dict[int, Link] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    frames: FrameCodec = field(default_factory=FrameCodec)

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
        nursery.start_soon(trio.serve_listeners, lambda s: self._accept(server, s, "?"), listeners)
        return f"ws://{host}:{server.port}"

    async def _accept(self, server: _Server, stream: trio.abc.Stream, client: str) -> None:
        request = await trio_websocket.wrap_server_stream(
            server.nursery, stream, max_message_size=server.max_frame_bytes
        )
        resource, named_client = _split_client(request.path)
        channels = server.channels(resource)
        if channels is None:
            await request.reject(404, body=f"no route {resource}".encode())
            return
        receive_channel, send_channel = channels
        ws = await request.accept()
        link = Link(
            link_id=next(self._ids),
            local=server.name,
            peer=named_client or client,
            resource=resource,
            send_channel=send_channel,
            receive_channel=receive_channel,
            ws=ws,
            stream=stream,
            network=self,
            dialled=False,
        )
        self._register(link, server.nursery)
        try:
            await server.handler(link)
        finally:
            link._mark_closed()
            link._end()

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
        try:
            ws = await trio_websocket.wrap_client_stream(
                nursery,
                cast(trio.SocketStream, stream),  # any trio stream works; the hint is narrower
                server_name,
                _with_client(resource, client),
                max_message_size=server.max_frame_bytes,
            )
            # A partition that began during the handshake loses its last frames.
            self._refuse_if_partitioned(client, server_name, receive_channel)
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
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
                return await trio.open_tcp_stream("127.0.0.1", server.port)
            except OSError as error:
                raise LinkRefused(f"{client}: {server.name} is not listening ({error})") from None
        client_end, server_end = trio.testing.memory_stream_pair()
        try:
            server.nursery.start_soon(self._accept, server, server_end, client)
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

    def trace_event(self, src: str, dst: str, channel: str, kind: str) -> None:
        self.trace.record(trio.current_time(), src, dst, channel, kind)


def _ids(message: object) -> Mapping[str, str]:
    key_ids = getattr(message, "key_ids", None)
    return key_ids() if callable(key_ids) else {}


_CLIENT_PARAM = "client="


def _with_client(resource: str, client: str) -> str:
    """Name the client in the resource so the server's trace can say who it is."""
    separator = "&" if "?" in resource else "?"
    return f"{resource}{separator}{_CLIENT_PARAM}{client}"


def _split_client(path: str) -> tuple[str, str | None]:
    """Separate the client's name from the resource it asked for."""
    base, _, query = path.partition("?")
    client = None
    kept = []
    for part in query.split("&") if query else []:
        if part.startswith(_CLIENT_PARAM):
            client = part[len(_CLIENT_PARAM) :]
        else:
            kept.append(part)
    return (f"{base}?{'&'.join(kept)}" if kept else base), client
