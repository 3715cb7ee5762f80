"""The message trace: what crosses the transport boundary, streamed and observable."""

from __future__ import annotations

import io
import json

import trio

from actors.runtime.clipping import clip
from actors.runtime.simulation import open_simulation
from actors.runtime.trace import TraceRecord

from .echo import serve_echo


async def test_the_trace_streams_each_delivery_and_tells_its_observers(
    autojump_clock: trio.abc.Clock,
) -> None:
    sink = io.StringIO()
    observed: list[tuple[TraceRecord, float]] = []
    async with open_simulation(trace_sink=sink) as simulation, serve_echo(simulation) as net:
        trace = simulation.trace
        trace.observers.append(lambda record: observed.append((record, trio.current_time())))
        link = await net.connect("client")
        await trio.sleep(3)
        await net.ping(link, b"x")
    assert sink.getvalue() == trace.to_jsonl()
    assert [record for record, _ in observed] == list(trace)
    assert all(record.t == now for record, now in observed), "observers run at delivery"
    assert [json.loads(line) for line in sink.getvalue().splitlines()] == [
        {
            "seq": 1,
            "t": 3.0,
            "from": "client",
            "to": "echo",
            "channel": "sharer-up",
            "type": "Ping",
            "ids": {},
        },
        {
            "seq": 2,
            "t": 3.0,
            "from": "echo",
            "to": "client",
            "channel": "sharer-down",
            "type": "Pong",
            "ids": {},
        },
    ]


def test_a_long_value_is_clipped_in_its_line_as_in_a_log_line() -> None:
    tag = "Z" * 5000
    record = TraceRecord(1.0, "tcp:127.0.0.1:9", "session-server", "sharer_up", tag, {"id": tag})
    line = json.loads(record.to_json())
    assert line["type"] == line["ids"]["id"] == clip(tag)
    assert line["type"] == "Z" * 200 + "... (4,800 more characters)"
