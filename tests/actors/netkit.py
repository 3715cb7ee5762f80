"""Test helpers: both servers on a simulated network, bare clients for each, store snapshots."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from random import Random
from typing import TypeVar

import trio

from actors.rules.credentials import SeededCredentials
from actors.rules.session_store import ServerSwitches, SessionLimits, SessionStore
from actors.rules.task_store import TaskGates, TaskStore
from actors.runtime.conditions import NetworkConditions
from actors.runtime.limits import ConnectionLimits
from actors.runtime.simulation import Simulation, open_simulation
from actors.runtime.transport import Link, LinkClosed, Mode
from actors.servers.session_server import SessionServer
from actors.servers.task_server import TaskServer
from protocol import (
    AgentExchange,
    AgentTaskUpdated,
    AnyMessage,
    OrderedTerminalEvent,
    RunRecord,
    RunReply,
    TaskError,
    UserId,
    sharer,
    viewer,
)
from protocol.runs import Execution, RunState
from protocol.tasks import CreateRun, TaskReply, TaskRequest, TransitionRun

M = TypeVar("M")

#: How long a test client waits for a frame, in virtual seconds: past any server timer.
WAIT_S = 300.0


@dataclass
class Client:
    """One end of a link, driven step by step by a test."""

    link: Link

    def send(self, message: AnyMessage) -> None:
        self.link.send(message)

    def send_raw(self, text: str) -> None:
        """Send any text frame, valid or not (bad-input tests)."""
        self.link.send_raw(text)

    async def receive(self) -> object:
        with trio.fail_after(WAIT_S):
            return await self.link.receive()

    async def expect(self, kind: type[M]) -> M:
        message = await self.receive()
        assert isinstance(message, kind), f"expected {kind.__name__}, got {message!r}"
        return message

    async def closed(self) -> LinkClosed:
        """Read until the link ends; return how it ended."""
        return (await self.rest())[1]

    async def rest(self) -> tuple[list[object], LinkClosed]:
        """Every frame until the link ends, and how it ended: shows nothing else arrived."""
        frames: list[object] = []
        with trio.fail_after(WAIT_S):
            while True:
                try:
                    frames.append(await self.link.receive())
                except LinkClosed as closed:
                    return frames, closed


@dataclass
class Servers:
    simulation: Simulation
    sessions: SessionServer
    tasks: TaskServer
    nursery: trio.Nursery

    async def connect(self, client: str, server: str, resource: str) -> Client:
        link = await self.simulation.network.connect(client, server, resource, self.nursery)
        return Client(link)

    async def share(
        self, name: str = "sharer", **payload: object
    ) -> tuple[Client, sharer.SessionInitialized]:
        """Create a session the way a sharer does; returns the sharer's client and the reply."""
        client = await self.connect(name, "session-server", "/sessions/create")
        client.send(sharer.Initialize(sharer.InitPayload(UserId(name), **payload)))  # type: ignore[arg-type]
        return client, await client.expect(sharer.SessionInitialized)

    async def join(
        self, name: str, created: sharer.SessionInitialized, *, query: str = "", **payload: object
    ) -> tuple[Client, object]:
        """Join (or, with `viewer_id`, rejoin) as user `name`; returns the client and the reply.

        `query` is appended to the join route, e.g. `&via=PARENT&as=VIEWER_ID`.
        """
        client = await self.connect(name, "session-server", join_route(created) + query)
        client.send(viewer.Initialize(viewer.ViewerInitPayload(UserId(name), **payload)))  # type: ignore[arg-type]
        return client, await client.receive()

    async def reconnect(
        self, created: sharer.SessionInitialized, name: str = "sharer", **payload: object
    ) -> tuple[Client, object]:
        """Resume a share on its resume route; returns the client and the reply."""
        resource = f"/sessions/{created.session_id}/resume"
        client = await self.connect(f"{name}-again", "session-server", resource)
        defaults: dict[str, object] = {
            "session_secret": created.session_secret,
            "reconnect_token": created.reconnect_token,
            "user_id": UserId(name),
        }
        client.send(sharer.Reconnect(sharer.ReconnectPayload(**{**defaults, **payload})))  # type: ignore[arg-type]
        return client, await client.receive()

    async def tasks_client(self, principal: str) -> Client:
        """A task-server link for `principal`, with the token the server issued it."""
        token = self.tasks.store.issue_token(principal).reveal()
        return await self.connect(principal, "task-server", f"/tasks?token={token}")


