"""Each viewer's pill bar over virtual time, as inline SVG.

One lane for the link the viewer opened (loading, loaded, unavailable) and one
per pill, left to right in virtual time: a child's lane is coloured by its
pane (striped while loading), with its status along the bottom edge, and the
column on the right says how the run ended for it ("loading since 40 s").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scenarios.html.markup import clip, el, esc, num, seconds, void
from scenarios.recording import PillState, Sample

LABEL = 100
CHART = 240
END = 195
LANE = 22
TOP = 8
AXIS = 24
WIDTH = LABEL + CHART + END

_STATUS_WORDS = {
    "in_progress": "in progress",
    "success": "success",
    "error": "error",
    "blocked": "blocked",
    "cancelled": "cancelled",
}


@dataclass(frozen=True, slots=True)
class CheckMark:
    """An expectation checked on this viewer at `t`, and what came of it."""

    t: float
    held: bool
    text: str


@dataclass(frozen=True, slots=True)
class Outage:
    """A stretch of time the viewer was cut off (a partition) or a moment a link dropped."""

    start: float
    end: float
    text: str


@dataclass
class _Lane:
    key: str
    label: str
    kind: str
    segments: list[tuple[float, float, tuple[str | None, ...]]] = field(default_factory=list)

    def extend(self, start: float, end: float, state: tuple[str | None, ...]) -> None:
        if self.segments and self.segments[-1][2] == state and self.segments[-1][1] == start:
            self.segments[-1] = (self.segments[-1][0], end, state)
        else:
            self.segments.append((start, end, state))


def pill_timeline(
    viewer: str,
    caption: str,
    samples: Sequence[Sample],
    end: float,
    checks: Sequence[CheckMark],
    outages: Sequence[Outage] = (),
) -> str:
    """One viewer's figure: caption, lanes, time axis, check marks, outages, final names."""
    lanes = _lanes(samples, end)
    end = max(end, 1e-9)
    height = TOP + LANE * len(lanes) + AXIS + 6
    body = [_grid(end, height)]
    for i, lane in enumerate(lanes):
        body.append(_lane(lane, TOP + LANE * i, end))
    body += [_outage(outage, end, TOP + LANE * len(lanes)) for outage in outages]
    body.append(_axis(end, TOP + LANE * len(lanes)))
    body += [_check(mark, end, TOP + LANE * len(lanes)) for mark in checks]
    body.append(
        void(
            "line",
            {
                "class": "cursor",
                "data-x0": LABEL,
                "data-w": CHART,
                "data-end": f"{end:g}",
                "x1": LABEL,
                "x2": LABEL,
                "y1": 2,
                "y2": num(TOP + LANE * len(lanes) + 4),
            },
        )
    )
    svg = el(
        "svg",
        {
            "class": "pills",
            "width": WIDTH,
            "height": num(height),
            "viewBox": f"0 0 {WIDTH} {num(height)}",
            "role": "img",
            "aria-label": f"{viewer}: pill bar over time",
        },
        *body,
    )
    parts = [el("figcaption", {}, el("b", {}, esc(viewer)), " ", esc(caption)), svg]
    if samples and samples[-1].state.names:
        names = ", ".join(f"{agent} → {label}" for agent, label in samples[-1].state.names)
        parts.append(el("p", {"class": "names"}, esc(f"names in transcripts: {names}")))
    if not samples:
        parts.append(el("p", {"class": "names"}, "this viewer never opened its link"))
    return el("figure", {"class": "viewer", "data-viewer": viewer}, *parts)


def _lanes(samples: Sequence[Sample], end: float) -> list[_Lane]:
    lanes: dict[str, _Lane] = {}
    for i, sample in enumerate(samples):
        start = sample.t
        stop = samples[i + 1].t if i + 1 < len(samples) else end
        state = sample.state
        link = lanes.setdefault("link", _Lane("link", "link", "link"))
        link.extend(start, stop, (state.root, "bar" if state.pill_bar else "no bar"))
        for pill in state.pills:
            lane = _pill_lane(lanes, pill)
            lane.label = pill.label
            lane.extend(start, stop, (pill.label, pill.status, pill.pane))
    return list(lanes.values())


def _pill_lane(lanes: dict[str, _Lane], pill: PillState) -> _Lane:
    if pill.status is None:
        return lanes.setdefault("orchestrator", _Lane("orchestrator", pill.label, "orchestrator"))
    key = pill.task_id or pill.label
    return lanes.setdefault(key, _Lane(key, pill.label, "child"))


def _x(t: float, end: float) -> float:
    return LABEL + CHART * min(max(t / end, 0.0), 1.0)


def _lane(lane: _Lane, y: float, end: float) -> str:
    title = f"{lane.label} ({lane.key})" if lane.kind == "child" else lane.label
    label = el(
        "text",
        {"class": "lane-label", "x": LABEL - 6, "y": num(y + LANE / 2 + 4)},
        esc(clip(lane.label, LABEL - 10, 6.2)),
    )
    segments = [_segment(lane, s, y, end) for s in lane.segments]
    return el(
        "g",
        {"class": f"lane {lane.kind}", "data-lane": lane.label},
        el("title", {}, esc(title)),
        label,
        *segments,
        _outcome(lane, y),
    )


