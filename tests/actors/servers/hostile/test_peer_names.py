"""Who a connection is in logs and the trace: its address, never a name it gives itself."""

from __future__ import annotations

import structlog
from websockets.sync.client import ClientConnection

from protocol import Channel, GetRun, ListRuns, TaskError, UserId, decode, encode, sharer, viewer
from protocol.secrets import ReconnectToken

from .outside import close_code, exchange, in_thread, join_url, open_client
from .rawws import TEXT, RawClient, text_frame
from .scene import Scene, scene


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


#: Log events about one connection that must name it by its address.
ABOUT_A_CONNECTION = (
    "session_created",
    "viewer_joined",
    "wrong_channel",
    "join_refused",
    "reconnect_refused",
    "request_refused",
)


def _address(ws: ClientConnection) -> str:
    host, port = ws.local_address[:2]
    return f"{host}:{port}"


def _misbehave(s: Scene) -> set[str]:
    """From outside: share, join, then what each event above logs; the addresses used."""
    base = s.session_base
    used: set[str] = set()
    with open_client(f"{base}/sessions/create") as owner:
        used.add(_address(owner))
        init = sharer.Initialize(sharer.InitPayload(UserId("session-server")))
        created = exchange(owner, init, Channel.SHARER_DOWN)
        assert isinstance(created, sharer.SessionInitialized), created
        join = viewer.Initialize(viewer.ViewerInitPayload(UserId("task-server")))
        with open_client(join_url(base, created)) as seat:
            used.add(_address(seat))
            assert isinstance(exchange(seat, join, Channel.VIEWER_DOWN), viewer.JoinedSuccessfully)
            seat.send(encode(sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER)))
            assert close_code(seat) == 1008
        wrong = f"{base}/sessions/join/{created.session_id}?pwd=wrong"
        with open_client(wrong) as stranger:
            used.add(_address(stranger))
            assert isinstance(exchange(stranger, join, Channel.VIEWER_DOWN), viewer.FailedToJoin)
        resume = f"{base}/sessions/{created.session_id}/resume"
        with open_client(resume) as thief:
            used.add(_address(thief))
            payload = sharer.ReconnectPayload(
                created.session_secret,
                ReconnectToken("0" * 32),
                UserId("session-server"),
                created.session_id,
            )
            answer = exchange(thief, sharer.Reconnect(payload), Channel.SHARER_DOWN)
            assert isinstance(answer, sharer.FailedToReconnect)
    task_url = f"ws://127.0.0.1:{s.task_port}{s.task_route('mallory')}"
    with open_client(task_url) as tasks:
        used.add(_address(tasks))
        assert isinstance(exchange(tasks, GetRun(1, "t-none"), Channel.TASKS), TaskError)
    return used


async def test_every_line_about_a_connection_names_it_by_its_address() -> None:
    async with scene() as s:
        with structlog.testing.capture_logs() as logs:
            used = await in_thread(lambda: _misbehave(s))
    for event in ABOUT_A_CONNECTION:
        entries = [entry for entry in logs if entry["event"] == event]
        assert entries, f"no {event} logged"
        assert {entry.get("peer") for entry in entries} <= used, (event, entries)
