"""A client's connection to the task server: requests out, replies matched by id.

Replies are matched in a reader task of their own, never through the owning
actor's mailbox, so an actor may await a reply inside `handle` without
deadlocking on itself. The link is opened on first use and again after it
breaks; a request lost with a broken link fails with `TaskCallFailed`, which
callers treat like any other failed request, and an error reply raises
`TaskRefused`, the kind of `TaskCallFailed` that retrying cannot mend. A push
the server sends outside any request (`ChildRunChanged`, after a
subscription) goes to `on_push`, and the end of a link to `on_lost`, so a
subscriber knows to subscribe again.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import get_args

import structlog
import trio

from actors.runtime.backoff import delays
from actors.runtime.transport import Link, LinkClosed, LinkRefused, Network
from protocol import tasks
from protocol.routes import tasks_route
from protocol.secrets import TaskToken
from protocol.tasks import TaskCallFailed, TaskRefused

_log = structlog.get_logger("sharesim.task_client")

DEFAULT_TIMEOUT_S = 30.0


#: Every reply the task server sends; each echoes its request's `request_id`.
_REPLY_TYPES = get_args(tasks.TaskReply)


class TaskCallAbandoned(TaskCallFailed):
    """A request given up by its sender before it got through: nothing went wrong."""


@dataclass(frozen=True, slots=True)
class SentRequest:
    """A request put on the wire (or that could not be: `failure`), its reply still to come."""

    request_id: int
    name: str
    replies: trio.MemoryReceiveChannel[tasks.TaskReply | None]
    failure: TaskCallFailed | None = None


class TaskClient:
    """Request/reply over one WebSocket to the task server, as whoever `token` was issued to."""

    def __init__(
        self,
        owner: str,
        token: TaskToken,
        network: Network,
        nursery: trio.Nursery,
        *,
        server: str = "task-server",
        timeout: float = DEFAULT_TIMEOUT_S,
        on_push: Callable[[tasks.TaskPush], Awaitable[None]] | None = None,
        on_lost: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._owner = owner
        self._token = token
        self._network = network
        self._nursery = nursery
        self._server = server
        self._timeout = timeout
        self._on_push = on_push
        self._on_lost = on_lost
        self._ids = itertools.count(1)
        self._link: Link | None = None
        self._connecting = trio.Lock()
        self._pending: dict[int, trio.MemorySendChannel[tasks.TaskReply | None]] = {}

    async def send(self, build: Callable[[int], tasks.TaskRequest]) -> SentRequest:
        """Put `build(request_id)` on the wire now; `reply` waits for its answer.

        A caller that does not wait in between keeps its requests in the order it
        made them. A request that could not be sent carries the failure to `reply`.
        """
        request_id = next(self._ids)
        request = build(request_id)
        name = request.message_type
        reply_send, reply_receive = trio.open_memory_channel[tasks.TaskReply | None](1)
        self._pending[request_id] = reply_send
        try:
            link = await self._ensure_link(name)
        except TaskCallFailed as failed:
            self._pending.pop(request_id, None)
            return SentRequest(request_id, name, reply_receive, failed)
        except BaseException:
            self._pending.pop(request_id, None)
            raise
        link.send(request)
        return SentRequest(request_id, name, reply_receive)

    async def reply(self, sent: SentRequest) -> tasks.TaskReply:
        """The reply to a sent request; error replies raise `TaskRefused`."""
        try:
            if sent.failure is not None:
                raise sent.failure
            with trio.move_on_after(self._timeout):
                reply = await sent.replies.receive()
                if reply is None:
                    raise TaskCallFailed("connection lost before the reply", request=sent.name)
                if isinstance(reply, tasks.TaskError):
                    raise TaskRefused(reply.kind, reply.message, request=sent.name)
                return reply
            raise TaskCallFailed(f"no reply within {self._timeout:g} s", request=sent.name)
        finally:
            self._pending.pop(sent.request_id, None)

    async def call(self, build: Callable[[int], tasks.TaskRequest]) -> tasks.TaskReply:
        """Send `build(request_id)` and return its reply; error replies raise `TaskRefused`."""
        return await self.reply(await self.send(build))

    async def call_retrying(
        self,
        build: Callable[[int], tasks.TaskRequest],
        *,
        sent: SentRequest | None = None,
        wanted: Callable[[], bool] | None = None,
    ) -> tasks.TaskReply:
        """`call`, tried again on the client's backoff schedule while the failure is transient.

        A refusal (an error reply) is final and raises at once; a lost connection
        or a missing reply is tried again. Requests that create something carry an
        idempotency key, so a retry cannot create it twice. With `sent`, the first
        try is that request, already on the wire. With `wanted`, a request no longer
        wanted when a retry is due is given up (`TaskCallAbandoned`) instead of sent.
        """
        for delay in delays():
            try:
                return await self.reply(sent if sent is not None else await self.send(build))
            except TaskRefused:
                raise
            except TaskCallFailed as failed:
                _log.info("task_call_retry", reason=failed.reason, after_s=round(delay, 3))
            sent = None
            await trio.sleep(delay)
            if wanted is not None and not wanted():
                raise TaskCallAbandoned("no longer wanted when a retry was due")
        return await self.call(build)

    async def _ensure_link(self, request: str) -> Link:
        async with self._connecting:
            if self._link is None or self._link.closed:
                try:
                    self._link = await self._network.connect(
                        self._owner,
                        self._server,
                        tasks_route(self._token.reveal()),
                        self._nursery,
                    )
                except LinkRefused as refused:
                    raise TaskCallFailed(str(refused), request=request) from None
                self._nursery.start_soon(
                    self._read_replies, self._link, name=f"{self._owner}:tasks"
                )
            return self._link

    async def _read_replies(self, link: Link) -> None:
        try:
            while True:
                message = await link.receive()
                if isinstance(message, tasks.ChildRunChanged):
                    if self._on_push is not None:
                        await self._on_push(message)
                    continue
                reply = message if isinstance(message, _REPLY_TYPES) else None
                waiter = self._pending.get(reply.request_id) if reply is not None else None
                if reply is None or waiter is None:
                    _log.debug("unmatched_task_reply", type=type(message).__name__)
                    continue
                waiter.send_nowait(reply)
        except LinkClosed:
            pass
        for waiter in list(self._pending.values()):
            with contextlib.suppress(trio.WouldBlock):
                waiter.send_nowait(None)
        if self._on_lost is not None:
            with trio.CancelScope(shield=True):
                await self._on_lost()

    async def aclose(self) -> None:
        if self._link is not None:
            await self._link.close()
