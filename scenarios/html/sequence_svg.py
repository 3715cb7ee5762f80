"""The sequence diagram as inline SVG: one lifeline per actor, one row per message or note.

Rows are evenly spaced rather than placed by time, since many messages share
an instant; the time is written in the left margin wherever it moves on.
Long runs are cut into chapters of `CHAPTER_ROWS` rows, each its own SVG in a
`<details>` element (closed ones cost the browser nothing until opened), and
rows past `MAX_ROWS` are left out with a note saying so, so a run of tens of
thousands of messages still opens at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scenarios.html.markup import clip, el, esc, num, seconds, void
from scenarios.sequence import DASH, Band, Message, Note, NoteKind, Repeat, Row, RunSequence

GUTTER = 56
COLUMN = 144
HEAD = 38
PAD = 6
ROW = 24
CHAPTER_ROWS = 250
MAX_ROWS = 3000
#: The width of a character of 11 px text, near enough to fit labels to their room.
_CHAR = 6.2


def sequence_figure(sequence: RunSequence, *, rerun: str = "") -> str:
    """The diagram of one run: chapters of rows, and a note for rows left out."""
    rows = sequence.rows[:MAX_ROWS]
    chapters = [rows[i : i + CHAPTER_ROWS] for i in range(0, len(rows), CHAPTER_ROWS)] or [()]
    parts = [_heads_svg(sequence.actors)]
    for number, chapter in enumerate(chapters):
        svg = _chapter_svg(sequence, chapter)
        if len(chapters) == 1:
            parts.append(svg)
            continue
        start, end = number * CHAPTER_ROWS + 1, number * CHAPTER_ROWS + len(chapter)
        summary = (
            f"rows {start:,}{DASH}{end:,} · {seconds(chapter[0].t)} to {seconds(chapter[-1].t)}"
        )
        parts.append(
            el(
                "details",
                {"class": "chapter", "open": number == 0},
                el("summary", {}, esc(summary)),
                svg,
            )
        )
    left_out = sequence.rows[MAX_ROWS:]
    if left_out:
        messages = sum(_messages(row) for row in left_out)
        where = f" Write them all with {esc(rerun)} --trace FILE." if rerun else ""
        parts.append(
            el(
                "p",
                {"class": "cap"},
                esc(
                    f"Only the first {MAX_ROWS:,} of {len(sequence.rows):,} rows are drawn "
                    f"(up to {seconds(rows[-1].t)}); {messages:,} more messages, from "
                    f"{seconds(left_out[0].t)} to {seconds(left_out[-1].t)}, are left out."
                )
                + where,
            )
        )
    return el("div", {"class": "sequence-figure"}, *parts)


def _messages(row: Row) -> int:
    if isinstance(row, Message):
        return 1
    if isinstance(row, Repeat):
        return row.messages
    return 0


class _Layout:
    def __init__(self, actors: Sequence[str]) -> None:
        self.index = {name: i for i, name in enumerate(actors)}
        self.width = GUTTER + COLUMN * max(len(actors), 1) + 8

    def x(self, actor: str) -> float:
        return GUTTER + COLUMN * self.index[actor] + COLUMN / 2

    def span(self, actors: Sequence[str]) -> tuple[float, float]:
        xs = [self.x(a) for a in actors if a in self.index]
        if not xs:
            return GUTTER + 4, self.width - 4
        return min(xs), max(xs)

    @staticmethod
    def y(row: int) -> float:
        """The middle of local row `row`."""
        return PAD + ROW * row + ROW / 2


def _heads_svg(actors: Sequence[str]) -> str:
    """The actors' names, in an SVG of their own that stays in view while the rows scroll."""
    layout = _Layout(actors)
    return el(
        "svg",
        {
            "class": "seq heads",
            "width": num(layout.width),
            "height": HEAD,
            "viewBox": f"0 0 {num(layout.width)} {HEAD}",
            "role": "img",
            "aria-label": "actors: " + ", ".join(actors),
        },
        _lifelines(actors, layout, HEAD, top=HEAD - 6, css="stub"),
        _heads(actors, layout),
    )


