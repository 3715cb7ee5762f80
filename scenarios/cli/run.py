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

from actors.rules.profiles import Profile
from actors.runtime.logs import configure_logging
from actors.runtime.transport import Mode
from scenarios import catalog, coverage, report
from scenarios.cli.interrupt import EXIT_INTERRUPTED, catching_interrupts
from scenarios.cli.options import (
    add_faults_option,
    add_run_options,
    add_seed_option,
    add_verbosity_option,
    designs_from,
    output,
    seed_of,
)
from scenarios.designs import Design
from scenarios.diagram import run_diagram
from scenarios.fault_plan import FaultPlan, read_plan
from scenarios.faults import (
    actor_names,
    check_plan,
    format_faults,
    kinds_of,
    parse_faults,
    plan_faults,
)
from scenarios.html import RecordedRun, run_page
from scenarios.recording import LogCapture
from scenarios.results import to_json as results_json
from scenarios.runner import RunResult, Verdict, run_scenario
from scenarios.schema import Scenario
from scenarios.usage import UsageError

#: The widest line `sharesim list` prints.
LIST_WIDTH = 100


def register(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run scenarios and check what every viewer saw",
        description=(
            "Run scenarios (all bundled ones by default) under one profile or several and check "
            "every expectation. Prints a summary table and, for each failed expectation, what was "
            "expected, what the viewer showed and the messages around it. Exits 0 only when "
            "every expectation holds."
        ),
    )
    run.add_argument("scenarios", nargs="*", metavar="NAME|PATH", help="scenario names or files")
    run.add_argument("--all", action="store_true", help="run every bundled scenario (the default)")
    add_run_options(run, many=True)
    add_seed_option(
        run,
        extra_help="; naming a seed judges a scenario's races by that one interleaving, "
        "as explore's replay commands do",
    )
    run.add_argument(
        "--transport",
        choices=[m.value for m in Mode],
        default=Mode.MEMORY.value,
        help="in-memory streams under virtual time, or real WebSocket on 127.0.0.1 "
        "(default: memory)",
    )
    add_faults_option(run, default=frozenset())
    run.add_argument(
        "--fault-plan",
        metavar="PLAN|FILE",
        help=(
            "exactly these faults instead of seeded ones: a TOML or JSON file, or inline items "
            "separated by ';': latency:BASE[+exp(MEAN)|+uniform(MAX)], drop@T, drop:ACTOR@T, "
            "drop:ACTOR>SERVER@T, partition:ACTOR>SERVER@START..END, or none (times in virtual "
            "seconds). The seed still picks each frame's delay and which of several matching "
            "connections a drop takes. 'sharesim explore' prints the plan of each failure"
        ),
    )
    run.add_argument(
        "--log-json",
        type=Path,
        metavar="FILE",
        help="write every log event as JSON lines (- for standard output)",
    )
    run.add_argument(
        "--trace",
        type=Path,
        metavar="FILE",
        help="write the message trace as JSON lines (- for standard output)",
    )
    run.add_argument(
        "--frames",
        type=Path,
        metavar="FILE",
        help="write every received frame whole, as JSON lines 'sharesim decode' reads back "
        "(- for standard output)",
    )
    run.add_argument(
        "--diagram",
        type=Path,
        metavar="FILE",
        help="write a Mermaid sequence diagram (one run)",
    )
    run.add_argument(
        "--show",
        action="store_true",
        help="print what every viewer showed at the end of each run, written as "
        "expectations that hold, even when the run passes",
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
            "diagram and each viewer's pill bar over time (one run)"
        ),
    )
    add_verbosity_option(run, levels="more console logging (-v info, -vv debug)")
    run.add_argument(
        "--actor",
        metavar="NAME",
        help="console logging of this actor only (a viewer, an agent, a server); "
        "implies -v; --log-json still gets every actor",
    )
    run.set_defaults(run=run_command)

    listing = commands.add_parser(
        "list",
        help="list the bundled scenarios",
        description="List every bundled scenario, the profiles it has expectations for "
        "(all: legacy, current, followups and hardened) and what it checks.",
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
        (s.path.parent.name + "/" + s.name, _profiles(s.profiles), s.description) for s in scenarios
    ]
    print(report.table(("scenario", "profiles", "description"), rows, width=LIST_WIDTH))
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


def _profiles(profiles: tuple[Profile, ...]) -> str:
    return "all" if set(profiles) == set(Profile) else ",".join(p.value for p in profiles)


