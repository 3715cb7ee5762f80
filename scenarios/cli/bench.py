"""`sharesim bench`: run benchmarks, print their figures, judge them against the targets."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from benchmarks.catalog import BENCHMARKS, defaults
from benchmarks.harness import BenchResult, Figure
from scenarios import report
from scenarios.cli.interrupt import EXIT_INTERRUPTED, catching_interrupts
from scenarios.cli.run import logging_for_run
from scenarios.usage import UsageError


def register(commands: Any) -> None:
    listing = "\n".join(
        f"  {name:<13} {b.summary}{'' if b.default else ' [by name only]'}"
        for name, b in BENCHMARKS.items()
    )
    parser = commands.add_parser(
        "bench",
        help="run the benchmarks and check their targets",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Run benchmarks (when none is named, every one not marked [by name only]) and\n"
            "print their figures. Each compares the simulation with a baseline run in the\n"
            "same process. Exits 0 when every target is met and 1 when one is missed;\n"
            "with --smoke, targets are not judged and the exit code is 0.\n\n"
            f"benchmarks:\n{listing}"
        ),
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per benchmark, one per line"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes that finish in seconds; figures are printed, targets are not judged",
    )
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        raise UsageError(
            f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}"
        )
    names = args.names or defaults()
    results: list[BenchResult] = []
    with logging_for_run(verbosity=0, json_stream=None), catching_interrupts() as interruption:
        for index, name in enumerate(names, 1):
            print(f"[{index}/{len(names)}] {name} ...", file=sys.stderr, flush=True)
            result = BENCHMARKS[name].run(smoke=args.smoke)
            results.append(result)
            if args.json:
                print(result.to_json(), flush=True)
    if not args.json:
        print(_table(results))
    if interruption.happened:
        where = sys.stderr if args.json else sys.stdout
        print(f"interrupted: {len(results)} of {len(names)} benchmarks finished", file=where)
        return EXIT_INTERRUPTED
    if args.smoke:
        print("smoke sizes: targets not judged", file=sys.stderr)
        return 0
    missed = [check for result in results for check in result.missed]
    for check in missed:
        print(f"target missed: {check.label}", file=sys.stderr)
    return 1 if missed else 0


def _table(results: list[BenchResult]) -> str:
    rows = [
        (result.name, key, _show(value))
        for result in results
        for key, value in result.figures.items()
    ]
    rows += [
        (result.name, "target", ("met: " if check.met else "MISSED: ") + check.label)
        for result in results
        for check in result.checks
    ]
    return report.table(("benchmark", "figure", "value"), rows)


def _show(value: Figure) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_show(item)}" for key, item in value.items())
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, list) else str(value)
