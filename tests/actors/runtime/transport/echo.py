"""A bare echo server and client links on a simulated network, for transport tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import trio

from actors.runtime.conditions import NetworkConditions
from actors.runtime.simulation import Simulation, open_simulation
from actors.runtime.transport import Link, LinkClosed, Mode
from protocol import Channel, Ping, Pong

ECHO = "echo"

#: Virtual seconds any single wait in these tests may take. Virtual time passes
#: only while every task waits on a timer, so a wait that reaches it is stuck.
BOUND = 300


@dataclass
class Ended:
    """How and when one end of a link saw it end."""

    t: float
    code: int | None


@dataclass
class Echo:
    """Answers each Ping with a Pong of the same data and notes what it saw."""

    pongs: bool = True
    pings: list[tuple[float, str, bytes]] = field(default_factory=list)
    ended: dict[str, Ended] = field(default_factory=dict)
    changed: trio.Event = field(default_factory=trio.Event)

    async def serve(self, link: Link) -> None:
        try:
            async for message in _frames(link):
                assert isinstance(message, Ping), message
                self.pings.append((trio.current_time(), link.peer, message.data))
                if self.pongs:
                    link.send(Pong(message.data))
                self._notify()
        except LinkClosed as closed:
            self.ended[link.peer] = Ended(trio.current_time(), closed.code)
            self._notify()

    def _notify(self) -> None:
        self.changed.set()
        self.changed = trio.Event()

    async def wait_for_end(self, peer: str) -> Ended:
        with trio.fail_after(BOUND):
            while peer not in self.ended:
                await self.changed.wait()
        return self.ended[peer]

    async def wait_for_pings(self, count: int) -> None:
        with trio.fail_after(BOUND):
            while len(self.pings) < count:
                await self.changed.wait()


async def _frames(link: Link) -> AsyncIterator[object]:
    """Every frame until the link ends; unlike `async for link`, the end is raised."""
    while True:
        yield await link.receive()


@dataclass
class Net:
    simulation: Simulation
    echo: Echo
    nursery: trio.Nursery
    #: Cancel it to stop the echo server.
    server: trio.CancelScope

    async def connect(self, client: str) -> Link:
        with trio.fail_after(BOUND):
            return await self.simulation.network.connect(client, ECHO, "/echo", self.nursery)

    async def ping(self, link: Link, data: bytes) -> None:
        """A Ping that must come back as a Pong with the same data."""
        link.send(Ping(data))
        with trio.fail_after(BOUND):
            reply = await link.receive()
        assert reply == Pong(data)

    async def end_of(self, link: Link) -> Ended:
        """Read until the link ends; what is still in flight is skipped."""
        with trio.fail_after(BOUND):
            try:
                while True:
                    await link.receive()
            except LinkClosed as closed:
                return Ended(trio.current_time(), closed.code)


@asynccontextmanager
async def serve_echo(simulation: Simulation) -> AsyncIterator[Net]:
    """An echo server listening on the simulation's network until the block ends."""
    echo = Echo()
    async with trio.open_nursery() as nursery:
        server: trio.CancelScope = await nursery.start(_listen, simulation, echo)
        yield Net(simulation, echo, nursery, server)
        nursery.cancel_scope.cancel()


async def _listen(
    simulation: Simulation, echo: Echo, *, task_status: trio.TaskStatus[trio.CancelScope]
) -> None:
    """Serve in a nursery of its own, so that stopping the server stops nothing else."""
    async with trio.open_nursery() as server_nursery:
        await simulation.network.listen(
            ECHO,
            echo.serve,
            server_nursery,
            channels=lambda _resource: (Channel.SHARER_UP, Channel.SHARER_DOWN),
        )
        task_status.started(server_nursery.cancel_scope)
        await trio.sleep_forever()


@asynccontextmanager
async def echo_network(
    mode: Mode = Mode.MEMORY, *, conditions: NetworkConditions | None = None
) -> AsyncIterator[Net]:
    """A fresh simulation with an echo server; everything stops when the block ends."""
    async with (
        open_simulation(mode=mode, conditions=conditions) as simulation,
        serve_echo(simulation) as net,
    ):
        yield net
