"""Turning run results into text people read: tables and failure explanations."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Sequence

from actors.runtime.logs import ConsoleLines
from actors.runtime.trace import TraceRecord
from scenarios.designs import design_name, settings_of
from scenarios.faults import format_faults
from scenarios.results import explore_command, findings_command, pins, reference
from scenarios.runner import Failure, RunResult, Verdict

#: The narrowest a wrapped last column gets, however wide the others are.
MIN_WRAP = 20
#: What the numbers in the result column count.
RESULT_LEGEND = (
    "pass (N): all N expectations checked held; FAIL (N): N expectations, steps or invariants "
    "broke; race: the file says the outcome depends on the interleaving, so explore it; "
    "known hole: the file says this design lacks what it checks"
)


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, width: int | None = None
) -> str:
    """A plain left-aligned text table with a rule under the header.

    With `width`, the last column is wrapped onto continuation lines so that no
    line is wider (as far as the other columns leave room for it).
    """
    if width is not None:
        rows = _wrap_last(headers, rows, width)
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _wrap_last(
    headers: Sequence[str], rows: Sequence[Sequence[str]], width: int
) -> list[Sequence[str]]:
    leading = [
        max(len(str(cell)) for cell in column)
        for column in zip(headers[:-1], *(row[:-1] for row in rows), strict=False)
    ]
    room = max(MIN_WRAP, width - sum(leading) - 2 * len(leading))
    wrapped: list[Sequence[str]] = []
    for row in rows:
        parts = textwrap.wrap(str(row[-1]), room) or [""]
        wrapped.append((*row[:-1], parts[0]))
        wrapped += [("",) * len(leading) + (part,) for part in parts[1:]]
    return wrapped


def summary(results: Sequence[RunResult]) -> str:
    rows = [
        (
            r.scenario.name,
            _design(r),
            _verdict(r),
            f"{r.end_time:g} s",
            str(r.messages),
            str(r.task_requests),
        )
        for r in results
    ]
    headers = ("scenario", "profile", "result", "virtual time", "messages", "task requests")
    return table(headers, rows) + "\n" + RESULT_LEGEND


def _verdict(result: RunResult) -> str:
    verdict = result.verdict
    if verdict is Verdict.FAIL:
        return f"FAIL ({len(result.failures) + len(result.violations)})"
    if verdict is Verdict.PASS:
        return f"pass ({result.checked})"
    return str(verdict.value)


def _design(result: RunResult) -> str:
    """The design's name, marking the file's flips, and any pin the command line replaced."""
    name = design_name(result.profile, result.overrides, pinned=result.pinned)
    if result.overruled:
        name += f" (over the file's {', '.join(settings_of(result.overruled))})"
    return name


def skipped(results: Sequence[RunResult]) -> str:
    """Each step whose actor could not take it when it came, and so did nothing."""
    lines = ["steps that did nothing (their actor could not take them then):"]
    for result in results:
        lines += [
            f"  {result.scenario.name} [{_design(result)}]: {step}" for step in result.skipped
        ]
    return "\n".join(lines)


def races(results: Sequence[RunResult]) -> str:
    """Each run marked as a race, and the command that explores it."""
    lines = ["races (the outcome depends on the interleaving; one seed decides nothing):"]
    for result in results:
        lines.append(f"  {result.scenario.name} [{_design(result)}]: {explore_command(result)}")
    return "\n".join(lines)


def holes(results: Sequence[RunResult]) -> str:
    """Each run that shows a hole the file names, and the command that lists it."""
    lines = ["known holes (the file says this design lacks what it checks):"]
    for result in results:
        lines.append(f"  {result.scenario.name} [{_design(result)}]: {findings_command(result)}")
    return "\n".join(lines)


def failures(result: RunResult) -> str:
    """What was expected, what the viewer showed, and the trace around it."""
    faults = f", faults {format_faults(result.faults)}" if result.faults else ""
    run = f"{result.scenario.name} [{_design(result)}, seed {result.seed}{faults}]"
    blocks = [f"{run} ({result.scenario.path})"]
    if result.race:
        blocks.append(f"  a race under {result.profile.value}: this is one seed's interleaving")
    blocks += [f"  - invariant {violation}" for violation in result.violations]
    blocks += [_failure(failure) for failure in result.failures]
    blocks.append(f"  replay: {replay_command(result)}")
    return "\n".join(blocks)


def replay_command(result: RunResult) -> str:
    """The `sharesim run` line that reproduces this run exactly (in memory).

    It names the command line's `--set` only: the file brings its own pins.
    """
    command = (
        f"sharesim run {reference(result)} --profile {result.profile.value} --seed {result.seed}"
    )
    command += "".join(f" --set {setting}" for setting in settings_of(result.settings))
    return command + (f" --faults {format_faults(result.faults)}" if result.faults else "")


def _failure(failure: Failure) -> str:
    lines = [f"  - {failure.what}"]
    for mismatch in failure.mismatches:
        lines.append(f"      {mismatch.key}: expected {_show(mismatch.expected)}")
        lines.append(f"      {' ' * len(mismatch.key)}  but saw  {_show(mismatch.observed)}")
    if failure.decisions:
        lines.append("      why (the decisions that led here, latest last):")
        lines += [f"      {_DECISION(None, 'info', dict(d))}" for d in failure.decisions]
    if failure.faults:
        lines.append("      faults injected:")
        lines += [f"      {_fault(record)}" for record in failure.faults]
    if failure.trace:
        lines.append("      trace (latest messages of this viewer):")
        lines += [f"        {record.to_json()}" for record in failure.trace]
    return "\n".join(lines)


def shown(result: RunResult) -> str:
    """What every viewer showed when the run ended, written as the expectations that hold.

    Pasted into a scenario file, each block is an expectation of the run's end.
    """
    lines = [
        f"{result.scenario.name} [{_design(result)}, seed {result.seed}]: "
        f"what each viewer showed at {result.end_time:g} s"
    ]
    if result.pinned or result.overruled:
        lines.append(f"# {pins(result)}")
    if result.verdict is Verdict.RACE:
        lines.append(f"# a race under {result.profile.value}: {explore_command(result)}")
    for viewer, values in result.shown.items():
        scope = result.views.get(viewer, {}).get("scope", "?")
        lines += [
            "",
            f"[[expect]]  # {scope} link",
            f"profiles = [{_toml(result.profile.value)}]",
            f"viewer = {_toml(viewer)}",
        ]
        for key, value in values.items():
            if key == "task_requests":
                lines.append(f"max_task_requests = {value}  # all requests of this viewer's user")
            else:
                lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines)


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml(value: object) -> str:
    """A TOML value for what `observed_values` holds: text, flags, numbers, lists, tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        items = [
            f"{key if _BARE_KEY.match(key) else json.dumps(key)} = {_toml(item)}"
            for key, item in value.items()
        ]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    return json.dumps(str(value))


#: Decisions read like console log lines: time, actor, event, ids, the rest.
_DECISION = ConsoleLines(colors=False)


def _fault(record: TraceRecord) -> str:
    """`  12.500  fault  PartitionStarted viewer / task-server until=30`."""
    details = " ".join(f"{key}={value}" for key, value in sorted(record.ids.items()))
    line = f"{record.t:10.3f}  {'fault':<24} {record.type} {record.src} / {record.dst}"
    return line + (f" {details}" if details else "")


def _show(value: object) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
