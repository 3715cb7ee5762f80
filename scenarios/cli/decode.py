"""`sharesim decode`: print captured JSON frames as decoded messages."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from protocol import Channel
from protocol.inspect import decode_lines


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "decode",
        help="decode JSON frames, one per line",
        description=(
            "Read JSON frames, one per line, and print each decoded message on one line. "
            "A line that does not decode is reported as 'line N: <error>' and decoding "
            "continues; the exit code is 1 if any line failed."
        ),
    )
    parser.add_argument(
        "--channel",
        required=True,
        choices=[channel.value for channel in Channel],
        help="which direction of which connection the frames were captured on",
    )
    parser.add_argument(
        "file", nargs="?", default="-", help="file of frames, or - for stdin (default)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print canonical JSON instead of a summary"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    channel = Channel(args.channel)
    if args.file == "-":
        failures = decode_lines(
            sys.stdin, channel, as_json=args.json, out=sys.stdout, err=sys.stderr
        )
    else:
        with open(args.file, encoding="utf-8") as frames:
            failures = decode_lines(
                frames, channel, as_json=args.json, out=sys.stdout, err=sys.stderr
            )
    return 1 if failures else 0
