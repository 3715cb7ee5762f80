"""`sharesim decode`: print captured JSON frames as decoded messages.

It reads bare frames (one per line, all on the `--channel` given) or the
frames file `sharesim run --frames` writes, where each line says where its
frame went and on which channel; there `--channel` keeps only that channel.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable
from typing import Any

from actors.runtime.trace import CapturedFrame
from protocol import Channel, ProtocolError, decode, encode
from protocol.inspect import decode_lines, render_message
from scenarios.usage import UsageError


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "decode",
        help="decode JSON frames, one per line",
        description=(
            "Read JSON frames, one per line, and print each decoded message on one line. "
            "Reads bare frames (give --channel) or a 'sharesim run --frames' file, whose "
            "lines name their channel. A line that does not decode is reported as "
            "'line N: <error>' and decoding continues; the exit code is 1 if any line failed."
        ),
    )
    parser.add_argument(
        "--channel",
        choices=[channel.value for channel in Channel],
        help="the channel bare frames were captured on; for a --frames file, "
        "the one channel to show (default: all)",
    )
    parser.add_argument(
        "file", nargs="?", default="-", help="file of frames, or - for stdin (default)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print canonical JSON instead of a summary"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    channel = Channel(args.channel) if args.channel else None
    if args.file == "-":
        failures = _decode(sys.stdin, channel, as_json=args.json)
    else:
        with open(args.file, encoding="utf-8") as frames:
            failures = _decode(frames, channel, as_json=args.json)
    return 1 if failures else 0


def _decode(lines: Iterable[str], channel: Channel | None, *, as_json: bool) -> int:
    """Decode and print every line; return how many failed.

    The first line tells the two forms apart: a bare frame, or a frames file's
    run header or captured frame.
    """
    lines = iter(lines)
    first = next(lines, "")
    lines = itertools.chain([first], lines)
    if _run_header(first) is None and CapturedFrame.from_line(first) is None:
        if channel is None:
            raise UsageError("bare frames need --channel (only a --frames file names its own)")
        return decode_lines(lines, channel, as_json=as_json, out=sys.stdout, err=sys.stderr)
    return _decode_captured(lines, channel, as_json=as_json)


def _decode_captured(lines: Iterable[str], channel: Channel | None, *, as_json: bool) -> int:
    failures = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        header = _run_header(line)
        captured = CapturedFrame.from_line(line)
        if header is not None:
            print(header)
        elif captured is None:
            failures += 1
            print(f"line {number}: not a captured frame", file=sys.stderr)
        elif channel is None or captured.channel == channel.value:
            try:
                message = decode(Channel(captured.channel), captured.text)
            except (ProtocolError, ValueError) as error:
                failures += 1
                print(f"line {number}: {error}", file=sys.stderr)
                continue
            shown = encode(message) if as_json else render_message(message)
            print(f"{captured.t:10.3f}  {captured.src} -> {captured.dst}  {shown}")
    return failures


def _run_header(line: str) -> str | None:
    """The run header a frames file has before each run's frames, as a heading line."""
    if not line.startswith('{"run"'):
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {"run"} or not isinstance(data["run"], dict):
        return None
    run = data["run"]
    settings = ", ".join(
        f"{name}={str(on).lower()}" for name, on in run.get("overrides", {}).items()
    )
    design = str(run.get("profile")) + (f" with {settings}" if settings else "")
    faults = f", faults {run['faults']}" if run.get("faults") else ""
    return f"# {run.get('scenario')} [{design}, seed {run.get('seed')}{faults}]"
