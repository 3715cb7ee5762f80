"""Ctrl-C or SIGTERM: pending work stops, workers go, what was found is printed, exit 130."""

from __future__ import annotations

import signal

import pytest

from scenarios.cli.interrupt import is_interrupt
from tests.scenarios.cli.processes import (
    EXIT_BOUND_S,
    Command,
    children_of,
    cmdline,
    gone_within,
    still_running,
)

RACE = "share-around-first-response"
#: More seeds than any test waits for, so a command is always interrupted mid-way.
ENDLESS = "100000"
INTERRUPTED = 130


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("where", [["--jobs", "2"], ["--scheduler", "local:2"]])
def test_explore_with_workers_stops_them_and_keeps_the_failures(
    signum: signal.Signals, where: list[str]
) -> None:
    command = Command(["explore", RACE, "--seeds", ENDLESS, *where])
    failed = command.wait_for_stderr(r"^seed (\d+) failed")
    children = children_of(command.process.pid)
    # Dask's worker processes are started by multiprocessing's spawn, which also
    # starts its resource tracker; that one can only end once the command is gone.
    trackers = {pid: t for pid, t in children.items() if "resource_tracker" in cmdline(pid)}
    workers = {pid: t for pid, t in children.items() if pid not in trackers}
    assert len(workers) >= 2, "the pool's workers must be running before the signal"
    command.signal(signum)
    assert command.wait() == INTERRUPTED
    assert still_running(workers) == [], "no worker may outlive the command"
    assert gone_within(trackers, EXIT_BOUND_S), "the resource tracker follows the command"
    out = "\n".join(command.stdout)
    assert "interrupted" in out
    assert f"seed {failed[1]}:" in out
    assert f"replay: sharesim run {RACE} --profile current --seed {failed[1]} " in out
    assert "Traceback" not in "\n".join(command.stderr)


def test_explore_in_one_process_prints_the_partial_summary() -> None:
    command = Command(["explore", RACE, "--seeds", ENDLESS])
    failed = command.wait_for_stderr(r"^seed (\d+) failed")
    command.signal(signal.SIGINT)
    assert command.wait() == INTERRUPTED
    out = "\n".join(command.stdout)
    assert f"replay: sharesim run {RACE} --profile current --seed {failed[1]} " in out
    assert "interrupted" in out
    assert "Traceback" not in "\n".join(command.stderr)


def test_run_prints_the_rows_it_finished() -> None:
    command = Command(["run", "--all"])
    command.wait_for_stderr(r"^\[3/\d+\]")
    command.signal(signal.SIGTERM)
    assert command.wait() == INTERRUPTED
    rows = [line for line in command.stdout if line.startswith("local-local-share-child ")]
    assert rows, "the runs finished before the signal are in the summary"
    assert any("interrupted" in line for line in command.stdout)
    assert "Traceback" not in "\n".join(command.stderr)


def test_matrix_prints_the_rows_it_finished() -> None:
    command = Command(["matrix"])
    command.wait_for_stderr(r"^\[2/8\]")
    command.signal(signal.SIGINT)
    assert command.wait() == INTERRUPTED
    assert any(line.startswith("1  local-local-share-parent") for line in command.stdout)
    assert any("interrupted" in line for line in command.stdout)
    assert "Traceback" not in "\n".join(command.stderr)


def test_an_interrupt_is_recognised_inside_nested_groups() -> None:
    nested = BaseExceptionGroup(
        "run", [ValueError("x"), BaseExceptionGroup("inner", [KeyboardInterrupt()])]
    )
    assert is_interrupt(nested)
    assert is_interrupt(KeyboardInterrupt())
    assert not is_interrupt(BaseExceptionGroup("run", [ValueError("x")]))
    assert not is_interrupt(ValueError("x"))
