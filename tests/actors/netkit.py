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


@dataclass
class Client:
    """One end of a link, driven step by step by a test."""

    link: Link

    def send(self, message: AnyMessage) -> None:
        self.link.send(message)

    async def receive(self) -> object:
        with trio.fail_after(60):
            return await self.link.receive()

    async def expect(self, kind: type[M]) -> M:
        message = await self.receive()
        assert isinstance(message, kind), f"expected {kind.__name__}, got {message!r}"
        return message

    async def closed(self) -> LinkClosed:
        """Read until the link ends; return how it ended."""
        with trio.fail_after(60):
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
        self, name: str, created: sharer.SessionInitialized, **payload: object
    ) -> tuple[Client, object]:
        route = f"/sessions/join/{created.session_id}?pwd={created.session_secret.reveal()}"
        client = await self.connect(name, "session-server", route)
        client.send(viewer.Initialize(viewer.ViewerInitPayload(UserId(name), **payload)))  # type: ignore[arg-type]
        return client, await client.receive()


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
