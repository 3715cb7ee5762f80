"""What a trace keeps beyond messages: deciding fields, faults, whole frames, decisions."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import structlog
import trio

from actors.runtime.logs import configure_logging
from actors.runtime.simulation import open_simulation
from actors.runtime.trace import FAULT_CHANNEL, CapturedFrame, Trace, deciding_fields
from protocol import UserId, sharer, viewer
from protocol.source import AmbientAgent


@pytest.fixture(autouse=True)
def restore_structlog() -> Iterator[None]:
    try:
        yield
    finally:
        structlog.reset_defaults()


def test_deciding_fields_are_named_even_when_empty() -> None:
    user_share = sharer.Initialize(sharer.InitPayload(UserId("alice")))
    assert deciding_fields(user_share) == {"source_type": "User", "source_task_id": "None"}
    ambient = sharer.Initialize(
        sharer.InitPayload(UserId("a"), source_type=AmbientAgent("t-4"), source_task_id="t-4")
    )
    assert deciding_fields(ambient) == {
        "source_type": "AmbientAgent(t-4)",
        "source_task_id": "t-4",
    }
    joined = viewer.JoinedSuccessfully(viewer_id="viewer-1", source_task_id="t-1")
    assert deciding_fields(joined)["source_task_id"] == "t-1"
    assert deciding_fields(viewer.SourceTaskIdUpdated("t-1")) == {}


def test_faults_are_records_but_not_messages() -> None:
    trace = Trace()
    trace.record(1.0, "viewer", "session-server", "viewer-up", "Initialize")
    trace.fault(2.0, "viewer", "session-server", "PartitionStarted", until="9")
    trace.fault(9.0, "viewer", "session-server", "PartitionEnded")
    assert len(trace) == 3
    assert trace.messages == 1
    assert [(r.type, r.channel, dict(r.ids)) for r in trace.fault_records()] == [
        ("PartitionStarted", FAULT_CHANNEL, {"until": "9"}),
        ("PartitionEnded", FAULT_CHANNEL, {}),
    ]


def test_frames_are_written_whole_and_read_back() -> None:
    trace = Trace()
    trace.frames = io.StringIO()
    text = '{"SourceTaskIdUpdated":{"source_task_id":"t-9"}}'
    trace.record(4.0, "session-server", "viewer", "viewer-down", "SourceTaskIdUpdated", frame=text)
    trace.record(5.0, "session-server", "viewer", "viewer-down", "MalformedFrame", frame="{nope")
    first, second = trace.frames.getvalue().splitlines()
    assert CapturedFrame.from_line(first) == CapturedFrame(
        1,
        4.0,
        "session-server",
        "viewer",
        "viewer-down",
        '{"SourceTaskIdUpdated":{"source_task_id":"t-9"}}',
    )
    malformed = CapturedFrame.from_line(second)
    assert malformed is not None
    assert malformed.text == "{nope"
    assert CapturedFrame.from_line('{"SourceTaskIdUpdated":{"source_task_id":"t-9"}}') is None


async def test_decisions_are_kept_whatever_the_console_shows(
    autojump_clock: trio.abc.Clock,
) -> None:
    configure_logging(verbosity=0, console=io.StringIO())
    log = structlog.get_logger("test")
    async with open_simulation(seed=3) as simulation:
        await trio.sleep(2)
        log.info("no_discovery", decision=True, reason="no orchestrator task id")
        log.info("routine")
        simulation.trace.record(2.0, "a", "b", "tasks", "GetRun")
        log.info("linked", decision=True, task_id="t-1")
    assert [(d["event"], d["seq"], d["t"]) for d in simulation.trace.decisions] == [
        ("no_discovery", 0, 2.0),
        ("linked", 1, 2.0),
    ]
    assert simulation.trace.decisions[0]["reason"] == "no orchestrator task id"
