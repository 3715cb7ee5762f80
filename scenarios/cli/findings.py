"""`sharesim findings`: explore scenarios under profiles and report each distinct hole."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from scenarios import catalog
from scenarios.cli.interrupt import EXIT_INTERRUPTED, catching_interrupts
from scenarios.cli.options import (
    add_executor_options,
    add_faults_option,
    executor_from,
    seed,
)
from scenarios.cli.run import logging_for_run
from scenarios.cli.shrinking import add_shrink_option
from scenarios.designs import ALL_PROFILES, parse_profiles
from scenarios.explore import explore_outcomes
from scenarios.faults import FaultKind, parse_faults
from scenarios.findings import HARDENED, Findings, switches_added
from scenarios.findings_report import Campaign, markdown, to_json
from scenarios.schema import Scenario
from scenarios.usage import UsageError

#: Seeds per scenario and profile unless told otherwise.
DEFAULT_SEEDS = 50


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "findings",
        help="explore every scenario under each profile and report each distinct hole",
        description=(
            "Explore every bundled scenario (or those named) under each profile with faults, "
            "group the failing seeds by what they broke first (invariant and actor, "
            "expectation and viewer, or step, in one scenario) and report each distinct hole "
            "once: the profiles it affects, how many seeds hit it, its first failure shrunk to "
            "a minimal fault plan, the command that replays that plan, and the switches that "
            f"close it (each switch the '{HARDENED}' profile sets apart from followups, turned "
            "on alone in the shrunk case; 'none known' while there is none). Markdown on "
            "standard output, or one JSON object with --json; progress on stderr. Exit codes: "
            "0 no hole found, 1 holes found, 2 bad input, 130 stopped by Ctrl-C (the holes "
            "found so far are reported)."
        ),
    )
    parser.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help="scenario names or files (default: all)"
    )
    parser.add_argument(
        "--profiles",
        default=ALL_PROFILES,
        metavar="P[,P...]|all",
        help="profiles to explore, separated by commas, or all (default: all)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=DEFAULT_SEEDS,
        metavar="N",
        help=f"seeds per scenario and profile (default: {DEFAULT_SEEDS})",
    )
    parser.add_argument(
        "--start", type=seed, default=0, metavar="S", help="first seed (default: 0)"
    )
    add_faults_option(parser, default=frozenset(FaultKind))
    add_executor_options(parser)
    add_shrink_option(parser)
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    if args.seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {args.seeds}")
    executor = executor_from(args)
    profiles = parse_profiles(args.profiles)
    faults = parse_faults(args.faults)
    chosen = _scenarios(args.scenarios)
    findings = Findings(faults, switches_added())
    seeds = range(args.start, args.start + args.seeds)
    with (
        # Each seed's outcome says what broke; its log lines would carry no seed.
        logging_for_run(verbosity=0, json_stream=None, quiet=True),
        catching_interrupts() as interruption,
        executor,
    ):
        for index, (reference, scenario) in enumerate(chosen, 1):
            for profile in profiles:
                failing = findings.failing
                stream = explore_outcomes(scenario.path, profile, seeds, faults, executor=executor)
                with contextlib.closing(stream):
                    for outcome in stream:
                        if hole := findings.add(reference, scenario, profile, outcome):
                            print(
                                f"  new hole: {reference}: {hole.problem} "
                                f"(seed {outcome.seed}, {profile.value})",
                                file=sys.stderr,
                                flush=True,
                            )
                print(
                    f"[{index}/{len(chosen)}] {reference} ({profile.value}): "
                    f"{findings.failing - failing} of {args.seeds} seeds failed",
                    file=sys.stderr,
                    flush=True,
                )
            holes = findings.holes(reference)
            if holes:
                settling = f"{len(holes)} {'hole' if len(holes) == 1 else 'holes'}"
                print(f"  shrinking {settling} ...", file=sys.stderr, flush=True)
            for hole in holes:
                findings.settle(hole, budget=args.shrink_runs)
    campaign = Campaign(
        tuple(reference for reference, _ in chosen),
        profiles,
        args.start,
        args.seeds,
        interrupted=interruption.happened,
    )
    print(to_json(campaign, findings) if args.json else markdown(campaign, findings).rstrip("\n"))
    if interruption.happened:
        return EXIT_INTERRUPTED
    return 1 if findings.holes() else 0


def _scenarios(references: list[str]) -> list[tuple[str, Scenario]]:
    """The scenarios named (checked before anything runs), or every bundled one."""
    if references:
        return [(reference, catalog.load(reference)) for reference in references]
    return [(path.stem, catalog.load(str(path))) for path in catalog.bundled_paths()]
