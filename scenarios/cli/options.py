"""Option types and output files shared by the commands, so each refuses bad input alike."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from scenarios.usage import UsageError

#: The output path that means standard output.
STDOUT = "-"


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
