"""`sharesim matrix`: scenarios by profile, side by side: what the parent or child viewer saw."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scenarios import catalog, report
from scenarios.cli.interrupt import EXIT_INTERRUPTED, catching_interrupts
from scenarios.cli.options import (
    add_run_options,
    add_seed_option,
    designs_from,
    output,
    seed_of,
)
from scenarios.cli.run import logging_for_run
from scenarios.designs import settings_of
from scenarios.html import MatrixCell, MatrixRow, RecordedRun, matrix_page
from scenarios.matrix import TOPOLOGIES, describe
from scenarios.recording import LogCapture
from scenarios.results import to_json as results_json
from scenarios.runner import RunResult, Verdict, run_scenario


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "matrix",
        help="compare what viewers see in the eight topologies under every profile",
        description=(
            "Run scenarios (the eight topologies by default) under legacy, current, "
            "followups and hardened (or the profiles chosen) and print what the parent or "
            "child viewer saw (pill bar, names, child loads), one row per scenario. A cell "
            "marked FAIL broke one of its scenario's expectations."
        ),
    )
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="NAME|PATH",
        help="scenario names or files, one row each (default: the eight topologies)",
    )
    add_run_options(parser, many=True)
    parser.set_defaults(profile="all")
    add_seed_option(parser)
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="write a self-contained HTML page: the matrix, each cell linked to its run",
    )
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    scenarios = [catalog.load(name) for name in args.scenarios or TOPOLOGIES]
    profiles, overrides = designs_from(args)
    rows: list[tuple[str, ...]] = []
    pictures: list[MatrixRow] = []
    failed = False
    capture = LogCapture() if args.report else None
    with (
        output(args.report, "--report") as page,
        logging_for_run(verbosity=0, json_stream=capture),
        catching_interrupts() as interruption,
    ):
        for number, scenario in enumerate(scenarios, 1):
            cells = []
            linked = []
            for profile in profiles:
                print(
                    f"[{number}/{len(scenarios)}] {scenario.name} ({profile.value}) ...",
                    file=sys.stderr,
                    flush=True,
                )
                recording = capture.record() if capture else None
                result = run_scenario(
                    scenario,
                    profile,
                    seed=seed_of(args),
                    settings=overrides,
                    recording=recording,
                )
                failed = failed or result.failed
                cells.append(_cell(result))
                if args.json:
                    print(results_json(result, cell=cells[-1]), flush=True)
                if recording is not None:
                    linked.append(MatrixCell(cells[-1], RecordedRun(result, recording)))
            rows.append((str(number), scenario.name, *cells))
            pictures.append(MatrixRow(number, scenario.name, tuple(linked)))
        if page is not None:
            columns = [p.value for p in profiles]
            page.write(
                matrix_page(
                    pictures,
                    profiles=columns,
                    seed=seed_of(args),
                    overrides=settings_of(overrides),
                )
            )
    if not args.json:
        if overrides:
            print(f"set on every profile: {', '.join(settings_of(overrides))}")
        label = "scenario" if args.scenarios else "topology"
        print(report.table(("#", label, *(p.value for p in profiles)), rows))
        if interruption.happened:
            print(f"interrupted: {len(rows)} of {len(scenarios)} rows finished")
    if interruption.happened:
        return EXIT_INTERRUPTED
    return 1 if failed else 0


def _cell(result: RunResult) -> str:
    mark = _MARKS.get(result.verdict, "")
    if not result.observations:
        return "no observation" + mark
    latest = max(result.observations, key=lambda key: float(key.rsplit("@", 1)[1]))
    return describe(result.observations[latest]) + mark


#: How a cell says its run did not simply pass: broke, or a race this seed cannot judge.
_MARKS = {
    Verdict.FAIL: " (FAIL)",
    Verdict.RACE: " (race: explore it)",
    Verdict.HOLE: " (known hole)",
}
