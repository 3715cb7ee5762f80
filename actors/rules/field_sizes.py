"""How long the strings in a message are, so a server keeps none past its limit.

A frame may be up to 1 MiB, and a server keeps some of what it reads for
hours: a session's owner, a seat's user, a run's title. Without a limit on
each string, every one of those costs up to a megabyte. The check walks the
decoded message, so a field added later is covered without being named.
"""

from __future__ import annotations

import dataclasses
import enum

from protocol.message import tag_of
from protocol.secrets import Secret


def oversized_field(message: object, limit: int) -> tuple[str, int] | None:
    """The first string in `message` longer than `limit`, as (its path, its length).

    The path starts with the message's tag (`Initialize.payload.user_id.anonymous_id`).
    """
    return _walk(message, limit, tag_of(message))


def _walk(value: object, limit: int, path: str) -> tuple[str, int] | None:
    if isinstance(value, Secret):
        value = value.reveal()
    if isinstance(value, str):
        return (path, len(value)) if len(value) > limit else None
    if isinstance(value, enum.Enum | bytes | int | float | None):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        named = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
        return _first(named, limit, path)
    if isinstance(value, tuple | list):
        return _first([(f"[{i}]", item) for i, item in enumerate(value)], limit, path, dot="")
    if isinstance(value, dict):
        keys = [(f"[{i}] key", key) for i, key in enumerate(value)]
        values = [(f"[{key!s:.20}]", item) for key, item in value.items()]
        return _first([*keys, *values], limit, path, dot="")
    return None


def _first(
    named: list[tuple[str, object]], limit: int, path: str, *, dot: str = "."
) -> tuple[str, int] | None:
    for name, item in named:
        found = _walk(item, limit, f"{path}{dot}{name}")
        if found is not None:
            return found
    return None
