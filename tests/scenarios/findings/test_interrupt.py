"""Ctrl-C or SIGTERM during findings: the holes found so far are reported, exit 130."""

from __future__ import annotations

import json
import signal

import pytest

from actors.rules.profiles import Profile
from scenarios import catalog
from tests.scenarios.cli.processes import Command, children_of, still_running

RACE = "share-around-first-response"
#: More seeds than any test waits for, so the command is always interrupted mid-way.
ENDLESS = "100000"
INTERRUPTED = 130


@pytest.mark.parametrize(("signum", "jobs"), [(signal.SIGINT, "1"), (signal.SIGTERM, "2")])
def test_findings_reports_the_holes_found_before_the_stop(
    signum: signal.Signals, jobs: str
) -> None:
    args = ["findings", RACE, "--profiles", "current", "--seeds", ENDLESS, "--jobs", jobs]
    command = Command(args)
    command.wait_for_stderr(r"^  new hole: ")
    workers = children_of(command.process.pid)
    command.signal(signum)
    assert command.wait() == INTERRUPTED
    assert still_running(workers) == [], "no worker may outlive the command"
    out = "\n".join(command.stdout)
    assert out.startswith("# sharesim findings")
    assert "Interrupted: these are the holes found before the stop." in out
    [row] = [line for line in command.stdout if line.startswith("| 1 |")]
    cells = [cell.strip() for cell in row.strip("|").split(" | ")]
    [end] = catalog.load(RACE).expectations_for(Profile.CURRENT)
    assert cells[1:4] == [RACE, f"expectation at 200 s (line {end.line})", "viewer"]
    assert (cells[6], cells[8]) == ("`not shrunk`", "not tried")
    assert cells[7].startswith(f"`sharesim run {RACE} --profile current --seed ")
    assert cells[7].endswith(" --faults latency,drop,partition`")
    assert "Traceback" not in "\n".join(command.stderr)


def test_the_json_report_of_an_interrupted_campaign_says_so() -> None:
    command = Command(["findings", RACE, "--profiles", "current", "--seeds", ENDLESS, "--json"])
    command.wait_for_stderr(r"^  new hole: ")
    command.signal(signal.SIGINT)
    assert command.wait() == INTERRUPTED
    report = json.loads("\n".join(command.stdout))
    assert report["interrupted"] is True
    [hole] = report["holes"]
    assert (hole["minimal_faults"], hole["closed_by"]) == (None, None)
    assert hole["replay"].endswith("--faults latency,drop,partition")
