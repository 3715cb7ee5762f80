"""Who a connection is in logs and the trace: its address, never a name it gives itself."""

from __future__ import annotations

import structlog

from protocol import Channel, ListRuns, TaskError, decode, encode

from .rawws import TEXT, RawClient, text_frame
from .scene import scene


async def test_an_outside_client_is_its_address_whatever_it_claims() -> None:
    async with scene() as s:
        client = await RawClient.connect(s.task_port)
        address = f"127.0.0.1:{client.stream.socket.getsockname()[1]}"
        with structlog.testing.capture_logs() as logs:
            route = s.task_route("mallory") + "&client=session-server"
            await client.open(route)
            await client.send(text_frame('{"Unheard":{}}'))
            await client.send(text_frame(encode(ListRuns(1, "t-none"))))
            frame = await client.frame()
        assert frame is not None
        assert frame.opcode == TEXT
        assert isinstance(decode(Channel.TASKS, frame.payload.decode()), TaskError)
        link = s.server_link(address, server="task-server")
        assert link.resource == route
        peers = {entry.get("peer") for entry in logs} - {None}
        assert peers == {address}
        received = [r for r in s.servers.simulation.trace if r.dst == "task-server"]
        assert {r.src for r in received} == {address}
        await client.aclose()


async def test_clients_of_the_simulation_keep_their_names_over_tcp() -> None:
    async with scene() as s:
        peers = {link.peer for link in s.servers.sessions.links.values()}
        assert peers == {"sharer", "watcher"}
        sources = {r.src for r in s.servers.simulation.trace if r.dst == "session-server"}
        assert sources == {"sharer", "watcher"}
