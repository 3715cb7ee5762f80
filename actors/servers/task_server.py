"""The task server actor: `TaskStore` rules behind a WebSocket listener.

A client connects to `/tasks?token=TOKEN`, with the token the server issued
to its principal, and sends requests, each with a `request_id` its reply
echoes. A link whose token the server did not issue is closed (1008) before
any request on it is read. Every request is counted per principal and
endpoint before it is served, refusals included, because the cost of polling
is what designers compare. Who may view which run is the store's ownership
rule; teams are set up on the store before clients connect. A link may also
subscribe to a parent's children (the follow-up design's push discovery):
after every request that changed a child row, the server pushes the new row
to each link following that parent.
"""

from __future__ import annotations

from typing import Never, get_args

import structlog
import trio

from actors.rules.child_feed import ChildFeed
from actors.rules.credentials import Credentials
from actors.rules.task_store import TaskGates, TaskLimits, TaskStore
from actors.runtime.transport import CloseCode, Link, MalformedFrame, Network
from actors.servers.websocket_server import WebSocketServer
from protocol import Channel, RunRecord, UnknownMessage, tasks
from protocol.message import tag_of
from protocol.routes import is_tasks_route, task_token

_log = structlog.get_logger("sharesim.task_server")

_ENDPOINTS: dict[type, str] = {
    tasks.CreateRun: "create_run",
    tasks.ListRuns: "list_runs",
    tasks.GetRun: "get_run",
    tasks.UpdateAgentTask: "update_agent_task",
    tasks.TransitionRun: "transition_run",
    tasks.GetAgentNames: "get_agent_names",
    tasks.SubscribeChildren: "subscribe_children",
    tasks.UnsubscribeChildren: "unsubscribe_children",
}


#: Why a link without a valid token is closed; the same whatever was wrong with it.
UNKNOWN_TOKEN = "task token missing or not recognised; ask the server's operator for one"


#: Every task-channel message, requests and replies alike, carries a `request_id`.
_ID_CARRIERS = get_args(tasks.TaskRequest | tasks.TaskReply)


def _push(run: RunRecord) -> tasks.ChildRunChanged:
    assert run.parent_run_id is not None
    assert run.last_event_sequence is not None
    return tasks.ChildRunChanged(run.parent_run_id, run.last_event_sequence, run)


