"""The actor runtime: mailboxes, `tell`/`ask`, and the per-actor loop.

An actor owns a bounded mailbox (a Trio memory channel) and handles one message
at a time, so its state needs no locks. Senders feel backpressure: `tell`
waits while the mailbox is full. Replies to `ask` travel on a one-slot channel
of their own, so a reply can never be stuck behind a full mailbox.

Cancellation: an actor's loop, its helper tasks and its connections all live in
the actor's own nursery, which lives inside its supervisor's (see `stage.py`).
Cancelling the supervisor cancels every actor.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, NoReturn, Protocol, TypeVar, cast

import structlog
import trio

from protocol.errors import SharesimError

_log = structlog.get_logger("sharesim.runtime")

DEFAULT_MAILBOX_SIZE = 256

T = TypeVar("T")
#: The messages one kind of actor handles (a union of message classes).
M = TypeVar("M")
#: What a request is answered with.
R = TypeVar("R")
#: The messages a helper object hands its actor.
T_contra = TypeVar("T_contra", contravariant=True)


class Request(Generic[R]):
    """Base of a message that is asked rather than told; its handler answers with an `R`.

    Declare `class Describe(Request[AgentInfo])`: `ref.ask(Describe())` is then typed
    `AgentInfo`, and the handler answers with `self.answer(message, info)`, which
    mypy checks against `AgentInfo`. A request handled without an answer fails the
    asker with `Unanswered` and crashes the actor: that is a bug, not a timeout.
    """

    __slots__ = ()


class Owner(Protocol[T_contra]):
    """The part of an actor that a helper object living inside it (a share, a view) uses.

    An `Actor[M]` is an `Owner[T]` whenever every `T` is also an `M`, so a helper
    names only the messages it hands back, whatever else its actor handles.
    """

    name: str

    @property
    def nursery(self) -> trio.Nursery: ...

    def spawn(
        self, fn: Callable[..., Awaitable[object]], *args: object, name: str | None = None
    ) -> None: ...

    async def tell_self(self, message: T_contra) -> None: ...


class AskTimeout(SharesimError):
    """An `ask` got no reply in time; names both actors and the request."""

    def __init__(self, asker: str, target: str, request: object, timeout: float) -> None:
        self.asker = asker
        self.target = target
        self.request_type = type(request).__name__
        self.timeout = timeout
        super().__init__(
            f"{asker} asked {target} for {self.request_type}: "
            f"no reply within {timeout:g} s of virtual time"
        )


class ActorCrashed(SharesimError):
    """An actor raised while handling a message; the original error is the cause."""

    def __init__(self, actor: str, message: object, error: BaseException) -> None:
        self.actor = actor
        self.message_type = type(message).__name__
        self.error = error
        super().__init__(
            f"actor {actor!r} crashed handling {self.message_type}: {type(error).__name__}: {error}"
        )


class Unanswered(SharesimError):
    """An actor finished handling a request without answering it."""

    def __init__(self, actor: str, request: object) -> None:
        self.actor = actor
        super().__init__(f"actor {actor!r} handled {type(request).__name__} without answering it")


class ActorStopped(SharesimError):
    """A message was sent to an actor whose mailbox is already closed."""

    def __init__(self, target: str, request: object) -> None:
        self.target = target
        super().__init__(f"actor {target!r} has stopped; {type(request).__name__} not delivered")


@dataclass(slots=True)
class Envelope:
    """A message in a mailbox, with its sender and, for `ask`, where the reply goes."""

    sender: str
    message: object
    reply_to: trio.MemorySendChannel[_Reply] | None = None


@dataclass(frozen=True, slots=True)
class _Reply:
    value: object = None
    error: BaseException | None = None


@dataclass(slots=True)
class Mailbox:
    """A bounded queue of envelopes; `statistics()` shows depth and waiting senders."""

    capacity: int = DEFAULT_MAILBOX_SIZE
    _send: trio.MemorySendChannel[Envelope] = field(init=False)
    _receive: trio.MemoryReceiveChannel[Envelope] = field(init=False)

    def __post_init__(self) -> None:
        if not (
            self.capacity == math.inf or (isinstance(self.capacity, int) and self.capacity >= 0)
        ):
            raise ValueError(f"mailbox capacity must be a whole number >= 0, got {self.capacity!r}")
        self._send, self._receive = trio.open_memory_channel[Envelope](self.capacity)

    def statistics(self) -> trio.MemoryChannelStatistics:
        return self._send.statistics()

    def close(self) -> None:
        """Refuse further messages once the actor has ended: a `tell` raises `ActorStopped`."""
        self._send.close()


class Actor(Generic[M]):
    """Base class for every participant: subclass `Actor[Messages]` and implement `handle`.

    `Messages` is the union of the message classes the actor handles; refs to it
    (`ActorRef[Messages]`) accept only those. `handle` runs for one message at a
    time; a `Request` is answered with `answer` before `handle` returns.
    Long-lived work (reading a connection, timers) goes in helper tasks started
    from `on_start` in `self.nursery`; they report back to the actor by telling it
    messages, so all state changes happen inside `handle`.
    """

    role: ClassVar[str] = "actor"

    def __init__(self, name: str, *, mailbox_size: int = DEFAULT_MAILBOX_SIZE) -> None:
        self.name = name
        self.mailbox = Mailbox(mailbox_size)
        self._nursery: trio.Nursery | None = None
        #: The envelope being handled, and whether `answer` was called for it.
        self._current: Envelope | None = None
        self._answered = False

    # -- to override -------------------------------------------------------

    async def on_start(self) -> None:
        """Open connections and start helper tasks; the actor counts as started after it."""

    async def handle(self, message: M, sender: str) -> None:
        """Handle one message; answer it with `answer` if it is a `Request`."""
        raise NotImplementedError(f"{type(self).__name__} does not handle {type(message).__name__}")

    def answer(self, request: Request[R], value: R) -> None:
        """Answer the request being handled (once); for a request that was told, a no-op."""
        current = self._current
        if current is None or current.message is not request or self._answered:
            raise RuntimeError(
                f"actor {self.name!r} answered {type(request).__name__} "
                "outside its handling, or twice"
            )
        self._answered = True
        _answer(current, _Reply(value=value))

    def log_context(self) -> dict[str, Any]:
        """Context bound to every log line of this actor's tasks."""
        return {"actor": self.name, "role": self.role}

    # -- runtime -------------------------------------------------------------

    @property
    def nursery(self) -> trio.Nursery:
        if self._nursery is None:
            raise RuntimeError(f"actor {self.name!r} is not running")
        return self._nursery

    @property
    def ref(self) -> ActorRef[M]:
        return ActorRef(self)

    async def run(
        self, *, task_status: trio.TaskStatus[ActorRef[M]] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run until cancelled (the stage cancels every actor as it closes) or crashed."""
        structlog.contextvars.bind_contextvars(**self.log_context())
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                await self.on_start()
                task_status.started(self.ref)
                await self._serve_mailbox()
        finally:
            self.mailbox.close()
            self._nursery = None

    async def _serve_mailbox(self) -> NoReturn:
        """Handle messages one at a time, for as long as the actor runs.

        A queued message is taken without a trip through the scheduler (see
        `receive_eagerly`); the loop only waits when the mailbox is empty.
        """
        async with self.mailbox._receive as inbox:
            while True:
                await self._dispatch(await receive_eagerly(inbox))

    async def _dispatch(self, envelope: Envelope) -> None:
        # Only the mailbox loop sets this, and only messages of type M reach it.
        message = cast(M, envelope.message)
        self._current, self._answered = envelope, False
        try:
            await self.handle(message, envelope.sender)
            if envelope.reply_to is not None and not self._answered:
                raise Unanswered(self.name, message)
        except (trio.Cancelled, KeyboardInterrupt):
            raise
        except Exception as error:
            if not self._answered:
                _answer(envelope, _Reply(error=error))
            raise ActorCrashed(self.name, message, error) from error
        finally:
            self._current = None

    def spawn(
        self, fn: Callable[..., Awaitable[object]], *args: object, name: str | None = None
    ) -> None:
        """Start a helper task in this actor's nursery, under this actor's log context."""
        self.nursery.start_soon(
            fn, *args, name=name or f"{self.name}:{getattr(fn, '__name__', 'task')}"
        )

    async def tell_self(self, message: M) -> None:
        """Let a helper task hand a message to this actor's own loop."""
        await self.ref.tell(message, sender=self.name)


async def receive_eagerly(channel: trio.MemoryReceiveChannel[T]) -> T:
    """The channel's next item, taken at once when one is queued.

    `channel.receive()` passes through the scheduler even then, which for a
    busy mailbox or link is a round trip per item. Waiting happens only when
    the channel is empty; a cancelled caller still stops here, and a closed,
    drained channel raises `trio.EndOfChannel` as `receive` does.
    """
    await trio.lowlevel.checkpoint_if_cancelled()
    try:
        return channel.receive_nowait()
    except trio.WouldBlock:
        return await channel.receive()


def _answer(envelope: Envelope, reply: _Reply) -> None:
    """Deliver a reply unless the asker already gave up (timed out or was cancelled)."""
    if envelope.reply_to is None:
        return
    try:
        envelope.reply_to.send_nowait(reply)
    except (trio.ClosedResourceError, trio.BrokenResourceError):
        _log.debug("reply_dropped", to=envelope.sender, request=type(envelope.message).__name__)


@dataclass(frozen=True, slots=True)
class ActorRef(Generic[M]):
    """A handle to send to an actor; cheap to copy, safe to keep after the actor stops."""

    actor: Actor[M]

    @property
    def name(self) -> str:
        return self.actor.name

    async def tell(self, message: M, *, sender: str = "external") -> None:
        """Queue a message; waits while the mailbox is full (backpressure).

        With room in the mailbox it returns at once, without yielding to the
        scheduler; a cancelled sender still gets `trio.Cancelled`.
        """
        channel = self.actor.mailbox._send
        envelope = Envelope(sender, message)
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            try:
                channel.send_nowait(envelope)
            except trio.WouldBlock:
                await channel.send(envelope)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            raise ActorStopped(self.name, message) from None

    async def ask(
        self,
        message: Request[R],
        *,
        sender: str = "external",
        timeout: float = 30.0,  # noqa: ASYNC109 - AskTimeout must name both actors
    ) -> R:
        """Send a request and wait for its answer, or raise `AskTimeout` after `timeout`."""
        reply_send, reply_receive = trio.open_memory_channel[_Reply](1)
        with reply_send, reply_receive:
            try:
                with trio.fail_after(timeout):
                    await self.actor.mailbox._send.send(Envelope(sender, message, reply_send))
                    reply = await reply_receive.receive()
            except trio.TooSlowError:
                raise AskTimeout(sender, self.name, message, timeout) from None
            except (trio.ClosedResourceError, trio.BrokenResourceError, trio.EndOfChannel):
                raise ActorStopped(self.name, message) from None
        if reply.error is not None:
            raise reply.error
        # `answer` accepts only an R for a Request[R].
        return cast(R, reply.value)