def run_command(args: argparse.Namespace) -> int:
    scenarios = (
        [catalog.load(name) for name in args.scenarios] if args.scenarios else catalog.load_all()
    )
    profiles, overrides = designs_from(args)
    runs = [(scenario, profile) for scenario in scenarios for profile in profiles]
    if args.actor is not None:
        _check_actor(args.actor, scenarios)
    if args.diagram and len(runs) != 1:
        raise UsageError(f"--diagram draws one run; {len(runs)} were selected")
    if args.report and len(runs) != 1:
        raise UsageError(f"--report draws one run; {len(runs)} were selected")
    mode = Mode(args.transport)
    faults = parse_faults(args.faults)
    explicit = _explicit_plan(args, scenarios)
    verbosity = max(args.verbose, 1) if args.actor else args.verbose
    results: list[RunResult] = []
    # A picture of a run needs its log too, so the JSON log passes through a capture.
    capture = LogCapture() if args.diagram or args.report else None
    with (
        output(args.log_json, "--log-json") as log_json,
        output(args.trace, "--trace") as trace_file,
        output(args.frames, "--frames") as frames_file,
        output(args.diagram, "--diagram") as diagram_file,
        output(args.report, "--report") as report_file,
        logging_for_run(
            verbosity,
            capture.passing_to(log_json) if capture else log_json,
            actor=args.actor,
        ),
        catching_interrupts() as interruption,
    ):
        if verbosity:
            faults_text = str(explicit) if explicit is not None else format_faults(faults) or "none"
            print(
                f"seed {seed_of(args)}, transport {mode.value}, faults {faults_text}",
                file=sys.stderr,
            )
        for index, (scenario, profile) in enumerate(runs, 1):
            design = Design.of(profile, scenario.pinned(profile), overrides)
            plan = (
                explicit if explicit is not None else plan_faults(faults, seed_of(args), scenario)
            )
            print(
                f"[{index}/{len(runs)}] {scenario.name} ({design.name}) ...",
                file=sys.stderr,
                flush=True,
            )
            header = {
                "run": {
                    "scenario": scenario.name,
                    "profile": profile.value,
                    "overrides": design.overrides,
                    "pinned": design.pinned,
                    "seed": seed_of(args),
                    "faults": format_faults(kinds_of(plan)),
                    "fault_plan": str(plan),
                }
            }
            for stream in (trace_file, frames_file):
                if stream is not None:
                    stream.write(json.dumps(header) + "\n")
            recording = capture.record() if capture else None
            result = run_scenario(
                scenario,
                profile,
                seed=seed_of(args),
                mode=mode,
                settings=overrides,
                fault_plan=plan,
                trace_sink=trace_file,
                frames_sink=frames_file,
                recording=recording,
            )
            result.seed_chosen = args.seed is not None
            results.append(result)
            if args.json:
                print(results_json(result), flush=True)
            if diagram_file is not None and recording is not None:
                diagram_file.write(run_diagram(result, recording, fold=args.hide_polling))
            if report_file is not None and recording is not None:
                report_file.write(run_page(RecordedRun(result, recording)))
    failed = [r for r in results if r.failed]
    if not args.json:
        print(report.summary(results))
        if interruption.happened:
            print(f"interrupted: {len(results)} of {len(runs)} runs finished")
        for result in failed:
            print()
            print(report.failures(result))
        if any(r.skipped for r in results):
            print()
            print(report.skipped(results))
        races = [r for r in results if r.verdict is Verdict.RACE]
        if races:
            print()
            print(report.races(races))
        holes = [r for r in results if r.verdict is Verdict.HOLE]
        if holes:
            print()
            print(report.holes(holes))
        if args.show:
            for result in results:
                print()
                print(report.shown(result))
    if interruption.happened:
        return EXIT_INTERRUPTED
    return 1 if failed else 0


def _explicit_plan(args: argparse.Namespace, scenarios: list[Scenario]) -> FaultPlan | None:
    """The plan `--fault-plan` gives, checked against every selected scenario, if any."""
    if args.fault_plan is None:
        return None
    if args.faults:
        raise UsageError("--faults and --fault-plan both choose the faults; give one")
    plan = read_plan(args.fault_plan)
    for scenario in scenarios:
        check_plan(plan, scenario)
    return plan


def _check_actor(name: str, scenarios: list[Scenario]) -> None:
    """`--actor` must name an actor of some selected scenario: a typo would just hide every line."""
    known = {"session-server", "task-server"}
    for scenario in scenarios:
        known |= set(actor_names(scenario)) | {child.name for child in scenario.children}
    if name not in known:
        raise UsageError(
            f"--actor {name!r} is no actor of these runs; actors: {', '.join(sorted(known))}"
        )


@contextlib.contextmanager
def logging_for_run(
    verbosity: int, json_stream: TextIO | None, *, actor: str | None = None, quiet: bool = False
) -> Iterator[None]:
    """Log for the duration of the runs only, so no sink outlives its file."""
    configure_logging(verbosity=verbosity, json_stream=json_stream, actor=actor, quiet=quiet)
    try:
        yield
    finally:
        structlog.reset_defaults()
