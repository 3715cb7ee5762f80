"""A Mermaid sequence diagram of a run's message trace, to look at a flow instead of logs."""

from __future__ import annotations

import re
from collections.abc import Iterable

from actors.runtime.trace import TraceRecord

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
#: Ids shown on an arrow, in this order, when the message carries them.
_SHOWN_IDS = ("task_id", "source_task_id", "event_no", "viewer_id", "request_id")


def mermaid(records: Iterable[TraceRecord], *, title: str = "") -> str:
    """Participants in order of first appearance, messages in virtual-time order."""
    records = list(records)
    participants: dict[str, str] = {}
    for record in records:
        for name in (record.src, record.dst):
            participants.setdefault(name, f"p{len(participants)}_{_UNSAFE.sub('_', name)}")
    lines = ["sequenceDiagram"]
    if title:
        lines.append(f"    title {title}")
    lines += [f"    participant {alias} as {name}" for name, alias in participants.items()]
    for record in records:
        ids = ", ".join(f"{key}={record.ids[key]}" for key in _SHOWN_IDS if key in record.ids)
        label = f"{record.t:.3f}s {record.type}" + (f" ({ids})" if ids else "")
        arrow = (
            "-x"
            if record.type in ("ConnectionDropped", "ConnectionRefused", "MalformedFrame")
            else "->>"
        )
        lines.append(f"    {participants[record.src]}{arrow}{participants[record.dst]}: {label}")
    return "\n".join(lines) + "\n"
