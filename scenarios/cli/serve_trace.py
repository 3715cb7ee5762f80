"""`sharesim serve --trace`: every received frame as a JSON line, in a file of bounded size.

A server that runs for days, with clients that may flood it, would fill the
disk with its trace: each line is short (values are clipped, see
`actors.runtime.clipping`), but a flood makes millions of them. Past
`--max-trace-mb` the file is cut off: nothing more is written, and one
warning says so and at which size. Cutting off keeps the start of the
record, where sessions were created and joined, and the file is never a
window whose beginning is missing; rotating would keep the flood instead.

A trace that cannot be written (a full disk, an I/O error) stops the same
way: one error line names the file and the error, and the servers carry on
untraced, since the trace is a record of the service, not part of it.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import structlog

from scenarios.cli.options import positive
from scenarios.usage import UsageError

_log = structlog.get_logger("sharesim.serve")

MIB = 1 << 20
#: The default cut-off: a day of a busy laptop's traffic, and no full disk after a flood.
DEFAULT_MAX_TRACE_MB = 256


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trace",
        type=Path,
        metavar="FILE",
        help="stream every frame the servers receive to FILE as JSON lines (default: none kept)",
    )
    parser.add_argument(
        "--max-trace-mb",
        type=positive(int),
        default=DEFAULT_MAX_TRACE_MB,
        metavar="MB",
        help=(
            "size at which the --trace file is cut off: no more lines are written to it, "
            "and one warning says so (default: %(default)s)"
        ),
    )


class CappedTrace:
    """A trace file that takes whole lines until the next would pass `max_bytes`, then none.

    Trace lines are JSON with ASCII escapes, so a line's characters are its bytes.
    """

    def __init__(self, file: TextIO, path: Path, max_bytes: int) -> None:
        self._file = file
        self._path = path
        self._max_bytes = max_bytes
        self.written = 0
        self.cut_off = False
        self.failed = False

    def write(self, text: str, /) -> int:
        if self.cut_off or self.failed:
            return 0
        if self.written + len(text) > self._max_bytes:
            self.cut_off = True
            _log.warning(
                "trace_cut_off",
                file=str(self._path),
                size_mb=round(self.written / MIB, 1),
                limit_mb=self._max_bytes // MIB,
                detail="no more trace lines are written; the server carries on",
            )
            return 0
        try:
            count = self._file.write(text)
        except OSError as error:
            self.stop(error)
            return 0
        self.written += len(text)
        return count

    def stop(self, error: OSError) -> None:
        """Write no more after `error`, saying so once."""
        if self.failed:
            return
        self.failed = True
        _log.error(
            "trace_write_failed",
            file=str(self._path),
            error=error.strerror or str(error),
            detail="no more trace lines are written; the server carries on",
        )


@contextlib.contextmanager
def trace_file(path: Path | None, max_mb: int) -> Iterator[CappedTrace | None]:
    """The trace's file, line-buffered so each record is on disk as soon as it is made."""
    if path is None:
        yield None
        return
    try:
        sink = path.open("w", encoding="utf-8", buffering=1)
    except OSError as error:
        raise UsageError(f"cannot write the trace to {path}: {error.strerror}") from None
    trace = CappedTrace(sink, path, max_mb * MIB)
    try:
        yield trace
    finally:
        try:
            sink.close()
        except OSError as error:  # what a failed write left in the buffer
            trace.stop(error)
