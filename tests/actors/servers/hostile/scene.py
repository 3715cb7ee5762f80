"""Both servers on real loopback TCP, already serving a session, for an attack to try to spoil.

Before every attack a sharer has shared and sent events and a viewer has
read them; afterwards both must carry on and a newcomer from outside must be
served from the start: an attack costs only its own connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import trio

from actors.runtime.limits import ConnectionLimits
from actors.runtime.transport import Link, Mode
from protocol import sharer
from tests.actors.netkit import Client, Servers, event_numbers, joined, running_servers, send_events

from .outside import in_thread, join_and_read
from .rawws import GUARD_S


@dataclass
class Scene:
    servers: Servers
    owner: Client
    created: sharer.SessionInitialized
    watcher: Client
    events: int

    @property
    def session_port(self) -> int:
        return _port(self.servers.sessions.address)

    @property
    def task_port(self) -> int:
        return _port(self.servers.tasks.address)

    @property
    def session_base(self) -> str:
        return self.servers.sessions.address

    def task_route(self, principal: str) -> str:
        """The task server's route with a token the server issued to `principal`."""
        return f"/tasks?token={self.servers.tasks.store.issue_token(principal).reveal()}"

    def open_connections(self, server: str = "session-server") -> int:
        return self.servers.simulation.network.open_connections(server)

    def server_link(self, peer: str, server: str = "session-server") -> Link:
        actor = self.servers.sessions if server == "session-server" else self.servers.tasks
        [link] = [link for link in actor.links.values() if link.peer == peer]
        return link

    async def still_serving(self) -> None:
        """The accepted sharer and viewer carry on, and a newcomer gets every event."""
        await send_events(self.owner, self.events)
        assert await event_numbers(self.watcher, 1) == [self.events]
        self.events += 1
        count = self.events
        assert await in_thread(
            lambda: join_and_read(self.session_base, self.created, count)
        ) == list(range(count))


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


@asynccontextmanager
async def scene(limits: ConnectionLimits | None = None) -> AsyncIterator[Scene]:
    async with running_servers(mode=Mode.TCP, connection_limits=limits) as servers:
        owner, created = await servers.share(lifetime=sharer.Lifetime.LINGERING)
        watcher, _ = await joined(servers, "watcher", created)
        await send_events(owner, 0, 1)
        assert await event_numbers(watcher, 2) == [0, 1]
        yield Scene(servers, owner, created, watcher, 2)


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait, polling, until `condition` holds; the guard only catches a hang."""
    with trio.move_on_after(GUARD_S):
        while not condition():  # noqa: ASYNC110 - sockets and servers have no event to wait on
            await trio.sleep(0.01)
    assert condition(), f"still not so after {GUARD_S} s: {what}"
