"""`sharesim matrix`: the eight topologies under all three profiles, side by side."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from actors.rules.profiles import Profile
from scenarios import catalog, report
from scenarios.cli.interrupt import EXIT_INTERRUPTED, catching_interrupts
from scenarios.cli.options import seed
from scenarios.cli.run import logging_for_run
from scenarios.matrix import TOPOLOGIES, describe
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
    parser.add_argument("--seed", type=seed, default=0, help="seed for every run (default: 0)")
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    with logging_for_run(verbosity=0, json_stream=None):
        return _matrix(args.seed)


def _matrix(seed: int) -> int:
    rows = []
    failed = False
    with catching_interrupts() as interruption:
        for number, name in enumerate(TOPOLOGIES, 1):
            scenario = catalog.load(name)
            cells = []
            for profile in Profile:
                print(
                    f"[{number}/{len(TOPOLOGIES)}] {name} ({profile.value}) ...",
                    file=sys.stderr,
                    flush=True,
                )
                result = run_scenario(scenario, profile, seed=seed)
                failed = failed or not result.passed
                cells.append(_cell(result))
            rows.append((str(number), name.removesuffix(".toml"), *cells))
    print(report.table(("#", "topology", *(p.value for p in Profile)), rows))
    if interruption.happened:
        print(f"interrupted: {len(rows)} of {len(TOPOLOGIES)} rows finished")
        return EXIT_INTERRUPTED
    return 1 if failed else 0


def _cell(result: RunResult) -> str:
    if not result.observations:
        return "no observation" + ("" if result.passed else " (FAIL)")
    latest = max(result.observations, key=lambda key: float(key.rsplit("@", 1)[1]))
    text = describe(result.observations[latest])
    return text if result.passed else f"{text} (FAIL)"
