"""`sharesim run` and `sharesim list`: the main job, and what it can run."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import structlog

from actors.rules.profiles import Profile, SwitchError, Switches
from actors.runtime.logs import configure_logging
from actors.runtime.transport import Mode
from scenarios import catalog, report
from scenarios.diagram import run_diagram
from scenarios.faults import parse_faults
from scenarios.html import RecordedRun, run_page
from scenarios.recording import LogCapture
from scenarios.runner import RunResult, run_scenario
from scenarios.usage import UsageError


def register(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run scenarios and check what every viewer saw",
        description=(
            "Run scenarios (all bundled ones by default) under one profile and check every "
            "expectation. Prints a summary table and, for each failed expectation, what was "
            "expected, what the viewer showed and the messages around it. Exits 0 only when "
            "every expectation holds."
        ),
    )
    run.add_argument("scenarios", nargs="*", metavar="NAME|PATH", help="scenario names or files")
    run.add_argument("--all", action="store_true", help="run every bundled scenario (the default)")
    run.add_argument(
        "--profile",
        choices=[p.value for p in Profile],
        default=Profile.CURRENT.value,
        help="before the change, as merged, or with the follow-ups (default: current)",
    )
    run.add_argument(
        "--set", action="append", default=[], metavar="SWITCH=BOOL", help="override one switch"
    )
    run.add_argument(
        "--seed", type=int, default=0, help="the seed every random choice derives from (default: 0)"
    )
    run.add_argument("--transport", choices=[m.value for m in Mode], default=Mode.MEMORY.value)
    run.add_argument(
        "--faults",
        default="",
        metavar="KINDS",
        help="seeded faults from latency, drop, partition (comma-separated), as explore uses them",
    )
    run.add_argument(
        "--log-json", type=Path, metavar="FILE", help="write every log event as JSON lines"
    )
    run.add_argument(
        "--trace", type=Path, metavar="FILE", help="write the message trace as JSON lines"
    )
    run.add_argument(
        "--diagram",
        type=Path,
        metavar="FILE",
        help="write a Mermaid sequence diagram (one scenario)",
    )
    run.add_argument(
        "--hide-polling",
        action="store_true",
        help="in --diagram, fold each run of repeated polls or retries into one note",
    )
    run.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help=(
            "write a self-contained HTML page of the run: scenario, expectations, sequence "
            "diagram and each viewer's pill bar over time (one scenario)"
        ),
    )
    run.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more console logging (-v info, -vv debug)",
    )
    run.set_defaults(run=run_command)

    listing = commands.add_parser(
        "list", help="list the bundled scenarios", description="List every scenario."
    )
    listing.set_defaults(run=list_command)


def list_command(args: argparse.Namespace) -> int:
    scenarios = catalog.load_all()
    rows = [
        (s.path.parent.name + "/" + s.name, ",".join(p.value for p in s.profiles), s.description)
        for s in scenarios
    ]
    print(report.table(("scenario", "profiles", "description"), rows))
    return 0


def run_command(args: argparse.Namespace) -> int:
    scenarios = (
        [catalog.load(name) for name in args.scenarios] if args.scenarios else catalog.load_all()
    )
    if args.diagram and len(scenarios) != 1:
        raise UsageError(f"--diagram draws one scenario; {len(scenarios)} were selected")
    if args.report and len(scenarios) != 1:
        raise UsageError(f"--report draws one scenario; {len(scenarios)} were selected")
    profile = Profile(args.profile)
    switches = _switches(profile, args.set)
    mode = Mode(args.transport)
    faults = parse_faults(args.faults)
    results: list[RunResult] = []
    # A picture of a run needs its log too, so the JSON log passes through a capture.
    capture = LogCapture() if args.diagram or args.report else None
    with (
        _open(args.log_json) as log_json,
        _open(args.trace) as trace_file,
        _open(args.report) as report_file,
        logging_for_run(args.verbose, capture.passing_to(log_json) if capture else log_json),
    ):
        for index, scenario in enumerate(scenarios, 1):
            print(
                f"[{index}/{len(scenarios)}] {scenario.name} ({profile.value}) ...",
                file=sys.stderr,
                flush=True,
            )
            if trace_file is not None and len(scenarios) > 1:
                header = {
                    "run": {"scenario": scenario.name, "profile": profile.value, "seed": args.seed}
                }
                trace_file.write(json.dumps(header) + "\n")
            recording = capture.record() if capture else None
            result = run_scenario(
                scenario,
                profile,
                seed=args.seed,
                mode=mode,
                overrides=switches,
                faults=faults,
                trace_sink=trace_file,
                recording=recording,
            )
            results.append(result)
            if args.diagram and recording is not None:
                args.diagram.write_text(run_diagram(result, recording, fold=args.hide_polling))
            if report_file is not None and recording is not None:
                report_file.write(run_page(RecordedRun(result, recording)))
    print(report.summary(results))
    failed = [r for r in results if not r.passed]
    for result in failed:
        print()
        print(report.failures(result))
    return 1 if failed else 0


def _switches(profile: Profile, settings: list[str]) -> Switches:
    overrides: dict[str, object] = {}
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or value.lower() not in ("true", "false"):
            raise UsageError(f"--set expects SWITCH=true or SWITCH=false, got {setting!r}")
        overrides[name.strip()] = value.lower() == "true"
    try:
        return profile.switches().with_overrides(overrides)
    except SwitchError as error:
        raise UsageError(str(error)) from None


@contextlib.contextmanager
def logging_for_run(verbosity: int, json_stream: TextIO | None) -> Iterator[None]:
    """Log for the duration of the runs only, so no sink outlives its file."""
    configure_logging(verbosity=verbosity, json_stream=json_stream)
    try:
        yield
    finally:
        structlog.reset_defaults()


@contextlib.contextmanager
def _open(path: Path | None) -> Iterator[TextIO | None]:
    if path is None:
        yield None
        return
    with path.open("w", encoding="utf-8") as stream:
        yield stream
