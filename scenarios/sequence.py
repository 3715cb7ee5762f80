"""A run as a sequence: lifelines, messages, notes and partitions, in the order they happened.

The HTML report and the Mermaid diagram draw the same sequence. Messages come
from the trace; notes come from the log (where a decision was taken, a fault,
a scenario step), each placed after exactly the trace records logged before it;
partitions come from the run's network conditions. The trace's own fault
records are not drawn again as messages.

Repetition is folded: a run of three or more polls between the same two actors
(a request and its reply), of refused connections, or of retry notes becomes
one `Repeat` row that says how many and when, until something else passes
between those actors.
"""

from __future__ import annotations

import enum
import itertools
import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from actors.runtime.conditions import Partition
from actors.runtime.trace import FAULT_CHANNEL, TraceRecord
from scenarios.fault_plan import SERVERS
from scenarios.recording import LogEvent
from scenarios.schema import Scenario

#: Requests a client repeats on a timer; each is folded together with its reply.
POLL_REQUESTS = frozenset({"ListRuns", "GetRun"})
#: Trace events a client repeats while it retries.
RETRY_RECORDS = frozenset({"ConnectionRefused"})
#: Log events a client repeats while it retries.
RETRY_NOTES = frozenset(
    {"view_connect_refused", "fetch_failed", "share_connect_refused", "task_call_retry"}
)
#: Transport events that end a connection badly; drawn as faults.
FAULT_RECORDS = frozenset({"ConnectionDropped", "ConnectionRefused", "MalformedFrame"})
#: Typography for people: the multiplication sign of "ListRuns x 20" and the dash of a range.
TIMES = "\u00d7"
DASH = "\u2013"
#: How many repeats make a `Repeat` row.
MIN_REPEATS = 3
#: Ids that do not decide anything and only make a label longer (the hover shows them).
_QUIET_IDS = frozenset({"request_id", "session_id"})
#: Log fields every line of an actor carries; a note leaves them to the hover.
_CONTEXT = frozenset(
    {
        "scenario",
        "profile",
        "overrides",
        "seed",
        "actor",
        "role",
        "scope",
        "client",
        "location",
        "viewer_id",
        "task_id",
    }
)
#: Bookkeeping every line carries: its place among the trace records, the decision mark.
_BOOKKEEPING = frozenset({"seq", "decision"})
_QUIET_FIELDS = _CONTEXT | _BOOKKEEPING | {"session_id", "link", "links", "address"}
#: A secret inside a logged value (a join route's password, a token), to keep out of pictures.
_SECRET = re.compile(r"\b(pwd|secret|token)=[^&\s)'\"]+")
#: Log events that say nothing about the run's flow.
#: (A partition's end is drawn from the run's conditions, so its log line would repeat it.)
_NOISE = frozenset({"listening", "closing", "closing_all_links", "stopping", "fault_ended"})
#: The runner's debug event for each scenario step.
_STEP_EVENT = "timeline"


class NoteKind(enum.Enum):
    STEP = "step"
    DECISION = "decision"
    FAULT = "fault"
    PROBLEM = "problem"


@dataclass(frozen=True, slots=True)
class Message:
    """One trace record, drawn as an arrow; `index` is its place in the trace."""

    index: int
    record: TraceRecord

    @property
    def t(self) -> float:
        return self.record.t

    @property
    def actors(self) -> tuple[str, ...]:
        return (self.record.src, self.record.dst)

    @property
    def label(self) -> str:
        """The message type and the ids that decide outcomes."""
        ids = ", ".join(
            f"{key}={value}"
            for key, value in sorted(self.record.ids.items())
            if key not in _QUIET_IDS
        )
        return f"{self.record.type} ({ids})" if ids else self.record.type

    @property
    def is_fault(self) -> bool:
        return self.record.type in FAULT_RECORDS


@dataclass(frozen=True, slots=True)
class Note:
    """Something that happened at `t` over one or more lifelines (none: a scenario step)."""

    t: float
    actors: tuple[str, ...]
    text: str
    kind: NoteKind
    #: The log event it was made from, if any, and that event's fields (for the hover).
    event: str = ""
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Repeat:
    """A run of repeated polls, retries or retry notes, folded into one row."""

    actors: tuple[str, ...]
    label: str
    times: tuple[float, ...]
    #: Trace records folded in (a poll is two: request and reply); 0 for notes.
    messages: int

    @property
    def t(self) -> float:
        return self.times[0]

    @property
    def count(self) -> int:
        return len(self.times)

    @property
    def summary(self) -> str:
        """`ListRuns → RunsListed x 20, every 5 s, 25-120 s`, in proper typography."""
        text = f"{self.label} {TIMES} {self.count}"
        gaps = sorted({round(b - a, 1) for a, b in itertools.pairwise(self.times)})
        if gaps and gaps[0] > 0:
            every = f"{gaps[0]:g} s" if len(gaps) == 1 else f"{gaps[0]:g}{DASH}{gaps[-1]:g} s"
            text += f", every {every}"
        first, last = round(self.times[0], 1), round(self.times[-1], 1)
        return f"{text}, {first:g}{DASH}{last:g} s"