def _chapter_svg(sequence: RunSequence, rows: Sequence[Row]) -> str:
    layout = _Layout(sequence.actors)
    height = PAD + ROW * len(rows) + 14
    body = [
        _lifelines(sequence.actors, layout, height),
        *(_band(band, rows, layout) for band in sequence.bands),
        _times(rows, layout),
        *(_row(row, i, layout) for i, row in enumerate(rows)),
    ]
    return el(
        "svg",
        {
            "class": "seq",
            "width": num(layout.width),
            "height": num(height),
            "viewBox": f"0 0 {num(layout.width)} {num(height)}",
            "role": "img",
            "aria-label": f"sequence diagram, {len(rows)} rows",
        },
        *body,
    )


def _heads(actors: Sequence[str], layout: _Layout) -> str:
    """A box per actor; a long `host/child` name goes on two lines, the host's small above."""
    heads = []
    for actor in actors:
        x = layout.x(actor)
        host, slash, own = actor.rpartition("/")
        if slash and len(actor) * 7.2 > COLUMN - 20:
            name = el(
                "text",
                {"x": num(x), "y": 15},
                el("tspan", {"class": "host"}, esc(clip(host + slash, COLUMN - 20, 6))),
                el("tspan", {"x": num(x), "dy": 13}, esc(clip(own, COLUMN - 20, 7.2))),
            )
        else:
            name = el("text", {"x": num(x), "y": 22}, esc(clip(actor, COLUMN - 20, 7.2)))
        heads.append(
            el(
                "g",
                {"class": "actor", "data-actor": actor},
                el("title", {}, esc(actor)),
                void(
                    "rect",
                    {
                        "x": num(x - COLUMN / 2 + 6),
                        "y": 2,
                        "width": COLUMN - 12,
                        "height": 30,
                        "rx": 5,
                    },
                ),
                name,
            )
        )
    return el("g", {"class": "heads"}, *heads)


def _lifelines(
    actors: Sequence[str], layout: _Layout, height: float, *, top: float = 0, css: str = "lifeline"
) -> str:
    lines = [
        void(
            "line",
            {
                "class": css,
                "data-actor": actor,
                "x1": num(layout.x(actor)),
                "y1": num(top),
                "x2": num(layout.x(actor)),
                "y2": num(height - 4),
            },
        )
        for actor in actors
    ]
    return el("g", {"class": "lifelines"}, *lines)


def _times(rows: Sequence[Row], layout: _Layout) -> str:
    """The time in the margin wherever it moves on, with a rule across when it does."""
    marks = []
    previous: float | None = None
    for i, row in enumerate(rows):
        if row.t == previous:
            continue
        y = layout.y(i)
        if previous is not None:
            top = y - ROW / 2
            marks.append(
                void(
                    "line",
                    {
                        "class": "tick",
                        "x1": 4,
                        "y1": num(top),
                        "x2": num(layout.width),
                        "y2": num(top),
                    },
                )
            )
        marks.append(
            el("text", {"class": "time", "x": GUTTER - 8, "y": num(y + 4)}, esc(seconds(row.t)))
        )
        previous = row.t
    return el("g", {"class": "times"}, *marks)


def _band(band: Band, rows: Sequence[Row], layout: _Layout) -> str:
    inside = [i for i, row in enumerate(rows) if band.start <= row.t < band.end]
    if not inside:
        return ""
    left, right = layout.span((band.actor, *band.servers))
    top = layout.y(inside[0]) - ROW / 2
    bottom = layout.y(inside[-1]) + ROW / 2
    return el(
        "g",
        {"class": "band"},
        el("title", {}, esc(band.label)),
        void(
            "rect",
            {
                "x": num(left - COLUMN / 2 + 10),
                "y": num(top),
                "width": num(right - left + COLUMN - 20),
                "height": num(bottom - top),
            },
        ),
    )


def _row(row: Row, local: int, layout: _Layout) -> str:
    if isinstance(row, Message):
        return _message(row, local, layout)
    if isinstance(row, Repeat):
        return _repeat(row, local, layout)
    return _note(row, local, layout)


def _message(message: Message, local: int, layout: _Layout) -> str:
    record = message.record
    y = layout.y(local)
    x1, x2 = layout.x(record.src), layout.x(record.dst)
    left, right = min(x1, x2), max(x1, x2)
    hover = "\n".join(
        [
            f"{record.type}  at {record.t:g} s",
            f"{record.src} → {record.dst} ({record.channel})",
            *(f"{key} = {value}" for key, value in sorted(record.ids.items())),
            f"trace line {message.index + 1}",
        ]
    )
    classes = f"msg ch-{record.channel}" + (" fault" if message.is_fault else "")
    label_x: float
    room: float
    if x1 == x2:
        line = void(
            "path",
            {"d": f"M{num(x1)},{num(y - 4)} h30 v10 h-28", "marker-end": "url(#seq-arrow)"},
        )
        label_x, anchor, room = x1 + 36, "start", COLUMN - 40
    else:
        marker = "url(#seq-cross)" if message.is_fault else "url(#seq-arrow)"
        line = void(
            "line",
            {
                "x1": num(x1),
                "y1": num(y + 5),
                "x2": num(x2),
                "y2": num(y + 5),
                "marker-end": marker,
            },
        )
        label_x, anchor, room = (left + right) / 2, "middle", right - left - 8
    return el(
        "g",
        {
            "class": classes,
            "data-t": f"{record.t:g}",
            "data-index": message.index,
            "data-type": record.type,
        },
        el("title", {}, esc(hover)),
        void(
            "rect",
            {
                "class": "hit",
                "x": num(left - 4),
                "y": num(y - ROW / 2),
                "width": num(right - left + 8),
                "height": ROW,
            },
        ),
        line,
        el(
            "text",
            {"x": num(label_x), "y": num(y + 1), "text-anchor": anchor},
            esc(clip(message.label, room, _CHAR)),
        ),
    )


def _repeat(repeat: Repeat, local: int, layout: _Layout) -> str:
    times = ", ".join(f"{t:g}" for t in repeat.times[:60])
    more = f" … ({repeat.count - 60} more)" if repeat.count > 60 else ""
    hover = f"{' ⟷ '.join(repeat.actors)}\n{repeat.summary}\nat {times}{more} s"
    attrs = {
        "class": "repeat",
        "data-t": f"{repeat.t:g}",
        "data-count": repeat.count,
        "data-messages": repeat.messages,
    }
    return _boxed(attrs, hover, "⟳ " + repeat.summary, repeat.actors, local, layout)


def _note(note: Note, local: int, layout: _Layout) -> str:
    y = layout.y(local)
    hover_lines = [f"{note.text}  at {note.t:g} s"]
    hover_lines += [f"{key} = {value}" for key, value in sorted(note.detail.items())]
    attrs = {"class": f"note {note.kind.value}", "data-t": f"{note.t:g}"}
    if note.kind is NoteKind.STEP:
        return el(
            "g",
            attrs,
            el("title", {}, esc("scenario step: " + hover_lines[0])),
            void("line", {"x1": 4, "y1": num(y), "x2": num(layout.width - 4), "y2": num(y)}),
            el("text", {"x": GUTTER + 6, "y": num(y + 4)}, esc("▶ " + note.text)),
        )
    return _boxed(attrs, "\n".join(hover_lines), note.text, note.actors, local, layout)


def _boxed(
    attrs: Mapping[str, object],
    hover: str,
    text: str,
    actors: Sequence[str],
    local: int,
    layout: _Layout,
) -> str:
    """A box over `actors`' lifelines, as wide as its text (within the diagram)."""
    y = layout.y(local)
    left, right = layout.span(actors)
    width = max(min(len(text) * _CHAR + 16, layout.width - GUTTER - 8), right - left + 40)
    middle = (left + right) / 2
    x = min(max(middle - width / 2, GUTTER + 2), layout.width - width - 2)
    return el(
        "g",
        attrs,
        el("title", {}, esc(hover)),
        void(
            "rect",
            {
                "x": num(x),
                "y": num(y - ROW / 2 + 3),
                "width": num(width),
                "height": ROW - 6,
                "rx": 3,
            },
        ),
        el(
            "text",
            {"x": num(x + width / 2), "y": num(y + 4), "text-anchor": "middle"},
            esc(clip(text, width - 10, _CHAR)),
        ),
    )
