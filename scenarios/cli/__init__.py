"""The `sharesim` command line: one subcommand per job, each in its own module.

Every subcommand returns an exit code; user mistakes (a missing file, a bad
option value) print one clear line each on stderr and exit 2, never a traceback.
Ctrl-C or SIGTERM stops a command with exit code 130; commands that produce a
summary print what they had so far first.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
from collections.abc import Callable, Sequence

from actors.runtime.determinism import SchedulerHookMissing
from scenarios.cli import bench, decode, explore, findings, matrix, profiles, run, serve
from scenarios.cli.interrupt import EXIT_INTERRUPTED, is_interrupt, sigterm_as_interrupt
from scenarios.schema import ScenarioError
from scenarios.usage import UsageError

Command = Callable[[argparse.Namespace], int]
#: The exit code when the reader of standard output went away (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sharesim",
        description="Simulate session sharing for orchestrated agent sessions.",
    )
    parser.add_argument(
        "--version", action="version", version=f"sharesim {_version()}", help="print the version"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.register(commands)
    matrix.register(commands)
    explore.register(commands)
    findings.register(commands)
    profiles.register(commands)
    decode.register(commands)
    serve.register(commands)
    bench.register(commands)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("sharesim")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command = args.run
    try:
        with sigterm_as_interrupt():
            return command(args)
    except BrokenPipeError:
        # The reader went away (`sharesim decode ... | head`): nothing left to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (UsageError, ScenarioError, SchedulerHookMissing, OSError) as error:
        for line in str(error).splitlines():
            print(f"sharesim {args.command}: {line}", file=sys.stderr)
        return 2
    except BaseException as error:
        if not is_interrupt(error):
            raise
        return EXIT_INTERRUPTED
