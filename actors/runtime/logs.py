"""Structured logging: one structlog pipeline, two outputs, virtual time on every line.

Actors bind their context (scenario, seed, actor, role, ids) with structlog's
contextvars; Trio copies the context into each task it spawns, so a helper task
logs with its actor's context. Timestamps come from the Trio clock, never the
wall clock, so two runs of one seed produce identical JSON lines.

Pipeline: merge contextvars -> level -> virtual time -> sequence number ->
decisions kept -> clip long values -> JSON file (every level) -> console
filters (the chosen level, perhaps one actor) -> console lines.

Inside a simulation every line carries `seq`, the sequence number of the
latest trace record, so a log line sorts after that record and before the
next one. Events logged with `decision=True` are the choices an outcome hangs
on (a share stamped without a task id, discovery skipped, a link refused);
the simulation's trace keeps them, so a failed expectation can show the chain
that led to it. Info and up always pass through these steps, whatever the
console shows, so a run keeps the same decisions at every verbosity.

Values can come from clients (an unknown message's tag, a request target), so
long ones are clipped: one line per event whatever a client sent.

A console line leads with virtual time and actor, then the event, then ids,
then the rest. The run's constant context (command, scenario, profile,
overrides, seed) is left out: the command prints it once, not on every line.
Colour is used only when the console is a terminal.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
import trio

from actors.runtime.clipping import clip
from actors.runtime.trace import Trace

EventDict = MutableMapping[str, Any]


def stamp_virtual_time(_logger: object, _method: str, event_dict: EventDict) -> EventDict:
    """Add `t`, seconds of virtual time, when called inside a Trio run."""
    with contextlib.suppress(RuntimeError):
        event_dict.setdefault("t", round(trio.current_time(), 6))
    return event_dict


#: The trace of the simulation the current task belongs to, if any.
_TRACE: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("trace", default=None)


def follow_trace(trace: Trace) -> None:
    """Number this task's log lines (and those of the tasks it starts) after `trace`."""
    _TRACE.set(trace)


def stamp_sequence(_logger: object, _method: str, event_dict: EventDict) -> EventDict:
    """Add `seq`, the sequence number of the latest trace record, inside a simulation."""
    trace = _TRACE.get()
    if trace is not None:
        event_dict.setdefault("seq", trace.position)
    return event_dict


def keep_decisions(_logger: object, _method: str, event_dict: EventDict) -> EventDict:
    """Hand events marked `decision=True` to the simulation's trace."""
    trace = _TRACE.get()
    if trace is not None and event_dict.get("decision") is True:
        trace.note_decision(event_dict)
    return event_dict


def clip_long_values(_logger: object, _method: str, event_dict: EventDict) -> EventDict:
    """Cut every long text value, saying how much was cut (see `actors.runtime.clipping`)."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = clip(value)
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


class ActorFilter:
    """Keeps, for the console, only the events of one actor (`orchestrator/researcher`
    is matched by its full name or by `researcher`)."""

    def __init__(self, actor: str) -> None:
        self._actor = actor

    def __call__(self, _logger: object, _method: str, event_dict: EventDict) -> EventDict:
        actor = str(event_dict.get("actor", ""))
        if actor != self._actor and actor.rsplit("/", 1)[-1] != self._actor:
            raise structlog.DropEvent
        return event_dict


#: Context bound for a whole run; the console leaves it out of every line.
RUN_CONTEXT = frozenset({"command", "scenario", "profile", "overrides", "seed"})
#: Bookkeeping the console leaves out: the files keep it.
_NOT_SHOWN = frozenset({"seq", "decision"})

_LEVEL_COLOURS = {
    "debug": "\x1b[2m",
    "warning": "\x1b[33m",
    "error": "\x1b[31m",
    "critical": "\x1b[31;1m",
}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"
#: Width of the actor column: most actor names fit, longer ones push the line.
ACTOR_WIDTH = 24


class ConsoleLines:
    """`t  actor  [LEVEL] event  ids...  rest...`, one line per event, for people.

    Info is the usual level and goes unmarked; other levels are named (and
    coloured on a terminal). A traceback, if any, follows on its own lines.
    """

    def __init__(self, *, colors: bool) -> None:
        self._colors = colors

    def __call__(self, logger: object, method: str, event_dict: EventDict) -> str:
        fields = structlog.processors.format_exc_info(logger, method, dict(event_dict))
        level = str(fields.pop("level", method))
        event = str(fields.pop("event", ""))
        t = fields.pop("t", None)
        actor = str(fields.pop("actor", "-"))
        if fields.get("role") == actor:
            del fields["role"]
        traceback = fields.pop("exception", None)
        for key in RUN_CONTEXT | _NOT_SHOWN:
            fields.pop(key, None)
        when = f"{t:10.3f}" if isinstance(t, int | float) else " " * 10
        marker = "" if level == "info" else f"{level.upper()} "
        if self._colors:
            colour = _LEVEL_COLOURS.get(level, "")
            event = f"{colour}{marker}{_BOLD}{event}{_RESET}"
        else:
            event = marker + event
        ordered = sorted(fields, key=lambda key: (not _is_id(key), key))
        rest = " ".join(f"{key}={fields[key]!r}" for key in ordered)
        line = f"{when}  {actor:<{ACTOR_WIDTH}} {event}" + (f"  {rest}" if rest else "")
        return line + (f"\n{traceback}" if traceback else "")


def _is_id(key: str) -> bool:
    return key == "id" or key.endswith("_id") or key.endswith("_ids")


def _drop_event(logger: object, method: str, event: EventDict) -> EventDict:
    """The end of a quiet chain: the event reached every sink it should, and no console."""
    raise structlog.DropEvent


def configure_logging(
    *,
    verbosity: int = 0,
    json_stream: TextIO | None = None,
    console: TextIO | None = None,
    actor: str | None = None,
    quiet: bool = False,
) -> None:
    """Configure structlog once for a run.

    `verbosity` 0 shows warnings and errors on the console, 1 adds info, 2 and
    more add debug; `actor` keeps the console to that actor's events.
    `json_stream` receives every event at every level, of every actor.
    `quiet` shows nothing on the console: many seeds' lines, each without its
    seed, would only garble a command that reports seeds itself.
    """
    console_level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    out = console or sys.stderr
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        stamp_virtual_time,
        stamp_sequence,
        keep_decisions,
        clip_long_values,
    ]
    if json_stream is not None:
        processors.append(JsonLinesSink(json_stream))
    processors.append(LevelFilter(console_level))
    if actor is not None:
        processors.append(ActorFilter(actor))
    processors.append(_drop_event if quiet else ConsoleLines(colors=_is_terminal(out)))
    # With no JSON sink, events below the console level (but for info, which
    # may hold decisions) go nowhere: the logger drops them before any
    # processor runs, which keeps quiet runs fast.
    lowest = logging.DEBUG if json_stream is not None else min(console_level, logging.INFO)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(lowest),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


def _is_terminal(stream: TextIO) -> bool:
    """Colour only for a person at a terminal that has not asked for none (NO_COLOR)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ
