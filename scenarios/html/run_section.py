"""One run as a page section: the scenario, each expectation's result, the sequence, the pills."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from scenarios.html.markup import el, esc, seconds
from scenarios.html.pills_svg import CheckMark, Outage, pill_timeline
from scenarios.html.sequence_svg import sequence_figure
from scenarios.recording import Recording
from scenarios.results import explore_command, pins
from scenarios.runner import Failure, RunResult, Verdict
from scenarios.schema import Expectation, Scenario, StepKind
from scenarios.sequence import Message, RunSequence, build, lifelines


@dataclass(frozen=True, slots=True)
class RecordedRun:
    """A run's result and what was recorded of it for the report."""

    result: RunResult
    recording: Recording

    @property
    def anchor(self) -> str:
        name = f"run-{self.result.scenario.name}-{self.result.profile.value}"
        return re.sub(r"[^A-Za-z0-9_-]", "-", name)

    @property
    def verdict(self) -> tuple[str, str]:
        """(css class, words): `pass`, `fail`, `race` or `none`, and e.g. `pass (2)`."""
        result = self.result
        verdict = result.verdict
        if verdict is Verdict.FAIL:
            return "fail", f"FAIL ({len(result.failures) + len(result.violations)})"
        if verdict is Verdict.RACE:
            return "race", "race: explore it"
        if verdict is Verdict.HOLE:
            return "race", "known hole"
        if verdict is Verdict.NO_CHECKS:
            return "none", "no checks"
        return "pass", f"pass ({result.checked})"

    @property
    def command(self) -> str:
        """The command that runs this again."""
        result, recording = self.result, self.recording
        words = ["sharesim run", result.scenario.name, "--profile", result.profile.value]
        words += ["--seed", str(result.seed)]
        if recording.faults:
            words += ["--faults", recording.faults]
        for name, value in result.settings.items():
            words += ["--set", f"{name}={str(value).lower()}"]
        return " ".join(words)


def run_section(run: RecordedRun, *, back: str | None = None) -> str:
    """The section for one run; `back` links to where the page lists its runs."""
    result, scenario = run.result, run.result.scenario
    sequence = _sequence(run)
    css, words = run.verdict
    title = el(
        "h2",
        {},
        el("span", {"class": f"badge {css}"}, esc(words)),
        " ",
        esc(scenario.name),
        " ",
        el("span", {"class": "profile"}, esc(result.profile.value)),
    )
    head = [title, el("p", {"class": "meta"}, esc(_meta(run)))]
    if back:
        head.append(el("p", {"class": "back"}, el("a", {"href": back}, "↑ back to the matrix")))
    return el(
        "section",
        {"class": "run", "id": run.anchor, "data-verdict": css},
        el("header", {}, *head),
        el("p", {"class": "description"}, esc(scenario.description)),
        el(
            "div",
            {"class": "facts"},
            el("section", {"class": "steps"}, el("h3", {}, "Steps"), _steps(scenario, run)),
            el(
                "section",
                {"class": "expectations"},
                el("h3", {}, "Expectations"),
                _expectations(run),
                _problems(run),
            ),
        ),
        el(
            "div",
            {"class": "views"},
            el(
                "section",
                {"class": "sequence"},
                el("h3", {}, "Sequence"),
                _LEGEND,
                sequence_figure(sequence, rerun=run.command),
            ),
            el(
                "aside",
                {"class": "pill-bars"},
                el("h3", {}, "Pill bars over time"),
                *_viewers(run, sequence),
            ),
        ),
    )


def _meta(run: RecordedRun) -> str:
    result, recording = run.result, run.recording
    overrides = ", ".join(f"{k}={str(v).lower()}" for k, v in recording.overrides.items())
    parts = [
        f"seed {result.seed}",
        f"faults {recording.faults or 'none'}",
        f"switches {'set: ' + overrides if overrides else 'as the profile has them'}",
        *([pins(result)] if result.pinned or result.overruled else []),
        *([explore_command(result)] if result.verdict is Verdict.RACE else []),
        f"{seconds(result.end_time)} of virtual time",
        f"{result.messages:,} messages",
        f"{result.task_requests:,} task requests",
    ]
    return " · ".join(parts)


