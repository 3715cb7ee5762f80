"""Test helpers: both servers on a simulated network, and a bare protocol client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import trio

from actors.conditions import NetworkConditions
from actors.servers.session_server import SessionServer
from actors.servers.session_store import ServerSwitches
from actors.servers.task_server import TaskServer
from actors.servers.task_store import TaskGates
from actors.simulation import Simulation, open_simulation
from actors.transport import Link, LinkClosed, Mode
from protocol import AnyMessage, UserId, sharer, viewer

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
        with trio.fail_after(WAIT_S):
            while True:
                try:
                    await self.link.receive()
                except LinkClosed as closed:
                    return closed


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
        return await self.connect(principal, "task-server", f"/tasks?principal={principal}")


def join_route(created: sharer.SessionInitialized) -> str:
    return f"/sessions/join/{created.session_id}?pwd={created.session_secret.reveal()}"


@asynccontextmanager
async def running_servers(
    *,
    mode: Mode = Mode.MEMORY,
    seed: int = 0,
    switches: ServerSwitches | None = None,
    gates: TaskGates | None = None,
    conditions: NetworkConditions | None = None,
) -> AsyncIterator[Servers]:
    async with open_simulation(seed=seed, mode=mode, conditions=conditions) as simulation:
        sessions = SessionServer(
            simulation.network, simulation.random.stream("sessions"), switches=switches
        )
        tasks = TaskServer(simulation.network, gates=gates)
        await simulation.stage.start(sessions)
        await simulation.stage.start(tasks)
        async with trio.open_nursery() as nursery:
            yield Servers(simulation, sessions, tasks, nursery)
            nursery.cancel_scope.cancel()