class TaskServer(WebSocketServer[Never]):
    # It takes no commands from other actors: everything comes over its links.
    """Owns the `ai_tasks` rows; see `task_store.py` for the rules."""

    role = "task-server"

    def __init__(
        self,
        network: Network,
        *,
        name: str = "task-server",
        gates: TaskGates | None = None,
        credentials: Credentials,
        limits: TaskLimits | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(name, network, host=host, port=port)
        self.store = TaskStore(gates or TaskGates(), credentials, limits or TaskLimits())
        self.feed = ChildFeed()
        self._next_task = 0
        self._principals: dict[int, str] = {}

    def channels(self, resource: str) -> tuple[Channel, Channel] | None:
        return (Channel.TASKS, Channel.TASKS) if is_tasks_route(resource) else None

    async def link_opened(self, link: Link) -> None:
        principal = self.store.authenticate(task_token(link.resource))
        if principal is None:
            _log.info("task_link_refused", peer=link.peer, reason="unknown token")
            self.close_link(link, CloseCode.POLICY_VIOLATION, UNKNOWN_TOKEN)
            return
        self._principals[link.id] = principal

    async def link_ended(self, link: Link) -> None:
        self._principals.pop(link.id, None)
        self.feed.link_closed(link.id)

    async def frame_received(self, link: Link, message: object) -> None:
        principal = self._principals.get(link.id)
        if principal is None:
            return  # an unauthenticated link, already being closed
        if isinstance(message, MalformedFrame):
            link.send(
                tasks.TaskError(
                    0, tasks.TaskErrorKind.INVALID, f"malformed request: {message.error}"
                )
            )
            return
        if isinstance(message, UnknownMessage):
            # A newer client's request: ignored, the connection stays.
            self.log_repeatable(
                link, "unknown_message_ignored", tag=message.tag, principal=principal
            )
            return
        endpoint = _ENDPOINTS.get(type(message))
        # A frame without one (none decodes so today) is answered as request 0.
        request_id = message.request_id if isinstance(message, _ID_CARRIERS) else 0
        replay: list[tasks.ChildRunChanged] = []
        if endpoint is None:
            reply: tasks.TaskReply = tasks.TaskError(
                request_id,
                tasks.TaskErrorKind.INVALID,
                f"{tag_of(message)} is a reply, not a request",
            )
        else:
            self.store.count(principal, endpoint)
            try:
                self.store.check_request(message)
                if isinstance(message, tasks.SubscribeChildren | tasks.UnsubscribeChildren):
                    reply, replay = self._subscription(principal, link, message)
                else:
                    reply = self._serve(principal, message)
            except tasks.TaskRefused as refused:
                _log.info(
                    "request_refused",
                    decision=True,
                    peer=link.peer,
                    principal=principal,
                    endpoint=endpoint,
                    reason=refused.detail,
                )
                reply = tasks.TaskError(request_id, refused.kind, refused.reason)
        link.send(reply)
        for push in replay:
            link.send(push)
        self._push_child_changes()

    def _subscription(
        self,
        principal: str,
        link: Link,
        request: tasks.SubscribeChildren | tasks.UnsubscribeChildren,
    ) -> tuple[tasks.TaskReply, list[tasks.ChildRunChanged]]:
        """Follow a parent (its replay goes out after the reply) or stop following it.

        Whoever may view the parent may follow it; the check is made when subscribing.
        """
        parent = request.parent_run_id
        if isinstance(request, tasks.UnsubscribeChildren):
            self.feed.unsubscribe(link.id, parent)
            return tasks.ChildrenUnsubscribed(request.request_id, parent), []
        rows = self.store.children_since(principal, parent, request.since)
        self.feed.subscribe(link.id, parent)
        return tasks.ChildrenSubscribed(request.request_id, parent), [_push(run) for run in rows]

    def _push_child_changes(self) -> None:
        """Send each child change the last request made to every link following its parent."""
        for run in self.store.take_child_changes():
            assert run.parent_run_id is not None
            for link_id in self.feed.subscribers(run.parent_run_id):
                link = self.links.get(link_id)
                if link is not None and not link.closed:
                    link.send(_push(run))

    def _serve(self, principal: str, request: object) -> tasks.TaskReply:
        now = trio.current_time()
        store = self.store
        if isinstance(request, tasks.ListRuns):
            runs, cursor = store.list_children(
                principal, request.parent_run_id, limit=request.limit, cursor=request.cursor
            )
            return tasks.RunsListed(request.request_id, tuple(runs), cursor)
        if isinstance(request, tasks.GetRun):
            return tasks.RunReply(request.request_id, store.get_run(principal, request.task_id))
        if isinstance(request, tasks.UpdateAgentTask):
            run = store.update_agent_task(
                principal,
                request.task_id,
                state=request.state,
                session_id=request.session_id,
                session_link=request.session_link,
                conversation_id=request.conversation_id,
                status_message=request.status_message,
                now=now,
            )
            return tasks.AgentTaskUpdated(request.request_id, run)
        if isinstance(request, tasks.TransitionRun):
            run = store.transition(principal, request.task_id, request.state, now=now)
            return tasks.RunReply(request.request_id, run)
        if isinstance(request, tasks.GetAgentNames):
            names = store.agent_names(principal, request.task_id)
            return tasks.AgentNames(
                request.request_id, tuple(tasks.AgentName(i, n) for i, n in names.items())
            )
        assert isinstance(request, tasks.CreateRun)
        existing = store.created_for(principal, request.idempotency_key)
        if existing is not None:
            return tasks.RunReply(request.request_id, existing)
        self._next_task += 1
        run = store.create_run(
            principal,
            f"t-{self._next_task}",
            title=request.title,
            execution=request.execution,
            parent_run_id=request.parent_run_id,
            agent_config_snapshot=request.agent_config_snapshot,
            now=now,
            idempotency_key=request.idempotency_key,
        )
        return tasks.RunReply(request.request_id, run)
