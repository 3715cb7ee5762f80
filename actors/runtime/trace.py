"""The message trace: every message that crosses the transport boundary.

A record holds a sequence number, virtual time, sender, receiver, channel,
message type and the ids worth following, with the fields that decide what a
viewer will show (a sharer's `source_type` and `source_task_id`, a join's
`source_task_id`) even when they are empty. It never holds wall-clock values
or secrets, so the JSON lines of two runs of one seed can be diffed byte for
byte. A long value (a client names an unknown message's type) is clipped in
its JSON line as log values are.

Faults are records too, on the `fault` channel: each drop and each partition's
start and end, naming the actor and the server, so a failure a partition
caused does not read as a protocol bug. Log lines carry the sequence number of
the latest record (see `actors.runtime.logs`), so log and trace interleave
exactly, even at one virtual time. A trace can also write every received frame
whole, in the form `sharesim decode` reads back, and it keeps the decisions
logged during the run, for failure reports.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, TextIO

from actors.runtime.clipping import clip
from protocol import sharer, viewer
from protocol.source import AmbientAgent, SessionSourceType

#: The channel of fault records: a drop, a partition's start or end.
FAULT_CHANNEL = "fault"
#: How a field that decides an outcome shows in the trace when it is empty.
ABSENT = "None"


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One message seen at the transport boundary (or one transport or fault event)."""

    t: float
    src: str
    dst: str
    channel: str
    type: str
    ids: Mapping[str, str] = field(default_factory=dict)
    #: Position in the run, from 1; log lines carry the position of the latest record.
    seq: int = 0

    def to_json(self) -> str:
        """One JSON line; every text value is clipped, since a client chooses many of them."""
        return json.dumps(
            {
                "seq": self.seq,
                "t": round(self.t, 6),
                "from": clip(self.src),
                "to": clip(self.dst),
                "channel": clip(self.channel),
                "type": clip(self.type),
                "ids": {clip(key): clip(value) for key, value in sorted(self.ids.items())},
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True, slots=True)
class CapturedFrame:
    """One line of a frames file: where a frame went, and the frame as it was sent."""

    seq: int
    t: float
    src: str
    dst: str
    channel: str
    text: str

    def to_json(self) -> str:
        """The frame is nested as JSON when it is JSON, else kept as `text`."""
        line: dict[str, object] = {
            "seq": self.seq,
            "t": round(self.t, 6),
            "from": self.src,
            "to": self.dst,
            "channel": self.channel,
        }
        try:
            line["frame"] = json.loads(self.text)
        except ValueError:
            line["text"] = self.text
        return json.dumps(line, separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> CapturedFrame | None:
        """The captured frame a frames-file line holds, or None for anything else."""
        try:
            data = json.loads(line)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("channel"), str):
            return None
        if "frame" in data:
            text = json.dumps(data["frame"], separators=(",", ":"))
        elif isinstance(data.get("text"), str):
            text = data["text"]
        else:
            return None
        return cls(
            int(data.get("seq", 0)),
            float(data.get("t", 0.0)),
            str(data.get("from", "")),
            str(data.get("to", "")),
            data["channel"],
            text,
        )


def deciding_fields(message: object) -> dict[str, str]:
    """The fields of `message` that decide what a viewer shows, named even when empty."""
    if isinstance(message, sharer.Initialize):
        source, task_id = message.payload.source_type, message.payload.source_task_id
    elif isinstance(message, viewer.JoinedSuccessfully):
        source, task_id = message.detailed_source_type, message.source_task_id
    else:
        return {}
    return {"source_type": _source(source), "source_task_id": task_id or ABSENT}


def _source(source: SessionSourceType) -> str:
    if isinstance(source, AmbientAgent):
        return f"AmbientAgent({source.task_id})" if source.task_id else "AmbientAgent"
    return "User"


#: The ids of a record that has none; shared, since nothing may change a record.
_NO_IDS: Mapping[str, str] = MappingProxyType({})

_Route = tuple[str, str, str, str]


class TraceSink(Protocol):
    """Where a trace streams its JSON lines: an open text file, or anything that bounds one."""

    def write(self, text: str, /) -> int: ...


class Trace:
    """Records kept in delivery order, optionally streamed to a JSON-lines file.

    `observers` are called with each record as it is kept, so checks can run
    at the moment a message is delivered rather than after the run. Set
    `frames` to a file to have every received frame written there whole. A
    trace made with `keep=False` keeps nothing, not even its routes or its
    decisions: it only streams to its sinks and observers, so a server that
    runs for weeks does not grow.

    A busy run delivers millions of frames, so records are kept in columns: the
    time, an index into the distinct (from, to, channel, type) routes, and the
    ids mapping, which the receivers of one fanned-out frame share. A
    `TraceRecord` is only built when someone asks for one.
    """

    def __init__(self, sink: TraceSink | None = None, *, keep: bool = True) -> None:
        self._keep = keep
        self._times = array("d")
        self._routes = array("I")
        self._ids: list[Mapping[str, str]] = []
        self._route_list: list[_Route] = []
        self._route_index: dict[_Route, int] = {}
        self._sink = sink
        self._count = 0
        self._faults = 0
        self.observers: list[Callable[[TraceRecord], None]] = []
        self.frames: TextIO | None = None
        #: Log events marked `decision=True`, in order, as flat mappings with `t`,
        #: `seq`, `actor` and `event` (see `actors.runtime.logs`).
        self.decisions: list[dict[str, object]] = []

    def record(
        self,
        t: float,
        src: str,
        dst: str,
        channel: str,
        kind: str,
        ids: Mapping[str, str] = _NO_IDS,
        *,
        frame: str | None = None,
    ) -> None:
        """Keep one delivery (or transport event, `kind` naming it) and tell sink and observers.

        `frame` is the received text, written whole to `frames` when that is set.
        """
        self._count += 1
        if self._keep:
            route = (src, dst, channel, kind)
            index = self._route_index.get(route)
            if index is None:
                index = self._route_index[route] = len(self._route_list)
                self._route_list.append(route)
            self._times.append(t)
            self._routes.append(index)
            self._ids.append(ids)
        if frame is not None and self.frames is not None:
            captured = CapturedFrame(self._count, t, src, dst, channel, frame)
            self.frames.write(captured.to_json() + "\n")
        if self._sink is None and not self.observers:
            return
        record = TraceRecord(t, src, dst, channel, kind, ids, self._count)
        if self._sink is not None:
            self._sink.write(record.to_json() + "\n")
        for observer in self.observers:
            observer(record)

    def fault(self, t: float, actor: str, server: str, kind: str, **details: str) -> None:
        """Record a fault (`Drop`, `PartitionStarted`, `PartitionEnded`) between two parties."""
        self._faults += 1
        self.record(t, actor, server, FAULT_CHANNEL, kind, details or _NO_IDS)

    @property
    def position(self) -> int:
        """The sequence number of the latest record (0 before the first), kept or not."""
        return self._count

    @property
    def messages(self) -> int:
        """Records that are not faults: messages and transport events."""
        return self._count - self._faults

    def note_decision(self, event: Mapping[str, object]) -> None:
        if self._keep:
            self.decisions.append(dict(event))

    def __iter__(self) -> Iterator[TraceRecord]:
        routes = self._route_list
        for seq, (t, index, ids) in enumerate(
            zip(self._times, self._routes, self._ids, strict=True), 1
        ):
            yield TraceRecord(t, *routes[index], ids, seq)

    def __len__(self) -> int:
        return len(self._times)

    def to_jsonl(self) -> str:
        return "".join(record.to_json() + "\n" for record in self)

    def digest(self) -> str:
        """SHA-256 of the JSON lines: one short value to compare two runs by."""
        return hashlib.sha256(self.to_jsonl().encode()).hexdigest()

    def involving(self, names: Iterable[str]) -> list[TraceRecord]:
        """The records sent or received by any of `names`, for failure reports."""
        wanted = set(names)
        return [r for r in self if r.src in wanted or r.dst in wanted]

    def fault_records(self) -> list[TraceRecord]:
        """The fault records, in order."""
        return [r for r in self if r.channel == FAULT_CHANNEL]
