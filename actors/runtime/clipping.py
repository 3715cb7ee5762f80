"""One way to shorten text a client chose, wherever a server writes it down.

A client picks message tags, user ids and request targets; a megabyte of
any of them must not become a megabyte line in a log or a trace. Both keep
the start of a long value and say how much was cut.
"""

from __future__ import annotations

#: Characters of one text value that are kept; the rest is counted, not shown.
MAX_VALUE_CHARS = 200


def clip(value: str) -> str:
    """`value`, or its first `MAX_VALUE_CHARS` characters and how many more there were."""
    if len(value) <= MAX_VALUE_CHARS:
        return value
    cut = len(value) - MAX_VALUE_CHARS
    return f"{value[:MAX_VALUE_CHARS]}... ({cut:,} more characters)"