def _sequence(run: RecordedRun) -> RunSequence:
    result, recording = run.result, run.recording
    return build(
        result.trace if result.trace is not None else (),
        events=recording.events(),
        partitions=recording.partitions,
        order=lifelines(result.scenario),
    )


_LEGEND = el(
    "p",
    {"class": "legend"},
    el("span", {"class": "key ch-sharer"}, "sharer link"),
    el("span", {"class": "key ch-viewer"}, "viewer link"),
    el("span", {"class": "key ch-tasks"}, "task server"),
    el("span", {"class": "key fault"}, "drop or refusal"),
    el("span", {"class": "key decision"}, "decision (log)"),
    el("span", {"class": "key repeat"}, "repeated polling, folded"),
    el("span", {"class": "key band"}, "partition"),
    el("span", {"class": "hint"}, "hover any row for its fields"),
)


# -- scenario ----------------------------------------------------------------------------------


def _steps(scenario: Scenario, run: RecordedRun) -> str:
    rows: list[tuple[float, int, str]] = []
    spec = scenario.orchestrator
    rows.append((0.0, 0, f"{spec.name} starts ({spec.location.value})"))
    rows += [
        (
            c.spawn_at,
            1,
            f"spawn {c.name} ({c.location.value})" + (", launch fails" if c.launch_fails else ""),
        )
        for c in scenario.children
    ]
    for step in scenario.steps:
        text = f"{step.kind.value} {step.actor}"
        if step.kind is StepKind.EXCHANGE:
            text += f": “{step.text}”"
            if step.mentions:
                text += f" mentioning {', '.join(step.mentions)}"
        elif step.kind is StepKind.FINISH:
            text += f": {step.outcome.value}"
        rows.append((step.at, 2, text))
    for viewer in scenario.viewers:
        how = f" by {viewer.open_by.value}" if viewer.open_by else ""
        rows.append((viewer.join_at, 3, f"{viewer.name} opens {viewer.opens}'s link{how}"))
    for expectation in scenario.expectations_for(run.result.profile):
        rows.append((_when(scenario, expectation), 4, f"check {expectation.viewer}"))
    body = [
        el("tr", {}, el("td", {"class": "t"}, esc(seconds(t))), el("td", {}, esc(text)))
        for t, _, text in sorted(rows, key=lambda row: (row[0], row[1]))
    ]
    body.append(
        el("tr", {}, el("td", {"class": "t"}, esc(seconds(scenario.duration))), el("td", {}, "end"))
    )
    return el("table", {"class": "steps"}, *body)


def _when(scenario: Scenario, expectation: Expectation) -> float:
    return expectation.at if expectation.at is not None else scenario.duration


# -- expectations --------------------------------------------------------------------------------


def _failure_for(run: RecordedRun, expectation: Expectation) -> Failure | None:
    at = _when(run.result.scenario, expectation)
    for failure in run.result.failures:
        if failure.at != at:
            continue
        if expectation.line and f"(line {expectation.line})" in failure.what:
            return failure
        if failure.what.startswith((f"{expectation.viewer} at ", f"check {expectation.viewer}:")):
            return failure
    return None


def _checked(run: RecordedRun, expectation: Expectation) -> bool:
    at = _when(run.result.scenario, expectation)
    return f"{expectation.viewer}@{at:g}" in run.result.observations


