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
from scenarios import catalog, coverage, report
from scenarios.diagram import mermaid
from scenarios.faults import parse_faults
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
    listing.add_argument(
        "--behaviours",
        action="store_true",
        help="list the product spec's behaviours 1-49 with the scenarios and tests that "
        "cover each, and those out of the model's reach",
    )
    listing.set_defaults(run=list_command)


def list_command(args: argparse.Namespace) -> int:
    if args.behaviours:
        return behaviours_command()
    scenarios = catalog.load_all()
    rows = [
        (s.path.parent.name + "/" + s.name, ",".join(p.value for p in s.profiles), s.description)
        for s in scenarios
    ]
    print(report.table(("scenario", "profiles", "description"), rows))
    return 0


def behaviours_command() -> int:
    """Exit 1 when a behaviour is neither covered nor declared out of reach."""
    rows = coverage.coverage(catalog.load_all(), coverage.marked_tests(coverage.TESTS))
    print(coverage.render(rows))
    gaps = coverage.uncovered(rows)
    if gaps:
        print(f"not covered: {', '.join(map(str, gaps))}", file=sys.stderr)
        return 1
    return 0


def run_command(args: argparse.Namespace) -> int:
    scenarios = (
        [catalog.load(name) for name in args.scenarios] if args.scenarios else catalog.load_all()
    )
    if args.diagram and len(scenarios) != 1:
        raise UsageError(f"--diagram draws one scenario; {len(scenarios)} were selected")
    profile = Profile(args.profile)
    switches = _switches(profile, args.set)
    mode = Mode(args.transport)
    faults = parse_faults(args.faults)
    results: list[RunResult] = []
    with (
        _open(args.log_json) as log_json,
        _open(args.trace) as trace_file,
        logging_for_run(args.verbose, log_json),
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
            result = run_scenario(
                scenario,
                profile,
                seed=args.seed,
                mode=mode,
                overrides=switches,
                faults=faults,
                trace_sink=trace_file,
            )
            results.append(result)
            if args.diagram and result.trace is not None:
                args.diagram.write_text(
                    mermaid(result.trace, title=f"{scenario.name} ({profile.value})")
                )
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