def _segment(
    lane: _Lane, segment: tuple[float, float, tuple[str | None, ...]], y: float, end: float
) -> str:
    start, stop, state = segment
    x1, x2 = _x(start, end), _x(stop, end)
    width = max(x2 - x1, 1.5)
    words = _words(lane, state)
    pane = state[0] if lane.kind == "link" else state[2]
    parts = [
        el("title", {}, esc(f"{lane.label}: {words}\nfrom {seconds(start)} to {seconds(stop)}")),
        void(
            "rect",
            {
                "class": f"state {pane or 'plain'}",
                "x": num(x1),
                "y": num(y + 3),
                "width": num(width),
                "height": LANE - 6,
            },
        ),
    ]
    if lane.kind == "child" and state[1]:
        parts.append(
            void(
                "rect",
                {
                    "class": f"status {state[1]}",
                    "x": num(x1),
                    "y": num(y + LANE - 6),
                    "width": num(width),
                    "height": 3,
                },
            )
        )
    if width > 28:
        parts.append(
            el(
                "text",
                {"class": "seg", "x": num(x1 + 4), "y": num(y + LANE / 2 + 3)},
                esc(clip(words, width - 6, 5.8)),
            )
        )
    return el("g", {"class": "segment", "data-state": words}, *parts)


def _words(lane: _Lane, state: tuple[str | None, ...]) -> str:
    if lane.kind == "link":
        root, bar = state
        return f"{root}" + ("" if bar == "bar" else ", no pill bar")
    if lane.kind == "orchestrator":
        return str(state[0])
    label, status, pane = state
    words = f"{pane} · {_STATUS_WORDS.get(status or '', status)}"
    return words if label == lane.label else f"{words} · shown as {label}"


def _outcome(lane: _Lane, y: float) -> str:
    """How the run ended for this lane, and since when."""
    start, _, state = lane.segments[-1]
    since = start
    for seg_start, _, seg_state in reversed(lane.segments):
        if _pane_of(lane, seg_state) != _pane_of(lane, state):
            break
        since = seg_start
    pane = _pane_of(lane, state)
    if lane.kind == "orchestrator":
        text, css = "shown", "plain"
    else:
        text = f"{pane} since {seconds(since)}"
        if lane.kind == "child" and state[1]:
            text += f" · {_STATUS_WORDS.get(state[1] or '', state[1])}"
        css = pane or "plain"
    return el(
        "text",
        {"class": f"outcome {css}", "x": LABEL + CHART + 8, "y": num(y + LANE / 2 + 4)},
        esc(text),
    )


def _pane_of(lane: _Lane, state: tuple[str | None, ...]) -> str | None:
    return state[0] if lane.kind == "link" else state[2] if lane.kind == "child" else "shown"


def _grid(end: float, height: float) -> str:
    lines = [
        void(
            "line",
            {
                "class": "grid",
                "x1": num(_x(t, end)),
                "x2": num(_x(t, end)),
                "y1": TOP,
                "y2": num(height - AXIS),
            },
        )
        for t in _ticks(end)
    ]
    return el("g", {"class": "grid"}, *lines)


def _axis(end: float, y: float) -> str:
    parts = [
        void(
            "line",
            {"class": "axis", "x1": LABEL, "x2": LABEL + CHART, "y1": num(y + 2), "y2": num(y + 2)},
        )
    ]
    for t in _ticks(end):
        parts.append(
            el("text", {"class": "tick", "x": num(_x(t, end)), "y": num(y + 16)}, esc(seconds(t)))
        )
    return el("g", {"class": "axis"}, *parts)


def _ticks(end: float) -> list[float]:
    """Round times, at most six of them, from 0 to `end`."""
    for step in (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400):
        if end / step <= 5:
            break
    count = int(end // step)
    return [step * i for i in range(count + 1)]


def _outage(outage: Outage, end: float, bottom: float) -> str:
    """A hatched stretch behind the lanes, or a red tick for an instant."""
    x1, x2 = _x(outage.start, end), _x(outage.end, end)
    shape = void(
        "rect",
        {"x": num(x1), "y": 2, "width": num(max(x2 - x1, 2)), "height": num(bottom - 2)},
    )
    return el("g", {"class": "outage"}, el("title", {}, esc(outage.text)), shape)


def _check(mark: CheckMark, end: float, y: float) -> str:
    x = _x(mark.t, end)
    css = "held" if mark.held else "broken"
    return el(
        "g",
        {"class": f"check {css}"},
        el("title", {}, esc(mark.text)),
        void("path", {"d": f"M{num(x)},{num(y + 2)} l-5,-8 h10 z"}),
    )