def _expectations(run: RecordedRun) -> str:
    expectations = run.result.scenario.expectations_for(run.result.profile)
    if not expectations:
        return el("p", {}, esc(f"none for the {run.result.profile.value} profile"))
    rows = [
        el(
            "tr",
            {},
            el("th", {}, "viewer"),
            el("th", {}, "at"),
            el("th", {}, "checks"),
            el("th", {}, "result"),
        )
    ]
    for expectation in expectations:
        failure = _failure_for(run, expectation)
        checks = el(
            "ul",
            {},
            *(
                el("li", {}, el("code", {}, esc(f"{key} = {_show(value)}")))
                for key, value in expectation.checks.items()
            ),
        )
        if failure is not None:
            lines = [
                el("li", {}, esc(f"{m.key}: saw {_show(m.observed)}")) for m in failure.mismatches
            ]
            if not failure.mismatches:
                lines.append(el("li", {}, esc(failure.what)))
            result = el("td", {"class": "fail"}, el("b", {}, "✗ broken"), el("ul", {}, *lines))
        elif _checked(run, expectation):
            result = el("td", {"class": "pass"}, "✓ holds")
        else:
            result = el("td", {"class": "none"}, "not checked")
        where = f" (line {expectation.line})" if expectation.line else ""
        rows.append(
            el(
                "tr",
                {},
                el("td", {}, esc(expectation.viewer)),
                el(
                    "td",
                    {"class": "t"},
                    esc(seconds(_when(run.result.scenario, expectation)) + where),
                ),
                el("td", {}, checks),
                result,
            )
        )
    return el("table", {"class": "expectations"}, *rows)


def _problems(run: RecordedRun) -> str:
    """Broken invariants, steps that could not be carried out, and steps whose actor could
    not take them when they came (they did nothing)."""
    expectations = run.result.scenario.expectations_for(run.result.profile)
    matched = {id(f) for e in expectations if (f := _failure_for(run, e)) is not None}
    items = [el("li", {}, esc(f"invariant {violation}")) for violation in run.result.violations]
    items += [
        el("li", {}, esc(f"{failure.what} (at {seconds(failure.at)})"))
        for failure in run.result.failures
        if id(failure) not in matched
    ]
    skipped = [el("li", {}, esc(str(step))) for step in run.result.skipped]
    blocks = []
    if items:
        blocks.append(
            el("div", {"class": "problems"}, el("h4", {}, "Also broken"), el("ul", {}, *items))
        )
    if skipped:
        blocks.append(
            el(
                "div",
                {"class": "skipped"},
                el("h4", {}, "Steps that did nothing"),
                el("ul", {}, *skipped),
            )
        )
    return "".join(blocks)


def _show(value: object) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


# -- viewers ---------------------------------------------------------------------------------------


def _outages(viewer: str, sequence: RunSequence) -> list[Outage]:
    """The viewer's partitions, and each of its links that dropped."""
    outages = [
        Outage(band.start, band.end, band.label) for band in sequence.bands if band.actor == viewer
    ]
    for row in sequence.rows:
        dropped = isinstance(row, Message) and row.record.type == "ConnectionDropped"
        if dropped and viewer in row.actors:
            other = next(actor for actor in row.actors if actor != viewer)
            text = f"link to {other} dropped at {seconds(row.t)}"
            outages.append(Outage(row.t, row.t, text))
    return outages


def _viewers(run: RecordedRun, sequence: RunSequence) -> list[str]:
    result, scenario = run.result, run.result.scenario
    figures = []
    for viewer in scenario.viewers:
        marks = []
        for expectation in scenario.expectations_for(result.profile):
            if expectation.viewer != viewer.name or not _checked(run, expectation):
                continue
            failure = _failure_for(run, expectation)
            at = _when(scenario, expectation)
            if failure is None:
                marks.append(CheckMark(at, True, f"expectation at {seconds(at)} holds"))
            else:
                broken = "; ".join(f"{m.key}: saw {_show(m.observed)}" for m in failure.mismatches)
                marks.append(CheckMark(at, False, f"expectation at {seconds(at)} broken: {broken}"))
        caption = f"opens {viewer.opens}'s link at {seconds(viewer.join_at)}"
        samples = run.recording.samples.get(viewer.name, [])
        outages = _outages(viewer.name, sequence)
        figures.append(
            pill_timeline(viewer.name, caption, samples, result.end_time, marks, outages)
        )
    return figures
