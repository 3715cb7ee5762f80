"""The trace keeps records in columns and hands back exactly what was recorded."""

from __future__ import annotations

import io
import tracemalloc

from actors.runtime.trace import Trace, TraceRecord


def test_records_come_back_in_order_with_their_ids() -> None:
    trace = Trace()
    shared = {"event_no": "1"}
    trace.record(1.5, "server", "viewer-1", "viewer-down", "OrderedTerminalEvent", shared)
    trace.record(1.5, "server", "viewer-2", "viewer-down", "OrderedTerminalEvent", shared)
    trace.record(2.0, "viewer-1", "server", "viewer-up", "ConnectionDropped")
    assert len(trace) == 3
    assert list(trace) == [
        TraceRecord(1.5, "server", "viewer-1", "viewer-down", "OrderedTerminalEvent", shared, 1),
        TraceRecord(1.5, "server", "viewer-2", "viewer-down", "OrderedTerminalEvent", shared, 2),
        TraceRecord(2.0, "viewer-1", "server", "viewer-up", "ConnectionDropped", {}, 3),
    ]
    assert [r.dst for r in trace.involving(["viewer-2"])] == ["viewer-2"]


class _LineCounter(io.StringIO):
    """A sink that counts lines and keeps none of them."""

    def __init__(self) -> None:
        super().__init__()
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)


def test_a_trace_that_keeps_nothing_streams_every_record_and_holds_none() -> None:
    sink = _LineCounter()
    seen: list[TraceRecord] = []
    trace = Trace(sink, keep=False)
    trace.observers.append(lambda record: seen.append(record) if len(seen) < 10 else None)

    def record(count: int) -> None:
        for n in range(count):
            # Every peer a distinct address, as outside clients are.
            trace.record(float(n), f"127.0.0.1:{n}", "server", "viewer-up", "Initialize")

    record(100)  # warm up whatever is allocated once
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        record(10_000)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 10_000, f"{grown} bytes held after 10,000 records"
    assert sink.lines == 10_100
    assert len(seen) == 10
    assert len(trace) == 0
    assert list(trace) == []
