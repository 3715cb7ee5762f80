"""A client's link to a server that dials again after a drop, until it gives up.

The sharer's `Share` and the viewer's `SessionView` each keep one. The link
dials through the `Network`, sends the owner's opening frame, and hands every
frame it reads, and then the news that the link ended, to the owning actor as
the owner's own messages, so the owner's state only changes inside its actor's
`handle`. When the owner says so, it dials again in the background on the one
backoff schedule (`actors.runtime.backoff`) until a dial succeeds, the owner no
longer wants a link, or the tries run out; then it tells the owner it gave up.
What the opening frame says, and what a reply means, stay with the owner.

Cancellation and closing:

- A frame sent while the link is down is lost, as on a dead socket; the owner
  learns of the loss when it is told the link ended, and decides what to send
  again once a new link is up.
- `close` queues its farewell behind every frame already sent, waits until they
  have all left, then closes with the WebSocket handshake; on a link that is
  already down it does nothing. If the waiting task is cancelled, the link stays
  closed to new frames and its writer, in the actor's nursery, still sends what
  was queued, unless that nursery is being cancelled too: then the queued frames
  are dropped with the socket.
- A background redial checks whether it is still wanted each time it wakes, so
  once the owner stops wanting a link it ends at its next wake-up without giving
  up. A dial already under way at that moment still connects, then closes the
  link at once without sending its opening frame.
- Cancelling the actor's nursery ends the reader and any redial where they wait,
  without a word to the owner: no end of link, no give-up. Once a link has
  ended, the reader's report of it is shielded from cancellation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import trio
from structlog.typing import FilteringBoundLogger

from actors.runtime.actor import Owner
from actors.runtime.backoff import ATTEMPTS, retry
from actors.runtime.transport import Link, LinkClosed, LinkRefused, Network
from protocol import AnyMessage

#: The owner's messages: how its actor is told of a frame and of the end of a link.
M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Dial:
    """Where a connection goes and the frame that opens it.

    `first` is called once the link is up, so the frame carries the owner's
    state at that moment (a viewer's last event number, say).
    """

    resource: str
    first: Callable[[], AnyMessage]


@dataclass(frozen=True, slots=True)
class LinkOwner(Generic[M]):
    """What a `ReconnectingLink` needs from the side that uses it.

    `frame` and `ended` wrap a frame, or the end of a link, in the owner's own
    message for its actor's mailbox. `wanted` says whether the owner still wants
    a connection; `gave_up` hears that every try of a redial failed.
    """

    actor: Owner[M]
    wanted: Callable[[], bool]
    frame: Callable[[object], M]
    ended: Callable[[Link], M]
    gave_up: Callable[[int], Awaitable[None]]


class ReconnectingLink(Generic[M]):
    """One client connection that can be dialled again; see the module docstring.

    `name` starts the names of its log events (`<name>_connect_refused`) and tasks.
    """

    def __init__(
        self,
        owner: LinkOwner[M],
        network: Network,
        *,
        server: str,
        name: str,
        log: FilteringBoundLogger,
    ) -> None:
        self._owner = owner
        self._network = network
        self._server = server
        self._name = name
        self._log = log
        self._link: Link | None = None

    async def open(self, dial: Dial) -> None:
        """Dial now; if the server cannot be reached, keep dialling in the background."""
        if not await self._dial(dial):
            self.redial(dial)

    async def _dial(self, dial: Dial) -> bool:
        """Connect, start the reader and send the opening frame; False if refused."""
        actor = self._owner.actor
        try:
            self._link = await self._network.connect(
                actor.name, self._server, dial.resource, actor.nursery
            )
        except LinkRefused as refused:
            self._log.info(f"{self._name}_connect_refused", reason=str(refused))
            return False
        if not self._owner.wanted():  # given up on while connecting: open nothing
            await self._link.close()
            return True
        actor.spawn(self._read, self._link, name=f"{actor.name}:{self._name}-reader")
        self._link.send(dial.first())
        return True

    async def _read(self, link: Link) -> None:
        actor = self._owner.actor
        try:
            while True:
                await actor.tell_self(self._owner.frame(await link.receive()))
        except LinkClosed:
            pass
        with trio.CancelScope(shield=True):
            await actor.tell_self(self._owner.ended(link))

    def needs_redial(self, link: Link) -> bool:
        """Whether the end of `link` calls for a redial: it was the live link, still wanted."""
        return link is self._link and self._owner.wanted()

    def redial(self, dial: Dial) -> None:
        """Dial again in the background, on the backoff schedule; see the module docstring."""
        actor = self._owner.actor
        actor.spawn(self._redial, dial, name=f"{actor.name}:{self._name}-redial")

    async def _redial(self, dial: Dial) -> None:
        wanted = self._owner.wanted
        if await retry(lambda: self._dial(dial), wanted=wanted) or not wanted():
            return
        await self._owner.gave_up(ATTEMPTS)

    @property
    def is_open(self) -> bool:
        """Whether frames sent now go out on a link (they may still be lost with it)."""
        return self._link is not None and not self._link.closed

    def send(self, message: AnyMessage) -> None:
        """Send on the latest link; lost if that link is down (see the module docstring)."""
        assert self._link is not None, "send before the first dial"
        self._link.send(message)

    async def close(self, farewell: AnyMessage | None = None) -> None:
        """Send `farewell` (if any) and close the link once its frames have left.

        The owner stops wanting a link first, so no redial brings it back.
        """
        link = self._link
        if link is None or link.closed:
            return
        if farewell is not None:
            link.send(farewell)
        await link.close()
