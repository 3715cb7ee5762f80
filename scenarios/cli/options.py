"""Options and output files shared by the commands, so each takes and refuses input alike."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO, TypeVar

from actors.rules.profiles import Profile
from scenarios.designs import parse_profiles, parse_settings
from scenarios.executors import Dask, Executor, InProcess, LocalProcesses
from scenarios.faults import FaultKind, format_faults
from scenarios.usage import UsageError

#: The output path that means standard output.
STDOUT = "-"
#: The `--scheduler` value that starts a Dask cluster of N worker processes here.
LOCAL_SCHEDULER = re.compile(r"local:(?P<workers>.*)")


def seed(text: str) -> int:
    """A seed: any whole number from 0 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number from 0, got {text!r}")
    return value


@contextlib.contextmanager
def output(path: Path | None, option: str) -> Iterator[TextIO | None]:
    """The file an output option names, open for writing; `-` is standard output.

    A path that cannot be written is a usage error naming the option, raised
    before any run starts.
    """
    if path is None:
        yield None
        return
    if str(path) == STDOUT:
        yield sys.stdout
        sys.stdout.flush()
        return
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a directory")
    try:
        stream = path.open("w", encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot write ({error.strerror})") from None
    with stream:
        yield stream


def add_run_options(parser: argparse.ArgumentParser, *, many: bool) -> None:
    """What every command that runs scenarios takes: `--profile` (one, or with `many` a list
    or `all`), repeatable `--set SWITCH=BOOL`, and `--json`.
    """
    names = ", ".join(p.value for p in Profile)
    if many:
        parser.add_argument(
            "--profile",
            default=Profile.CURRENT.value,
            metavar="P[,P...]|all",
            help=f"profiles to run, from {names}, separated by commas, or all (default: current)",
        )
    else:
        parser.add_argument(
            "--profile",
            choices=[p.value for p in Profile],
            default=Profile.CURRENT.value,
            help=(
                "before the change, as merged, with the follow-ups, or with the follow-ups' "
                "holes closed (default: current)"
            ),
        )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SWITCH=BOOL",
        help="flip one behaviour switch of every profile run, e.g. report_session_link=false; "
        "repeatable ('sharesim profiles' lists them)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per run on standard output instead of the tables",
    )


def add_seed_option(parser: argparse.ArgumentParser, *, extra_help: str = "") -> None:
    """`--seed S`: the one number every random choice of a run derives from.

    Left out, it is None, read as 0: a command can tell a seed someone chose from the default.
    """
    parser.add_argument(
        "--seed",
        type=seed,
        default=None,
        help=f"the seed every random choice derives from (default: 0){extra_help}",
    )


def seed_of(args: argparse.Namespace) -> int:
    """The seed `--seed` chose, 0 when none was named."""
    return 0 if args.seed is None else int(args.seed)


def add_faults_option(parser: argparse.ArgumentParser, *, default: frozenset[FaultKind]) -> None:
    """`--faults KINDS`: the seeded fault kinds, spelled the same by every command."""
    valid = ", ".join(kind.value for kind in FaultKind)
    shown = format_faults(default) or "none"
    parser.add_argument(
        "--faults",
        default=format_faults(default),
        metavar="KINDS",
        help=f"seeded faults from {valid} (comma-separated; empty for none; default: {shown})",
    )


def add_verbosity_option(parser: argparse.ArgumentParser, *, levels: str) -> None:
    """`-v`, repeatable: more console logging; `levels` says what each step adds."""
    parser.add_argument("-v", "--verbose", action="count", default=0, help=levels)


def designs_from(args: argparse.Namespace) -> tuple[tuple[Profile, ...], dict[str, bool]]:
    """The profiles and the switch overrides the design options chose."""
    return parse_profiles(args.profile), parse_settings(args.set)


def most_jobs() -> int:
    """The most local workers a command accepts: four per core."""
    return (os.cpu_count() or 1) * 4


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """Where a command's seeds run: `--jobs J` local processes or `--scheduler` Dask."""
    where = parser.add_argument_group("where the seeds run (default: in this process)")
    exclusive = where.add_mutually_exclusive_group()
    exclusive.add_argument(
        "--jobs", type=int, metavar="J", help="this many worker processes on this machine"
    )
    exclusive.add_argument(
        "--scheduler",
        metavar="ADDRESS|local:N",
        help="send the seeds, in batches, to the Dask scheduler at ADDRESS "
        "(e.g. tcp://10.0.0.5:8786), or start a Dask cluster of N worker processes here "
        "with local:N; results are the same as in one process",
    )


def executor_from(args: argparse.Namespace) -> Executor:
    """The executor the options chose, not yet started: `with` it to run seeds on it."""
    if args.scheduler is not None:
        return _dask(args.scheduler)
    jobs = 1 if args.jobs is None else args.jobs
    if not 1 <= jobs <= most_jobs():
        raise UsageError(f"--jobs must be between 1 and {most_jobs()}, got {jobs}")
    return InProcess() if jobs == 1 else LocalProcesses(jobs)


def _dask(scheduler: str) -> Dask:
    local = LOCAL_SCHEDULER.fullmatch(scheduler)
    if local is None:
        if not scheduler.strip():
            raise UsageError("--scheduler needs an address, e.g. tcp://HOST:8786, or local:N")
        return Dask(scheduler)
    count = local["workers"]
    if not count.isdigit() or not 1 <= int(count) <= most_jobs():
        raise UsageError(
            f"--scheduler {scheduler}: local:N needs N, the number of worker processes, "
            f"from 1 to {most_jobs()}"
        )
    return Dask(local_workers=int(count))


N = TypeVar("N", int, float)


def at_most(share: float | None, share_option: str, total: float, total_option: str) -> None:
    """Refuse a per-client limit above the server-wide one it is a share of (a `ValueError`).

    Such a share could never be reached, so it is a mistake worth saying
    rather than quietly lowering.
    """
    if share is not None and share > total:
        raise ValueError(
            f"{share_option} ({share:g}) must not be more than {total_option} ({total:g})"
        )


def positive(kind: Callable[[str], N]) -> Callable[[str], N]:
    """An argparse type: a finite number of `kind` above 0."""
    return _number(kind, lambda value: value > 0, "a number above 0")


def not_negative(kind: Callable[[str], N]) -> Callable[[str], N]:
    """An argparse type: a finite number of `kind` from 0."""
    return _number(kind, lambda value: value >= 0, "a number of 0 or more")


def _number(
    kind: Callable[[str], N], acceptable: Callable[[N], bool], wanted: str
) -> Callable[[str], N]:
    noun = "whole number" if kind is int else "number"

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {noun}: {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if not acceptable(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return parse