Row = Message | Note | Repeat


@dataclass(frozen=True, slots=True)
class Band:
    """A partition: `actor` cut off from `servers` from `start` until `end` (inf: never back)."""

    actor: str
    servers: tuple[str, ...]
    start: float
    end: float

    @property
    def label(self) -> str:
        until = "the end" if math.isinf(self.end) else f"{self.end:g} s"
        return f"partition: {self.actor} cut off from {', '.join(self.servers)} until {until}"


@dataclass(frozen=True, slots=True)
class RunSequence:
    """What the diagrams draw: lifelines left to right, rows top to bottom, partition bands."""

    actors: tuple[str, ...]
    rows: tuple[Row, ...]
    bands: tuple[Band, ...]
    #: Every trace record of the run, drawn or folded.
    messages: int


def lifelines(scenario: Scenario) -> tuple[str, ...]:
    """Agents on the left, the servers in the middle, viewers on the right."""
    orchestrator = scenario.orchestrator.name
    agents = (orchestrator, *(f"{orchestrator}/{child.name}" for child in scenario.children))
    return (*agents, *SERVERS, *(viewer.name for viewer in scenario.viewers))


def build(
    records: Iterable[TraceRecord],
    *,
    events: Sequence[LogEvent] = (),
    partitions: Sequence[Partition] = (),
    order: Sequence[str] = (),
    fold: bool = True,
) -> RunSequence:
    """The sequence of one run; `order` places lifelines, `fold` folds repetition."""
    records = list(records)
    bands = _bands(partitions)
    notes = _notes(events, records, bands)
    rows: list[Row] = []
    taken = iter(notes)
    pending = next(taken, None)
    for index, record in enumerate(records):
        while pending is not None and pending[0] <= index:
            rows.append(pending[1])
            pending = next(taken, None)
        if record.channel != FAULT_CHANNEL:  # faults are drawn as bands and notes already
            rows.append(Message(index, record))
    while pending is not None:
        rows.append(pending[1])
        pending = next(taken, None)
    if fold:
        rows = _fold(rows)
    messages = sum(1 for record in records if record.channel != FAULT_CHANNEL)
    return RunSequence(_order(rows, order), tuple(rows), bands, messages)


# -- notes ---------------------------------------------------------------------------------------


def _notes(
    events: Sequence[LogEvent], records: Sequence[TraceRecord], bands: Sequence[Band]
) -> list[tuple[int, Note]]:
    """Each note with the number of trace records before it, in order."""
    placed: list[tuple[int, float, int, Note]] = []
    times = [record.t for record in records]
    for band in bands:
        placed.append((bisect_left(times, band.start), band.start, len(placed), _band_note(band)))
        if not math.isinf(band.end):
            over = Note(
                band.end,
                (band.actor, *band.servers),
                f"partition over: {band.actor} reaches {', '.join(band.servers)} again",
                NoteKind.FAULT,
            )
            placed.append((bisect_left(times, band.end), band.end, len(placed), over))
    for event in events:
        note = note_of(event)
        if note is not None:
            placed.append((event.position, event.t, len(placed), note))
    placed.sort(key=lambda item: (item[0], item[1], item[2]))
    return [(position, note) for position, _, _, note in placed]


def _band_note(band: Band) -> Note:
    return Note(band.start, (band.actor, *band.servers), band.label, NoteKind.FAULT)


def note_of(event: LogEvent) -> Note | None:
    """The note a log event makes, if it is one worth a place in the sequence.

    Reports travel by mail, so secrets the log holds (a link's join password)
    are blanked out of the note's fields.
    """
    fields = {
        key: _SECRET.sub(r"\1=…", value) if isinstance(value, str) else value
        for key, value in event.fields.items()
        if "secret" not in key and "token" not in key
    }
    if event.event == _STEP_EVENT:
        return Note(event.t, (), str(fields.get("step", "")), NoteKind.STEP, event.event, fields)
    if event.level == "debug" or event.event in _NOISE:
        return None
    actor = fields.get("actor")
    if not isinstance(actor, str):
        return None
    server = fields.get("server")
    actors = (actor, server) if isinstance(server, str) else (actor,)
    if event.event == "fault":
        text = f"fault: {fields.get('kind')} {' ⟷ '.join(actors)}"
        return Note(event.t, actors, text, NoteKind.FAULT, event.event, fields)
    kind = NoteKind.PROBLEM if event.level in ("warning", "error") else NoteKind.DECISION
    return Note(event.t, actors, _text(event.event, fields), kind, event.event, fields)


