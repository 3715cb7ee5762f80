"""A Mermaid sequence diagram of a run, to look at a flow instead of logs.

It draws the same sequence as the HTML report (`scenarios.sequence`): the
messages, the notes where decisions were taken and faults struck, partitions
from start to end, and, if asked, repeated polls and retries folded into one
note each.
"""

from __future__ import annotations

import re

from scenarios.recording import Recording
from scenarios.runner import RunResult
from scenarios.sequence import Message, Note, NoteKind, Repeat, RunSequence, build, lifelines

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
#: Characters Mermaid reads as syntax inside a label, written as its entity codes.
_SYNTAX = re.compile(r"[#;]")


def run_diagram(result: RunResult, recording: Recording, *, fold: bool = False) -> str:
    """The diagram of one recorded run, titled with what it takes to run it again."""
    sequence = build(
        result.trace if result.trace is not None else (),
        events=recording.events(),
        partitions=recording.partitions,
        order=lifelines(result.scenario),
        fold=fold,
    )
    title = f"{result.scenario.name} ({result.profile.value}), seed {result.seed}"
    if recording.faults:
        title += f", faults {recording.faults}"
    if recording.overrides:
        title += ", set " + " ".join(
            f"{name}={str(value).lower()}" for name, value in recording.overrides.items()
        )
    return mermaid(sequence, title=title)


def mermaid(sequence: RunSequence, *, title: str = "") -> str:
    """Participants left to right as the report draws them, rows in the order they happened."""
    alias = {name: f"p{i}_{_UNSAFE.sub('_', name)}" for i, name in enumerate(sequence.actors)}
    lines = ["sequenceDiagram"]
    if title:
        lines.append(f"    title {_label(title)}")
    lines += [f"    participant {alias[name]} as {name}" for name in sequence.actors]
    everyone = _over(sequence.actors, alias)
    for row in sequence.rows:
        if isinstance(row, Message):
            record = row.record
            arrow = "-x" if row.is_fault else "->>"
            label = _label(f"{record.t:.3f}s {row.label}")
            lines.append(f"    {alias[record.src]}{arrow}{alias[record.dst]}: {label}")
        elif isinstance(row, Repeat):
            text = _label(f"{row.t:.3f}s ⟳ {row.summary}")
            lines.append(f"    Note over {_over(row.actors, alias)}: {text}")
        elif row.kind is NoteKind.STEP:
            if everyone:
                lines.append(f"    Note over {everyone}: {_label(f'{row.t:.3f}s ▶ {row.text}')}")
        else:
            lines.append(f"    Note over {_over(row.actors, alias)}: {_note(row)}")
    return "\n".join(lines) + "\n"


def _note(note: Note) -> str:
    mark = "⚡ " if note.kind is NoteKind.FAULT else ""
    return _label(f"{mark}{note.text}")


def _over(actors: tuple[str, ...], alias: dict[str, str]) -> str:
    """`Note over` spans from the leftmost to the rightmost of `actors`."""
    order = list(alias)
    placed = sorted((order.index(a) for a in actors if a in alias), key=int)
    if not placed:
        return ""
    first, last = alias[order[placed[0]]], alias[order[placed[-1]]]
    return first if first == last else f"{first},{last}"


def _label(text: str) -> str:
    return _SYNTAX.sub(lambda match: f"#{ord(match.group())};", text)
