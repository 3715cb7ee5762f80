"""`sharesim explore`: one scenario under many seeds with faults; report every failing seed."""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import replace
from typing import Any, TextIO

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.cli.interrupt import EXIT_INTERRUPTED, catching_interrupts
from scenarios.cli.options import (
    add_executor_options,
    add_faults_option,
    add_run_options,
    executor_from,
    seed,
)
from scenarios.cli.run import logging_for_run
from scenarios.cli.shrinking import Shrinker, add_shrink_option
from scenarios.designs import Design, parse_settings, settings_of
from scenarios.explore import InSeedOrder, SeedOutcome, explore_outcomes, replay_command
from scenarios.faults import FaultKind, format_faults, parse_faults
from scenarios.usage import UsageError

BAR_WIDTH = 30


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "explore",
        help="run one scenario under many seeds with faults and check invariants",
        description=(
            "Run a scenario under N seeds with seeded latency, dropped connections and "
            "partitions, checking the safety invariants after every delivered message and the "
            "scenario's expectations at their times. Prints each failing seed with what broke and "
            "the exact 'sharesim run' command that replays it, then shrinks its faults to the "
            "fewest that still break the same thing: a line 'minimal faults: PLAN' and the "
            "command that replays exactly that plan. Exits 0 if every seed passed, 1 if any "
            "failed, 2 on bad input. Ctrl-C stops it and prints what was found so far (exit 130)."
        ),
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario name or file")
    add_run_options(parser, many=False)
    parser.add_argument(
        "--seeds", type=int, required=True, metavar="N", help="how many seeds to run"
    )
    parser.add_argument(
        "--start", type=seed, default=0, metavar="S", help="first seed (default: 0)"
    )
    add_faults_option(parser, default=frozenset(FaultKind))
    add_executor_options(parser)
    add_shrink_option(parser)
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    if args.seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {args.seeds}")
    executor = executor_from(args)
    scenario = catalog.load(args.scenario)
    profile = Profile(args.profile)
    settings = parse_settings(args.set)
    design = Design.of(profile, scenario.pinned(profile), settings)
    faults = parse_faults(args.faults)
    words = settings_of(design.settings)
    seeds = range(args.start, args.start + args.seeds)
    bar = _ProgressBar(args.seeds, sys.stderr)
    outcomes: list[SeedOutcome] = []
    shrinker = Shrinker(scenario, profile, faults, settings, args.shrink_runs)
    in_order = InSeedOrder(seeds)
    with (
        # Each seed's outcome says what broke; its log lines would carry no seed.
        logging_for_run(verbosity=0, json_stream=None, quiet=True),
        catching_interrupts() as interruption,
        executor,
    ):
        stream = explore_outcomes(
            scenario.path,
            profile,
            seeds,
            faults,
            executor=executor,
            settings=settings,
            detail=args.json,
        )
        with contextlib.closing(stream):
            for outcome in stream:
                outcomes.append(outcome)
                bar.advance(outcome)
                try:
                    shrinker.shrink(outcome)
                finally:  # an interrupted shrink still leaves the seed's line
                    if args.json:
                        shrunk = shrinker.json(args.scenario, outcome, words)
                        _print_json(in_order.add(replace(outcome, json=shrunk)))
    if args.json:
        _print_json(in_order.rest())
    bar.finish()
    outcomes.sort(key=lambda outcome: outcome.seed)
    failing = [o for o in outcomes if not o.passed]
    if not args.json:
        _summary(
            args,
            scenario.name,
            design,
            faults,
            outcomes,
            shrinker,
            interrupted=interruption.happened,
        )
    if interruption.happened:
        return EXIT_INTERRUPTED
    return 1 if failing else 0


def _print_json(outcomes: list[SeedOutcome]) -> None:
    for outcome in outcomes:
        print(outcome.json, flush=True)


def _summary(
    args: argparse.Namespace,
    name: str,
    design: Design,
    faults: frozenset[FaultKind],
    outcomes: list[SeedOutcome],
    shrinker: Shrinker,
    *,
    interrupted: bool,
) -> None:
    failing = [o for o in outcomes if not o.passed]
    ran = f"{len(outcomes) - len(failing)} of {len(outcomes)} seeds passed"
    if interrupted:
        ran += f" (interrupted: {len(outcomes)} of {args.seeds} seeds ran)"
    print(f"{name} [{design.name}], faults {format_faults(faults) or 'none'}: {ran}")
    unchecked = [o for o in outcomes if o.passed and o.checked == 0]
    if unchecked:
        print(
            f"  {len(unchecked)} of {len(outcomes)} seeds passed checking no expectation: "
            "the file's checks all assume no faults, so only invariants and steps held"
        )
    settings = settings_of(design.settings)
    for outcome in failing:
        print(f"\nseed {outcome.seed}:")
        for problem in outcome.problems:
            print(f"  - {problem}")
        replay = replay_command(args.scenario, design.profile, outcome.seed, faults, settings)
        print(f"  replay: {replay}")
        for line in shrinker.lines(args.scenario, outcome, settings):
            print(line)


class _ProgressBar:
    """A bar redrawn in place on a terminal; a line per tenth of the work otherwise.

    A failing seed gets a line of its own as soon as it is known, so a long
    exploration shows what it found while it goes on.
    """

    def __init__(self, total: int, stream: TextIO) -> None:
        self._total = total
        self._stream = stream
        self._done = 0
        self._failed = 0
        self._tty = stream.isatty()

    def advance(self, outcome: SeedOutcome) -> None:
        self._done += 1
        if not outcome.passed:
            self._failed += 1
            self._stream.write(("\r\x1b[K" if self._tty else "") + f"seed {outcome.seed} failed\n")
        tenth = max(1, self._total // 10)
        if self._tty or self._done % tenth == 0 or self._done == self._total:
            filled = BAR_WIDTH * self._done // self._total
            line = (
                f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
                f"{self._done}/{self._total} seeds, {self._failed} failing"
            )
            self._stream.write(("\r" + line) if self._tty else line + "\n")
        self._stream.flush()

    def finish(self) -> None:
        if self._tty and self._done:
            self._stream.write("\n")
