"""Whole pages: the document around the sections, its style and its one small script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scenarios.html.markup import el, esc, void
from scenarios.html.run_section import RecordedRun, run_section

#: Markers and fills every SVG on the page refers to by id, written once (ids are per document).
DEFS = el(
    "svg",
    {"class": "defs", "width": 0, "height": 0, "aria-hidden": "true"},
    el(
        "defs",
        {},
        el(
            "marker",
            {
                "id": "seq-arrow",
                "viewBox": "0 0 10 10",
                "refX": 9,
                "refY": 5,
                "markerWidth": 7,
                "markerHeight": 7,
                "orient": "auto-start-reverse",
            },
            void("path", {"d": "M0,0 L10,5 L0,10 z", "fill": "context-stroke"}),
        ),
        el(
            "marker",
            {
                "id": "seq-cross",
                "viewBox": "0 0 10 10",
                "refX": 5,
                "refY": 5,
                "markerWidth": 9,
                "markerHeight": 9,
            },
            void("path", {"d": "M1,1 L9,9 M9,1 L1,9", "stroke": "#c0392b", "stroke-width": 2}),
        ),
        el(
            "pattern",
            {
                "id": "hatch",
                "width": 8,
                "height": 8,
                "patternUnits": "userSpaceOnUse",
                "patternTransform": "rotate(45)",
            },
            void("rect", {"width": 8, "height": 8, "fill": "#fdecea"}),
            void(
                "line", {"x1": 0, "y1": 0, "x2": 0, "y2": 8, "stroke": "#e6a29a", "stroke-width": 3}
            ),
        ),
        el(
            "pattern",
            {
                "id": "stripes",
                "width": 6,
                "height": 6,
                "patternUnits": "userSpaceOnUse",
                "patternTransform": "rotate(45)",
            },
            void("rect", {"width": 6, "height": 6, "fill": "#fbe3a6"}),
            void(
                "line", {"x1": 0, "y1": 0, "x2": 0, "y2": 6, "stroke": "#f0c259", "stroke-width": 2}
            ),
        ),
    ),
)


#: Nothing may be fetched: no fonts, images, scripts or styles from anywhere.
_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

_STYLE = """
:root { --ink: #1d2733; --muted: #5f6b7a; --line: #d5dbe3; --pass: #2e7d4f; --fail: #c0392b;
  --none: #7d8793; --race: #b7791f; --sharer: #2b6cb0; --viewer: #7b4bb7; --tasks: #b7791f; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px 60px; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0; }
h3 { font-size: 15px; margin: 18px 0 8px; }
h4 { font-size: 14px; margin: 12px 0 4px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
a { color: #1f5fa8; }
svg.defs { position: absolute; }
.run { border-top: 3px solid var(--line); padding-top: 16px; margin-top: 28px; }
.run[data-verdict=fail] { border-top-color: var(--fail); }
.run[data-verdict=pass] { border-top-color: var(--pass); }
.run[data-verdict=race] { border-top-color: var(--race); }
.meta, .description, .back { margin: 4px 0; color: var(--muted); }
.description { color: var(--ink); max-width: 90ch; }
.badge { display: inline-block; border-radius: 4px; padding: 1px 8px; color: #fff;
  font-size: 13px; vertical-align: 2px; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.badge.none { background: var(--none); } .badge.race { background: var(--race); }
.profile { color: var(--muted); font-weight: normal; }
.facts { display: grid; grid-template-columns: minmax(260px, 1fr) minmax(320px, 2fr); gap: 24px; }
table { border-collapse: collapse; }
td, th { text-align: left; vertical-align: top; padding: 3px 10px 3px 0;
  border-bottom: 1px solid #eef1f5; }
td.t { white-space: nowrap; color: var(--muted); font-variant-numeric: tabular-nums; }
td ul, .problems ul { margin: 0; padding-left: 18px; }
td.pass { color: var(--pass); } td.fail { color: var(--fail); } td.none { color: var(--none); }
td.race { color: var(--race); }
.problems { color: var(--fail); }
.skipped { color: var(--muted); }
.views { display: grid; grid-template-columns: minmax(0, 1fr) 540px; gap: 24px;
  align-items: start; }
.sequence-figure { overflow: auto; max-height: 88vh; border: 1px solid var(--line);
  border-radius: 6px; }
.sequence-figure > svg { display: block; }
.sequence-figure > svg.heads { position: sticky; top: 0; z-index: 1; background: #fff;
  border-bottom: 1px solid #eef1f5; }
.pill-bars { position: sticky; top: 0; max-height: 100vh; overflow-y: auto; }
@media (max-width: 1500px) { .views, .facts { grid-template-columns: minmax(0, 1fr); }
  .pill-bars { position: static; max-height: none; } }
.legend { display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 12px; color: var(--muted);
  margin: 0 0 8px; }
.legend .key::before { content: ""; display: inline-block; width: 18px; height: 10px;
  margin-right: 5px; vertical-align: -1px; border-radius: 2px; }
.key.ch-sharer::before { background: var(--sharer); height: 3px; vertical-align: 3px; }
.key.ch-viewer::before { background: var(--viewer); height: 3px; vertical-align: 3px; }
.key.ch-tasks::before { background: var(--tasks); height: 3px; vertical-align: 3px; }
.key.fault::before { background: var(--fail); height: 3px; vertical-align: 3px; }
.key.decision::before { background: #fff6d6; border: 1px solid #e0c56e; }
.key.repeat::before { background: #e8f1fb; border: 1px dashed #7aa5d6; }
.key.band::before { background: #fdecea; border: 1px solid #e6a29a; }
.hint { font-style: italic; }
details.chapter > summary { cursor: pointer; padding: 6px 10px; background: #f5f7fa;
  color: var(--muted); }
.cap { margin: 8px 10px; color: var(--fail); }
svg text { font-size: 11px; fill: var(--ink); }
svg.seq .actor rect { fill: #f1f4f8; stroke: #9aa7b6; }
svg.seq .actor text { text-anchor: middle; font-weight: 600; font-size: 12px; }
svg.seq .actor .host { font-size: 10px; font-weight: normal; fill: var(--muted); }
svg.seq .lifeline, svg.seq .stub { stroke: #b4bfcc; stroke-dasharray: 4 4; }
svg.seq .tick { stroke: #eef1f5; }
svg.seq text.time { text-anchor: end; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg.seq .msg line, svg.seq .msg path { stroke: #4a5868; stroke-width: 1.3; fill: none; }
svg.seq .msg.ch-sharer-up line, svg.seq .msg.ch-sharer-down line { stroke: var(--sharer); }
svg.seq .msg.ch-viewer-up line, svg.seq .msg.ch-viewer-down line { stroke: var(--viewer); }
svg.seq .msg.ch-tasks line { stroke: var(--tasks); }
svg.seq .msg.fault line { stroke: var(--fail); stroke-dasharray: 5 3; }
svg.seq .msg.fault text { fill: var(--fail); }
svg.seq .hit { fill: transparent; }
svg.seq g[data-t]:hover .hit, svg.seq g[data-t]:hover > rect { fill-opacity: 1; stroke: #333; }
svg.seq .msg:hover .hit { fill: #fff4c2; }
svg.seq .note rect { fill: #fff6d6; stroke: #e0c56e; }
svg.seq .note.fault rect { fill: #fdecea; stroke: var(--fail); }
svg.seq .note.fault text { fill: var(--fail); }
svg.seq .note.problem rect { fill: #ffe9d6; stroke: #d9822b; }
svg.seq .note.step line { stroke: #7d8793; stroke-dasharray: 1 3; }
svg.seq .note.step text { fill: var(--muted); font-style: italic; }
svg.seq .repeat rect { fill: #e8f1fb; stroke: #7aa5d6; stroke-dasharray: 4 2; }
svg.seq .band rect { fill: url(#hatch); fill-opacity: 0.45; stroke: #e6a29a; }
figure.viewer { margin: 0 0 18px; }
figure.viewer figcaption { margin-bottom: 4px; color: var(--muted); }
figure.viewer figcaption b { color: var(--ink); }
.names { margin: 2px 0 0; font-size: 12px; color: var(--muted); }
svg.pills .lane-label { text-anchor: end; }
svg.pills .state { stroke: #fff; }
svg.pills .state.loading { fill: url(#stripes); }
svg.pills .state.loaded { fill: #bfe3cb; }
svg.pills .state.unavailable { fill: #f3c1ba; }
svg.pills .state.plain { fill: #dfe6ee; }
svg.pills .status.in_progress { fill: #2b6cb0; } svg.pills .status.success { fill: var(--pass); }
svg.pills .status.error { fill: var(--fail); } svg.pills .status.blocked { fill: #d9822b; }
svg.pills .status.cancelled { fill: #7d8793; }
svg.pills text.seg { font-size: 10px; }
svg.pills .outcome { font-size: 11px; }
svg.pills .outcome.loading { fill: #9a6a00; font-weight: 700; }
svg.pills .outcome.unavailable { fill: var(--fail); font-weight: 700; }
svg.pills .outcome.loaded { fill: var(--pass); }
svg.pills line.grid { stroke: #eef1f5; }
svg.pills line.axis { stroke: #9aa7b6; }
svg.pills text.tick { text-anchor: middle; fill: var(--muted); font-size: 10px; }
svg.pills .check.held path { fill: var(--pass); }
svg.pills .check.broken path { fill: var(--fail); }
svg.pills .outage rect { fill: url(#hatch); fill-opacity: 0.5; stroke: #c0392b;
  stroke-width: 0.5; }
svg.pills .cursor { stroke: #d9822b; stroke-width: 1.5; visibility: hidden; }
table.matrix td, table.matrix th { padding: 6px 10px; border: 1px solid var(--line); }
table.matrix td.cell { min-width: 220px; }
table.matrix td.cell a { display: block; color: var(--ink); text-decoration: none; }
table.matrix td.cell a:hover { text-decoration: underline; }
table.matrix td.pass { background: #e3f4e9; } table.matrix td.fail { background: #fbe0dc; }
table.matrix td.race { background: #fbf0d9; }
table.matrix td.none { background: #eef1f5; }
table.matrix td.cell small { display: block; color: var(--muted); }
"""

#: Hovering a row of a sequence moves a cursor to its time on that run's pill bars.
_SCRIPT = """
(function () {
  var last = null;
  document.addEventListener("mouseover", function (event) {
    var row = event.target.closest && event.target.closest("svg.seq [data-t]");
    if (!row || row === last) return;
    last = row;
    var run = row.closest(".run");
    if (!run) return;
    var t = parseFloat(row.getAttribute("data-t"));
    run.querySelectorAll("svg.pills .cursor").forEach(function (cursor) {
      var end = parseFloat(cursor.getAttribute("data-end"));
      var x = parseFloat(cursor.getAttribute("data-x0")) +
        parseFloat(cursor.getAttribute("data-w")) * Math.min(t / end, 1);
      cursor.setAttribute("x1", x);
      cursor.setAttribute("x2", x);
      cursor.style.visibility = "visible";
    });
  });
})();
"""


def document(title: str, *body: str) -> str:
    """A complete, self-contained HTML document."""
    head = el(
        "head",
        {},
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_POLICY)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="sharesim">',
        el("title", {}, esc(title)),
        el("style", {}, _STYLE),
    )
    return (
        "<!doctype html>\n"
        + el("html", {"lang": "en"}, head, el("body", {}, DEFS, *body, el("script", {}, _SCRIPT)))
        + "\n"
    )


def run_page(run: RecordedRun) -> str:
    """The page of one run."""
    result = run.result
    title = f"{result.scenario.name} ({result.profile.value}, seed {result.seed})"
    intro = el(
        "p", {"class": "meta"}, "sharesim run · replay with ", el("code", {}, esc(run.command))
    )
    return document(f"sharesim: {title}", el("h1", {}, esc(title)), intro, run_section(run))


@dataclass(frozen=True, slots=True)
class MatrixCell:
    """One topology under one profile: what its viewer saw, in words, and the run."""

    text: str
    run: RecordedRun


@dataclass(frozen=True, slots=True)
class MatrixRow:
    number: int
    topology: str
    cells: tuple[MatrixCell, ...]


def matrix_page(
    rows: Sequence[MatrixRow],
    *,
    profiles: Sequence[str],
    seed: int,
    overrides: Sequence[str] = (),
) -> str:
    """The matrix with every cell coloured by result and linked to its run, then the runs.

    `overrides` are the `SWITCH=BOOL` settings applied to every profile, named in the header.
    """
    header = el(
        "tr",
        {},
        el("th", {}, "#"),
        el("th", {}, "topology"),
        *(el("th", {}, esc(profile)) for profile in profiles),
    )
    body = [header]
    for row in rows:
        cells = []
        for cell in row.cells:
            css, words = cell.run.verdict
            link = el(
                "a",
                {"href": f"#{cell.run.anchor}"},
                esc(cell.text),
                el("small", {}, esc(words)),
            )
            cells.append(el("td", {"class": f"cell {css}", "data-verdict": css}, link))
        body.append(
            el("tr", {}, el("td", {}, str(row.number)), el("td", {}, esc(row.topology)), *cells)
        )
    table = el("table", {"class": "matrix", "id": "matrix"}, *body)
    runs = [run_section(cell.run, back="#matrix") for row in rows for cell in row.cells]
    intro = el(
        "p",
        {"class": "meta"},
        esc(
            f"seed {seed} · "
            + (f"set on every profile: {', '.join(overrides)} · " if overrides else "")
            + "what the parent or child viewer saw in each topology under each "
            "profile · green: every expectation held, red: one broke · a cell links to its run"
        ),
    )
    return document(
        "sharesim: designs compared", el("h1", {}, "Designs compared"), intro, table, *runs
    )
