"""`sharesim matrix`: the eight topologies under all three profiles, side by side."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from actors.rules.profiles import Profile
from scenarios import catalog, report
from scenarios.cli.run import logging_for_run
from scenarios.html import MatrixCell, MatrixRow, RecordedRun, matrix_page
from scenarios.matrix import TOPOLOGIES, describe
from scenarios.recording import LogCapture
from scenarios.runner import RunResult, run_scenario


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "matrix",
        help="compare what viewers see in the eight topologies under every profile",
        description=(
            "Run the eight topology scenarios under legacy, current and followups and print "
            "what the parent or child viewer saw (pill bar, names, child loads), one row per "
            "topology. A cell marked FAIL broke one of its scenario's expectations."
        ),
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for every run (default: 0)")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="write a self-contained HTML page: the matrix, each cell linked to its run",
    )
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    capture = LogCapture() if args.report else None
    with logging_for_run(verbosity=0, json_stream=capture):
        return _matrix(args.seed, args.report, capture)


def _matrix(seed: int, page: Path | None, capture: LogCapture | None) -> int:
    rows = []
    pictures: list[MatrixRow] = []
    failed = False
    for number, name in enumerate(TOPOLOGIES, 1):
        scenario = catalog.load(name)
        cells = []
        linked = []
        for profile in Profile:
            print(
                f"[{number}/{len(TOPOLOGIES)}] {name} ({profile.value}) ...",
                file=sys.stderr,
                flush=True,
            )
            recording = capture.record() if capture else None
            result = run_scenario(scenario, profile, seed=seed, recording=recording)
            failed = failed or not result.passed
            cells.append(_cell(result))
            if recording is not None:
                linked.append(MatrixCell(cells[-1], RecordedRun(result, recording)))
        rows.append((str(number), name.removesuffix(".toml"), *cells))
        pictures.append(MatrixRow(number, name, tuple(linked)))
    print(report.table(("#", "topology", *(p.value for p in Profile)), rows))
    if page is not None:
        profiles = [p.value for p in Profile]
        page.write_text(matrix_page(pictures, profiles=profiles, seed=seed), encoding="utf-8")
    return 1 if failed else 0


def _cell(result: RunResult) -> str:
    if not result.observations:
        return "no observation" + ("" if result.passed else " (FAIL)")
    latest = max(result.observations, key=lambda key: float(key.rsplit("@", 1)[1]))
    text = describe(result.observations[latest])
    return text if result.passed else f"{text} (FAIL)"
