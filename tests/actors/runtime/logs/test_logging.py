"""configure_logging: JSON lines for machines, a filtered console for people, virtual time."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import structlog
import trio

from actors.runtime import Actor, Request
from actors.runtime.logs import configure_logging
from actors.runtime.simulation import open_simulation


@pytest.fixture(autouse=True)
def restore_structlog() -> Iterator[None]:
    """Leave structlog as other tests expect it: unconfigured."""
    try:
        yield
    finally:
        structlog.reset_defaults()


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@dataclass(frozen=True)
class Say(Request[None]):
    what: str


class Talker(Actor[Say]):
    role = "talker"

    async def handle(self, message: Say, sender: str) -> None:
        structlog.get_logger("test").info("heard", what=message.what)
        self.answer(message, None)


async def test_json_lines_carry_virtual_time_and_the_bound_context(
    autojump_clock: trio.abc.Clock,
) -> None:
    machine, people = io.StringIO(), io.StringIO()
    configure_logging(json_stream=machine, console=people)
    async with open_simulation(seed=7, log_context={"scenario": "demo"}) as simulation:
        talker = await simulation.stage.start(Talker("talker-1"))
        await trio.sleep_until(2.5)
        await talker.ask(Say("hi"))
    entries = json_lines(machine)
    # The whole entry is known, so nothing else (a wall-clock timestamp, say) slipped in.
    assert {
        "event": "heard",
        "what": "hi",
        "level": "info",
        "t": 2.5,
        "seed": 7,
        "scenario": "demo",
        "actor": "talker-1",
        "role": "talker",
        "seq": 0,
    } in entries
    assert all("t" in entry and "timestamp" not in entry for entry in entries)


EVENTS = {"debug": "whispered", "info": "told", "warning": "warned", "error": "failed"}


@pytest.mark.parametrize(
    ("verbosity", "shown"),
    [
        (0, {"warned", "failed"}),
        (1, {"told", "warned", "failed"}),
        (2, {"whispered", "told", "warned", "failed"}),
    ],
)
async def test_verbosity_sets_the_console_level_and_json_gets_every_level(
    autojump_clock: trio.abc.Clock, verbosity: int, shown: set[str]
) -> None:
    machine, people = io.StringIO(), io.StringIO()
    configure_logging(verbosity=verbosity, json_stream=machine, console=people)
    log = structlog.get_logger("test")
    await trio.sleep(1)
    log.debug("whispered")
    log.info("told")
    log.warning("warned")
    try:
        raise ValueError("bad input")
    except ValueError:
        log.exception("failed")
    console = people.getvalue()
    assert {event for event in EVENTS.values() if event in console} == shown
    entries = json_lines(machine)
    assert [(e["level"], e["event"]) for e in entries] == list(EVENTS.items())
    assert all(e["t"] == 1.0 for e in entries)
    [failure] = [e for e in entries if e["event"] == "failed"]
    assert "ValueError: bad input" in failure["exception"]
    assert "ValueError" in console, "the console shows the traceback too"


def test_outside_a_trio_run_lines_have_no_time() -> None:
    machine = io.StringIO()
    configure_logging(json_stream=machine, console=io.StringIO())
    structlog.get_logger("test").info("before the run")
    assert json_lines(machine) == [{"event": "before the run", "level": "info"}]


def test_a_huge_value_is_clipped_in_every_output() -> None:
    machine, people = io.StringIO(), io.StringIO()
    configure_logging(verbosity=1, json_stream=machine, console=people)
    structlog.get_logger("test").info("heard", tag="X" * 1_000_000, count=3)
    [entry] = json_lines(machine)
    assert entry["tag"].startswith("XXXX")
    assert entry["tag"].endswith("... (999,800 more characters)")
    assert len(entry["tag"]) < 300
    assert entry["count"] == 3
    [line] = people.getvalue().splitlines()
    assert len(line) < 400
