"""The trace keeps records in columns and hands back exactly what was recorded."""

from __future__ import annotations

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
