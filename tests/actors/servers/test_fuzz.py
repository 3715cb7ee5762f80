"""Fuzzing both servers: whatever other clients send, a live session loses nothing.

Each example keeps one session live with a joined viewer, then opens links on
every route and throws random text, bytes, truncated and mutated frames,
messages meant for another channel and oversized frames at the servers,
while the sharer keeps sending events. The live viewer must see every event,
in order, and both servers must still serve new clients afterwards.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import trio
import trio.testing
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from actors.runtime.transport import DEFAULT_MAX_FRAME_BYTES, LinkClosed
from protocol import (
    AgentExchange,
    CreateRun,
    Execution,
    GetRun,
    ListRuns,
    OrderedTerminalEvent,
    Ping,
    ReconnectToken,
    RunState,
    SessionSecret,
    TaskError,
    TaskErrorKind,
    TransitionRun,
    UpdateAgentTask,
    UserId,
    encode,
    sharer,
    viewer,
)
from protocol.events import PtyBytesRead
from protocol.source import AmbientAgent
from protocol.tasks import GetAgentNames
from tests.actors.netkit import Client, Servers, exchange_event, join_route, running_servers

#: Placeholders a frame or a route may hold, filled in with the live session's values.
SESSION, PWD, VIEWER = "@SESSION@", "@PWD@", "@VIEWER@"

ROUTES = [
    ("session-server", "/sessions/create"),
    ("session-server", f"/sessions/{SESSION}/resume"),
    ("session-server", "/sessions/no-such-session/resume"),
    ("session-server", f"/sessions/join/{SESSION}?pwd={PWD}"),
    ("session-server", f"/sessions/join/{SESSION}?pwd=wrong"),
    ("session-server", f"/sessions/join/{SESSION}?pwd={PWD}&via={SESSION}&as={VIEWER}"),
    ("session-server", "/sessions/join/no-such-session?pwd=x"),
    ("task-server", "/tasks?principal=fuzz"),
]

FUZZ_USER = UserId("fuzz")

TEMPLATES = [
    encode(message)
    for message in (
        sharer.Initialize(
            sharer.InitPayload(
                FUZZ_USER,
                lifetime=sharer.Lifetime.LINGERING,
                source_type=AmbientAgent("t-9"),
                source_task_id="t-9",
            )
        ),
        sharer.Reconnect(
            sharer.ReconnectPayload(
                SessionSecret("not-it"),
                ReconnectToken("not-it"),
                FUZZ_USER,
                session_id=SESSION,
                last_sent_event_no=3,
            )
        ),
        OrderedTerminalEvent(0, AgentExchange("t-9", 0, "hello").to_event()),
        OrderedTerminalEvent(7, PtyBytesRead(b"hi")),
        sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER),
        sharer.UpdateSourceTaskId("t-x"),
        Ping(b"\x00\xff"),
        viewer.Initialize(viewer.ViewerInitPayload(FUZZ_USER)),
        viewer.Initialize(
            viewer.ViewerInitPayload(FUZZ_USER, viewer_id=VIEWER, last_received_event_no=0)
        ),
        viewer.JoinedSuccessfully(VIEWER),
        CreateRun(1, "fuzz", Execution.LOCAL),
        ListRuns(2, "t-1", cursor="0"),
        GetRun(3, "t-1"),
        UpdateAgentTask(4, "t-1", state=RunState.RUNNING, session_id=SESSION),
        TransitionRun(5, "t-1", RunState.CLAIMED),
        GetAgentNames(6, "t-1"),
    )
]

#: Frames that once broke, or could break, a decoder rather than a rule.
NASTY = [
    '{"SomethingNew": 1e400}',
    '{"OrderedTerminalEvent": {"event_no": 1e400, "event_type": "Resize"}}',
    "[" * 5000 + "]" * 5000,
    '{"Ping": {"data": [256]}}',
    '"\\ud800"',
    "",
    "null",
    '{"Initialize": null}',
    '"' + "x" * DEFAULT_MAX_FRAME_BYTES + '"',
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

_DELETE = object()


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _edit(value: Any, path: tuple[str | int, ...], new: object) -> Any:
    """A copy of `value` with the node at `path` replaced by `new`, or removed for _DELETE."""
    if not path:
        return None if new is _DELETE else new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if not rest and new is _DELETE:
            del copy[head]
        else:
            copy[head] = _edit(value[head], rest, new)
        return copy
    items = list(value)
    if not rest and new is _DELETE:
        del items[head]  # type: ignore[arg-type]
    else:
        items[head] = _edit(items[head], rest, new)  # type: ignore[index]
    return items


@st.composite
def mutated_frames(draw: st.DrawFn) -> str:
    """A valid frame with one to three nodes replaced or deleted, or its tag renamed."""
    value = json.loads(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(value))))
        delete = bool(path) and draw(st.booleans())
        new: object = _DELETE if delete else draw(json_values)
        value = _edit(value, path, new)
    return json.dumps(value)


@st.composite
def truncated_frames(draw: st.DrawFn) -> str:
    frame = draw(st.sampled_from(TEMPLATES))
    return frame[: draw(st.integers(0, len(frame) - 1))]


frames = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda data: data.decode("utf-8", errors="replace")),
    truncated_frames(),
    mutated_frames(),
    st.sampled_from(TEMPLATES),  # valid, but mostly on a route that does not expect it
    st.sampled_from(NASTY),
)

attacks = st.lists(st.tuples(st.sampled_from(ROUTES), frames), min_size=1, max_size=6)


async def drain(client: Client, quiet_s: float = 5.0) -> None:
    """Read until the server closes the link or stays silent for `quiet_s`."""
    with trio.move_on_after(quiet_s), contextlib.suppress(LinkClosed):
        while True:
            await client.link.receive()


async def _attack(plan: list[tuple[tuple[str, str], str]]) -> None:
    async with running_servers() as servers:
        owner, created = await servers.share("live-owner")
        watcher, joined = await servers.join("live-watcher", created)
        assert isinstance(joined, viewer.JoinedSuccessfully)
        fill = {SESSION: created.session_id, PWD: created.session_secret.reveal()}
        fill[VIEWER] = joined.viewer_id

        def resolve(text: str) -> str:
            for placeholder, value in fill.items():
                text = text.replace(placeholder, value)
            return text

        for n, ((server, route), frame) in enumerate(plan):
            client = await servers.connect(f"fuzz-{n}", server, resolve(route))
            client.send_raw(resolve(frame))
            await drain(client)
            owner.send(exchange_event(n))
        count = len(plan)
        seen = [(await watcher.expect(OrderedTerminalEvent)).event_no for _ in range(count)]
        assert seen == list(range(count))
        acks = [(await owner.expect(sharer.EventsProcessedAck)) for _ in range(count)]
        assert [a.latest_processed_event_no for a in acks] == list(range(count))
        await assert_still_serving(servers, created)


async def assert_still_serving(servers: Servers, created: sharer.SessionInitialized) -> None:
    late = await servers.connect("late", "session-server", join_route(created))
    late.send(viewer.Initialize(viewer.ViewerInitPayload(UserId("late"))))
    reply = await late.expect(viewer.JoinedSuccessfully)
    assert reply.latest_event_no is not None
    _, fresh = await servers.share("fresh-owner")
    assert fresh.session_id != created.session_id
    tasks = await servers.tasks_client("late")
    tasks.send(GetRun(99, "t-none"))
    assert await tasks.receive() == TaskError(99, TaskErrorKind.NOT_FOUND, "no run t-none")


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(plan=attacks)
# Every nasty frame and every valid frame runs on every run, each on a route picked in turn.
@example(plan=[(ROUTES[n % len(ROUTES)], frame) for n, frame in enumerate(NASTY)])
@example(plan=[(ROUTES[n % len(ROUTES)], frame) for n, frame in enumerate(TEMPLATES)])
def test_no_frame_from_another_client_disturbs_a_live_session(
    plan: list[tuple[tuple[str, str], str]],
) -> None:
    with capture_logs():
        trio.run(_attack, plan, clock=trio.testing.MockClock(autojump_threshold=0))
