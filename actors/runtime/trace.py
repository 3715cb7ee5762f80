"""The message trace: every message that crosses the transport boundary.

A record holds virtual time, sender, receiver, channel, message type and the
ids worth following; it never holds wall-clock values or secrets, so the JSON
lines of two runs of one seed can be diffed byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TextIO


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One message seen at the transport boundary (or one transport event)."""

    t: float
    src: str
    dst: str
    channel: str
    type: str
    ids: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "t": round(self.t, 6),
                "from": self.src,
                "to": self.dst,
                "channel": self.channel,
                "type": self.type,
                "ids": dict(sorted(self.ids.items())),
            },
            separators=(",", ":"),
        )


#: The ids of a record that has none; shared, since nothing may change a record.
_NO_IDS: Mapping[str, str] = MappingProxyType({})

_Route = tuple[str, str, str, str]


class Trace:
    """Records kept in delivery order, optionally streamed to a JSON-lines file.

    `observers` are called with each record as it is kept, so checks can run
    at the moment a message is delivered rather than after the run. A trace
    made with `keep=False` keeps nothing, not even its routes: it only streams
    to its sink and observers, so a server that runs for weeks does not grow.

    A busy run delivers millions of frames, so records are kept in columns: the
    time, an index into the distinct (from, to, channel, type) routes, and the
    ids mapping, which the receivers of one fanned-out frame share. A
    `TraceRecord` is only built when someone asks for one.
    """

    def __init__(self, sink: TextIO | None = None, *, keep: bool = True) -> None:
        self._keep = keep
        self._times = array("d")
        self._routes = array("I")
        self._ids: list[Mapping[str, str]] = []
        self._route_list: list[_Route] = []
        self._route_index: dict[_Route, int] = {}
        self._sink = sink
        self.observers: list[Callable[[TraceRecord], None]] = []

    def record(
        self,
        t: float,
        src: str,
        dst: str,
        channel: str,
        kind: str,
        ids: Mapping[str, str] = _NO_IDS,
    ) -> None:
        """Keep one delivery (or transport event, `kind` naming it) and tell sink and observers."""
        if self._keep:
            route = (src, dst, channel, kind)
            index = self._route_index.get(route)
            if index is None:
                index = self._route_index[route] = len(self._route_list)
                self._route_list.append(route)
            self._times.append(t)
            self._routes.append(index)
            self._ids.append(ids)
        if self._sink is None and not self.observers:
            return
        record = TraceRecord(t, src, dst, channel, kind, ids)
        if self._sink is not None:
            self._sink.write(record.to_json() + "\n")
        for observer in self.observers:
            observer(record)

    def __iter__(self) -> Iterator[TraceRecord]:
        routes = self._route_list
        for t, index, ids in zip(self._times, self._routes, self._ids, strict=True):
            yield TraceRecord(t, *routes[index], ids)

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
