"""Structured logging: one structlog pipeline, two outputs, virtual time on every line.

Actors bind their context (scenario, seed, actor, role, ids) with structlog's
contextvars; Trio copies the context into each task it spawns, so a helper task
logs with its actor's context. Timestamps come from the Trio clock, never the
wall clock, so two runs of one seed produce identical JSON lines.

Pipeline: merge contextvars -> level -> virtual time -> clip long values ->
JSON file (every level) -> console filter (the chosen level) -> console renderer.

Values can come from clients (an unknown message's tag, a request target), so
long ones are clipped: one line per event whatever a client sent.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
import trio

EventDict = MutableMapping[str, Any]


def stamp_virtual_time(_logger: object, _method: str, event_dict: EventDict) -> EventDict:
    """Add `t`, seconds of virtual time, when called inside a Trio run."""
    with contextlib.suppress(RuntimeError):
        event_dict.setdefault("t", round(trio.current_time(), 6))
    return event_dict


#: Characters of one logged text value that are kept; the rest is counted, not shown.
MAX_VALUE_CHARS = 200


def clip_long_values(_logger: object, _method: str, event_dict: EventDict) -> EventDict:
    """Cut every text value longer than `MAX_VALUE_CHARS`, saying how much was cut."""
    for key, value in event_dict.items():
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            cut = len(value) - MAX_VALUE_CHARS
            event_dict[key] = f"{value[:MAX_VALUE_CHARS]}... ({cut:,} more characters)"
    return event_dict


class JsonLinesSink:
    """Writes every event as one JSON line and passes it on unchanged.

    A traceback is written as text here but left as `exc_info` for the
    console, which renders it its own way.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, logger: object, method: str, event_dict: EventDict) -> EventDict:
        line = structlog.processors.format_exc_info(logger, method, dict(event_dict))
        self._stream.write(json.dumps(line, sort_keys=True, default=str) + "\n")
        return event_dict


class LevelFilter:
    """Drops events below `level` from the rest of the pipeline (the console).

    It reads the `level` key, not the method name, so `exception` counts as an
    error and `warn` as a warning.
    """

    def __init__(self, level: int) -> None:
        self._level = level

    def __call__(self, _logger: object, method: str, event_dict: EventDict) -> EventDict:
        name = str(event_dict.get("level", method)).upper()
        if logging.getLevelNamesMapping().get(name, logging.INFO) < self._level:
            raise structlog.DropEvent
        return event_dict


def configure_logging(
    *,
    verbosity: int = 0,
    json_stream: TextIO | None = None,
    console: TextIO | None = None,
) -> None:
    """Configure structlog once for a run.

    `verbosity` 0 shows warnings and errors on the console, 1 adds info, 2 and
    more add debug. `json_stream` receives every event at every level.
    """
    console_level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        stamp_virtual_time,
        clip_long_values,
    ]
    if json_stream is not None:
        processors.append(JsonLinesSink(json_stream))
    processors += [
        LevelFilter(console_level),
        # Plain tracebacks whatever is installed: rich's would print every local
        # variable (secrets among them) and differ from machine to machine.
        structlog.dev.ConsoleRenderer(
            colors=False, sort_keys=True, exception_formatter=structlog.dev.plain_traceback
        ),
    ]
    # With no JSON sink, events below the console level go nowhere: the logger
    # drops them before any processor runs, which keeps quiet runs fast.
    lowest = logging.DEBUG if json_stream is not None else console_level
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(lowest),
        logger_factory=structlog.PrintLoggerFactory(console or sys.stderr),
        cache_logger_on_first_use=False,
    )
