"""The message trace: every message that crosses the transport boundary.

A record holds virtual time, sender, receiver, channel, message type and the
ids worth following; it never holds wall-clock values or secrets, so the JSON
lines of two runs of one seed can be diffed byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
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


class Trace:
    """Records kept in delivery order, optionally streamed to a JSON-lines file.

    `observers` are called with each record as it is kept, so checks can run
    at the moment a message is delivered rather than after the run.
    """

    def __init__(self, sink: TextIO | None = None) -> None:
        self._records: list[TraceRecord] = []
        self._sink = sink
        self.observers: list[Callable[[TraceRecord], None]] = []

    def record(self, record: TraceRecord) -> None:
        self._records.append(record)
        if self._sink is not None:
            self._sink.write(record.to_json() + "\n")
        for observer in self.observers:
            observer(record)

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def to_jsonl(self) -> str:
        return "".join(record.to_json() + "\n" for record in self._records)

    def digest(self) -> str:
        """SHA-256 of the JSON lines: one short value to compare two runs by."""
        return hashlib.sha256(self.to_jsonl().encode()).hexdigest()

    def involving(self, names: Iterable[str]) -> list[TraceRecord]:
        """The records sent or received by any of `names`, for failure reports."""
        wanted = set(names)
        return [r for r in self._records if r.src in wanted or r.dst in wanted]
