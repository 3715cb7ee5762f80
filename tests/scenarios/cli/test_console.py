"""Console logs for people: time and actor first, run context once, colour on terminals only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import structlog

from actors.runtime.logs import ConsoleLines
from scenarios.cli import main

PARENT = "local-local-share-parent"
#: A console log line: virtual time, actor, then the event.
LINE = re.compile(r"^ +(\d+\.\d{3})  (\S+) +(\S+)")


@pytest.fixture(autouse=True)
def restore_structlog() -> Iterator[None]:
    try:
        yield
    finally:
        structlog.reset_defaults()


def _log_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if LINE.match(line)]


def test_lines_lead_with_time_and_actor_and_leave_the_run_context_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", PARENT, "-v"]) == 0
    err = capsys.readouterr().err
    lines = _log_lines(err)
    joined = next(line for line in lines if " joined " in line)
    parts = LINE.match(joined)
    assert parts is not None
    assert parts.groups() == ("20.000", "viewer", "joined")
    # Ids come right after the event.
    assert re.search(r"joined  source_task_id='t-1' viewer_id='viewer-1' ", joined)
    for constant in ("scenario=", "seed=", "profile="):
        assert not any(constant in line for line in lines), constant
    assert err.splitlines()[0] == "seed 0, transport memory, faults none"
    assert "\x1b[" not in err, "no colour when the console is not a terminal"


def test_colour_marks_levels_on_a_terminal() -> None:
    render = ConsoleLines(colors=True)
    line = render(None, "warning", {"event": "share_lost", "level": "warning", "t": 3.0})
    assert "\x1b[33m" in line
    assert "WARNING" in line
    plain = ConsoleLines(colors=False)(None, "info", {"event": "joined", "level": "info", "t": 1})
    assert plain == "     1.000  -                        joined"


def test_actor_keeps_one_actors_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", PARENT, "--actor", "researcher"]) == 0
    lines = _log_lines(capsys.readouterr().err)
    assert lines
    actors = {parts[2] for line in lines if (parts := LINE.match(line)) is not None}
    assert actors == {"orchestrator/researcher"}


def test_an_unknown_actor_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", PARENT, "--actor", "reseacher"]) == 2
    err = capsys.readouterr().err
    assert "--actor 'reseacher' is no actor of these runs" in err
    assert "researcher" in err