def store_state(store: SessionStore | TaskStore) -> dict[str, object]:
    """A store's whole state by value, its random stream by position.

    Taken before and after a request, it shows a refusal changed nothing at all.
    The note-taker is where the store reports, not part of its state.
    """
    return {
        name: value.getstate() if isinstance(value, Random) else copy.deepcopy(value)
        for name, value in vars(store).items()
        if name != "_notes"
    }


def join_route(created: sharer.SessionInitialized) -> str:
    return f"/sessions/join/{created.session_id}?pwd={created.session_secret.reveal()}"


async def joined(
    servers: Servers, name: str, created: sharer.SessionInitialized, *, query: str = ""
) -> tuple[Client, viewer.JoinedSuccessfully]:
    """Join as user `name` and insist on success."""
    client, reply = await servers.join(name, created, query=query)
    assert isinstance(reply, viewer.JoinedSuccessfully), reply
    return client, reply


def exchange_event(n: int) -> OrderedTerminalEvent:
    return OrderedTerminalEvent(n, AgentExchange("t-1", n, f"exchange {n}").to_event())


async def send_events(owner: Client, *numbers: int) -> None:
    """Send events and wait for the ack of the last one, so the server holds them all."""
    for n in numbers:
        owner.send(exchange_event(n))
    for n in numbers:
        assert (await owner.expect(sharer.EventsProcessedAck)).latest_processed_event_no == n


async def event_numbers(client: Client, count: int) -> list[int]:
    return [(await client.expect(OrderedTerminalEvent)).event_no for _ in range(count)]


class Tasks:
    """One principal's task-server link, with a fresh request id per call."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._next = 0

    def request_id(self) -> int:
        self._next += 1
        return self._next

    async def call(self, request: TaskRequest) -> TaskReply:
        self.client.send(request)
        reply = await self.client.receive()
        assert getattr(reply, "request_id", None) == request.request_id, reply
        return reply  # type: ignore[return-value]

    async def run(self, request: TaskRequest) -> RunRecord:
        reply = await self.call(request)
        assert isinstance(reply, RunReply | AgentTaskUpdated), reply
        return reply.run

    async def error(self, request: TaskRequest) -> TaskError:
        reply = await self.call(request)
        assert isinstance(reply, TaskError), reply
        return reply

    async def create(
        self, title: str, execution: Execution, parent: str | None = None
    ) -> RunRecord:
        return await self.run(CreateRun(self.request_id(), title, execution, parent))

    async def move(self, task_id: str, *states: RunState) -> RunRecord:
        run = None
        for state in states:
            run = await self.run(TransitionRun(self.request_id(), task_id, state))
        assert run is not None
        return run


async def open_tasks(servers: Servers, principal: str) -> Tasks:
    return Tasks(await servers.tasks_client(principal))


@asynccontextmanager
async def running_servers(
    *,
    mode: Mode = Mode.MEMORY,
    seed: int = 0,
    switches: ServerSwitches | None = None,
    gates: TaskGates | None = None,
    limits: SessionLimits | None = None,
    conditions: NetworkConditions | None = None,
    connection_limits: ConnectionLimits | None = None,
) -> AsyncIterator[Servers]:
    async with open_simulation(
        seed=seed, mode=mode, conditions=conditions, limits=connection_limits
    ) as simulation:
        credentials = SeededCredentials(simulation.random.stream)
        sessions = SessionServer(simulation.network, credentials, switches=switches, limits=limits)
        tasks = TaskServer(simulation.network, gates=gates, credentials=credentials)
        await simulation.stage.start(sessions)
        await simulation.stage.start(tasks)
        async with trio.open_nursery() as nursery:
            yield Servers(simulation, sessions, tasks, nursery)
            nursery.cancel_scope.cancel()
