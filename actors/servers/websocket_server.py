"""What both servers share: accepting WebSocket links and feeding their frames to the actor.

Each accepted link gets a reader task that tells the server actor about the
link, every frame on it, and its end; the actor's `handle` then changes state
one message at a time. A bad frame or a misbehaving client only ever affects
its own link: the reader never raises, and the actor answers and carries on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import structlog
import trio

from actors.rules.repeats import Repeats
from actors.runtime.actor import Actor, Request
from actors.runtime.transport import CloseCode, Link, LinkClosed, MalformedFrame, Network
from protocol import Channel
from protocol.clients import client_of

_log = structlog.get_logger("sharesim.server")


@dataclass(frozen=True, slots=True)
class LinkOpened:
    link: Link


@dataclass(frozen=True, slots=True)
class FrameReceived:
    link: Link
    message: object


@dataclass(frozen=True, slots=True)
class LinkEnded:
    link: Link
    code: int | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class CloseAll(Request[None]):
    """Close every client link with a proper WebSocket close, e.g. before the process exits."""

    code: int = CloseCode.GOING_AWAY
    reason: str = "server shutting down"
    timeout: float = 5.0


#: What every server handles: its links' lifecycle and frames, and `CloseAll`.
LinkMessage = LinkOpened | FrameReceived | LinkEnded | CloseAll

#: The messages a concrete server handles: `LinkMessage` plus its own commands.
M = TypeVar("M")


class WebSocketServer(Actor[LinkMessage | M]):
    """A server actor reachable over the network under its own name.

    A subclass names its own commands as `M` and handles them in `handle_command`.
    """

    role = "server"

    def __init__(
        self, name: str, network: Network, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(name)
        self.network = network
        self.address = ""
        self._host = host
        self._port = port
        self.links: dict[int, Link] = {}
        self._repeats = Repeats(clock=trio.current_time)

    def channels(self, resource: str) -> tuple[Channel, Channel] | None:
        """(receive, send) channels for a resource, or None to refuse the connection."""
        raise NotImplementedError

    async def on_start(self) -> None:
        self.address = await self.network.listen(
            self.name,
            self._serve_link,
            self.nursery,
            channels=self.channels,
            host=self._host,
            port=self._port,
        )
        _log.info("listening", address=self.address)

    async def _serve_link(self, link: Link) -> None:
        await self.tell_self(LinkOpened(link))
        code: int | None = None
        reason: str | None = None
        try:
            while True:
                message = await link.receive()
                await self.tell_self(FrameReceived(link, message))
        except LinkClosed as closed:
            code, reason = closed.code, closed.reason
            if code == CloseCode.TOO_BIG:
                _log.warning("frame_too_large", link=repr(link), peer=link.peer)
        except Exception as error:
            # Reading a frame should only ever fail as a MalformedFrame; anything
            # else is a bug below us, so say so loudly and drop just this client,
            # closing before the link is given up so the client learns why.
            _log.error("frame_unreadable", peer=link.peer, error=f"{type(error).__name__}: {error}")
            code, reason = CloseCode.INTERNAL_ERROR, "the server could not read a frame"
            await link.close(code, reason)
        with trio.CancelScope(shield=True):
            await self.tell_self(LinkEnded(link, code, reason))

    async def handle(self, message: LinkMessage | M, sender: str) -> None:
        if isinstance(message, LinkOpened):
            self.links[message.link.id] = message.link
            # The path only: a resource's query carries secrets (`pwd`, `token`).
            path = message.link.resource.partition("?")[0]
            _log.debug("link_opened", peer=message.link.peer, path=path)
            self.report_repeats()
            await self.link_opened(message.link)
        elif isinstance(message, FrameReceived):
            if isinstance(message.message, MalformedFrame):
                self.log_repeatable(
                    message.link,
                    "malformed_frame",
                    level="warning",
                    error=message.message.error.where,
                )
            await self.frame_received(message.link, message.message)
        elif isinstance(message, LinkEnded):
            self.links.pop(message.link.id, None)
            code = None if message.code is None else int(message.code)  # wsproto hands an enum
            _log.debug("link_ended", peer=message.link.peer, code=code)
            self.report_repeats()
            await self.link_ended(message.link)
        elif isinstance(message, CloseAll):
            await self._close_all(message)
            self.answer(message, None)
        else:
            await self.handle_command(message, sender)

    async def _close_all(self, request: CloseAll) -> None:
        """Close links together, waiting at most `timeout` for clients that do not answer."""
        links = list(self.links.values())
        self.report_repeats(final=True)
        _log.info("closing_all_links", count=len(links), code=int(request.code))
        with trio.move_on_after(request.timeout):
            async with trio.open_nursery() as closing:
                for link in links:
                    closing.start_soon(link.close, request.code, request.reason)

    def log_repeatable(
        self, link: Link, event: str, *, level: str = "info", **fields: object
    ) -> None:
        """Log a line a client can make us repeat at will: the first few, then only a count.

        The count is per client, not per link, so reconnecting does not start it afresh.
        """
        if self._repeats.show(client_of(link.peer), event):
            getattr(_log, level)(event, peer=link.peer, **fields)
        self.report_repeats()

    def report_repeats(self, *, final: bool = False) -> None:
        """Say how many lines each client's windows that are over (all if `final`) left unlogged."""
        for unlogged in self._repeats.over(all_windows=final):
            _log.info(
                "repeats_not_logged",
                client=unlogged.client,
                repeated=unlogged.kind,
                count=unlogged.count,
                window_s=self._repeats.window_s,
            )

    async def link_opened(self, link: Link) -> None:
        """A client connected; nothing has been said yet."""

    async def frame_received(self, link: Link, message: object) -> None:
        raise NotImplementedError

    async def link_ended(self, link: Link) -> None:
        """The client is gone, for whatever reason."""

    async def handle_command(self, message: M, sender: str) -> None:
        """Messages from other actors (scenario set-up, queries)."""
        raise NotImplementedError(f"{type(self).__name__} does not handle {type(message).__name__}")

    def close_link(self, link: Link, code: int, reason: str) -> None:
        """Close with a code and a reason (clipped to the 123 bytes a close frame allows)."""
        self.spawn(link.close, code, reason, name=f"{self.name}:close:{link.id}")
