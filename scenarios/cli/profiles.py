"""`sharesim profiles`: every behaviour switch, what it means and its value in each profile."""

from __future__ import annotations

import argparse
from typing import Any

from actors.rules.profiles import Profile, Switches
from scenarios import report
from scenarios.designs import MEANINGS

#: The widest line the table may take.
WIDTH = 100


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "profiles",
        help="list the behaviour switches and their value in each profile",
        description=(
            "List every behaviour switch with its meaning and its value under legacy, current, "
            "followups and hardened. Any command that runs scenarios flips one with "
            "--set SWITCH=BOOL."
        ),
    )
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    values = {profile: profile.switches().to_dict() for profile in Profile}
    rows = [
        (name, *("on" if values[p][name] else "off" for p in Profile), MEANINGS[name])
        for name in Switches.names()
    ]
    headers = ("switch", *(p.value for p in Profile), "when on")
    print(report.table(headers, rows, width=WIDTH))
    print("\nflip one on run, explore or matrix with --set SWITCH=true|false")
    return 0