def _text(event: str, fields: Mapping[str, object]) -> str:
    """`no discovery: no orchestrator task id`, `joined: source_task_id=t-1, ...`."""
    shown = {k: v for k, v in fields.items() if k not in _QUIET_FIELDS}
    parts = [f"{key}={value}" for key, value in shown.items() if key != "reason"]
    if "reason" in shown:
        parts.insert(0, str(shown["reason"]))
    head = event.replace("_", " ")
    return f"{head}: {', '.join(parts)}" if parts else head


def _bands(partitions: Sequence[Partition]) -> tuple[Band, ...]:
    """One band per actor and interval, naming every server it was cut off from."""
    merged: dict[tuple[str, float, float], list[str]] = {}
    for p in partitions:
        merged.setdefault((p.actor, p.start, p.end), []).append(p.server)
    return tuple(
        Band(actor, tuple(servers), start, end)
        for (actor, start, end), servers in sorted(merged.items(), key=lambda item: item[0][1])
    )


# -- folding repetition ----------------------------------------------------------------------------


@dataclass
class _Run:
    """Rows that repeat one thing, while it keeps repeating."""

    actors: tuple[str, ...]
    label: str
    rows: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    messages: int = 0
    replies: set[str] = field(default_factory=set)


def _fold(rows: list[Row]) -> list[Row]:
    open_runs: dict[tuple[str, ...], _Run] = {}
    done: list[_Run] = []
    awaiting: dict[tuple[str, str, str], _Run] = {}  # (client, server, request id) -> run

    def close(scope: set[str]) -> None:
        for key in [k for k, run in open_runs.items() if set(run.actors) <= scope]:
            done.append(open_runs.pop(key))

    for position, row in enumerate(rows):
        if isinstance(row, Message):
            record = row.record
            request_id = record.ids.get("request_id")
            reply_of = (record.dst, record.src, request_id or "")
            if request_id is not None and reply_of in awaiting:
                run = awaiting.pop(reply_of)
                run.rows.append(position)
                run.messages += 1
                run.replies.add(record.type)
                continue
            if record.type in POLL_REQUESTS | RETRY_RECORDS:
                key = (record.src, record.dst, record.type)
                run = open_runs.setdefault(key, _Run((record.src, record.dst), record.type))
                run.rows.append(position)
                run.times.append(record.t)
                run.messages += 1
                if request_id is not None and record.type in POLL_REQUESTS:
                    awaiting[(record.src, record.dst, request_id)] = run
                continue
            close({record.src, record.dst})
        elif isinstance(row, Note) and row.kind is not NoteKind.STEP and row.actors:
            if row.event in RETRY_NOTES:
                label = row.event.replace("_", " ")
                run = open_runs.setdefault(
                    (row.actors[0], row.event), _Run((row.actors[0],), label)
                )
                run.rows.append(position)
                run.times.append(row.t)
                continue
            close({row.actors[0]})
    done += open_runs.values()
    return _replace(rows, [run for run in done if len(run.times) >= MIN_REPEATS])


def _replace(rows: list[Row], runs: list[_Run]) -> list[Row]:
    """Put each run's `Repeat` where its first row was and drop the rest of its rows."""
    first: dict[int, Repeat] = {}
    gone: set[int] = set()
    for run in runs:
        label = run.label
        if run.replies:
            label += " → " + " / ".join(sorted(run.replies))
        first[run.rows[0]] = Repeat(run.actors, label, tuple(run.times), run.messages)
        gone.update(run.rows)
    out: list[Row] = []
    for position, row in enumerate(rows):
        if position in first:
            out.append(first[position])
        elif position not in gone:
            out.append(row)
    return out


def _order(rows: Sequence[Row], order: Sequence[str]) -> tuple[str, ...]:
    """Lifelines of every actor that appears, in `order` first, then by first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        for actor in row.actors:
            seen.setdefault(actor)
    placed = [name for name in order if name in seen]
    return (*placed, *(name for name in seen if name not in placed))
