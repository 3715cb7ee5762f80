"""Seeds run on Dask give exactly what one process gives; bad cluster options are clear errors.

The embedded clusters here are small (two workers, ten seeds of a short
scenario) and every wait on them is bounded, so a loaded machine makes these
tests slower, never wrong.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from actors.rules.profiles import Profile
from scenarios import catalog, executors
from scenarios.cli import main
from scenarios.executors import Dask, batches
from scenarios.explore import explore
from scenarios.faults import FaultKind

RACE = "share-around-first-response"
ALL_FAULTS = frozenset(FaultKind)
#: Enough seeds that some fail and some pass under `current`, and both workers get batches.
SEEDS = range(10)
#: Bound on a whole command run on an embedded cluster, start and stop included.
COMMAND_BOUND_S = 300.0
DASK_DEFAULT_HTTP_PORT = 8787


def test_an_embedded_cluster_gives_the_outcomes_of_one_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    alone = explore(catalog.resolve(RACE), Profile.CURRENT, SEEDS, ALL_FAULTS)
    with Dask(local_workers=2) as cluster:
        # The in-process scheduler's collector callback is where a Ctrl-C could be dropped.
        assert [c for c in gc.callbacks if "distributed" in c.__module__] == []
        spread = explore(
            catalog.resolve(RACE), Profile.CURRENT, SEEDS, ALL_FAULTS, executor=cluster
        )
    assert [o for o in alone if not o.passed], "the comparison must include failing seeds"
    assert [o for o in alone if o.passed], "the comparison must include passing seeds"
    assert spread == alone
    assert [r.getMessage() for r in caplog.records if r.name.startswith("distributed")] == []


@contextlib.contextmanager
def dask_default_port_taken() -> Iterator[None]:
    """Port 8787, Dask's default HTTP port, busy as when another cluster runs beside us."""
    with socket.socket() as holder:
        with contextlib.suppress(OSError):  # already busy: just as good
            holder.bind(("127.0.0.1", DASK_DEFAULT_HTTP_PORT))
            holder.listen(1)
        yield


def test_the_command_prints_the_same_on_dask_and_nothing_of_dask_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["explore", RACE, "--seeds", str(len(SEEDS)), "--json"]
    assert main(args) == 1
    alone = capsys.readouterr().out

    with dask_default_port_taken():
        on_dask = subprocess.run(
            [sys.executable, "-m", "scenarios.cli", *args, "--scheduler", "local:2"],
            capture_output=True,
            text=True,
            timeout=COMMAND_BOUND_S,
        )

    assert on_dask.returncode == 1
    assert on_dask.stdout == alone, "the same runs, in the same order"
    noise = [
        line
        for line in on_dask.stderr.splitlines()
        if not line.startswith("[") and not line.startswith("seed ")
    ]
    assert noise == [], "stderr holds only the progress of the seeds"


def test_dask_workers_print_no_log_lines_of_the_runs() -> None:
    on_dask = subprocess.run(
        [
            sys.executable,
            "-m",
            "scenarios.cli",
            "explore",
            "children-ended-before-share",
            "--seeds",
            "2",
            "--scheduler",
            "local:2",
        ],
        capture_output=True,
        text=True,
        timeout=COMMAND_BOUND_S,
    )
    assert on_dask.returncode == 0
    assert "session_link_refused" not in on_dask.stderr


def test_an_embedded_cluster_starts_while_the_dask_default_port_is_taken() -> None:
    """Under warnings-as-errors a warning at start would fail the cluster itself."""
    with dask_default_port_taken(), Dask(local_workers=1) as cluster:
        outcomes = explore(catalog.resolve(RACE), Profile.CURRENT, range(2), ALL_FAULTS)
        spread = explore(
            catalog.resolve(RACE), Profile.CURRENT, range(2), ALL_FAULTS, executor=cluster
        )
    assert spread == outcomes


def test_batches_cover_every_seed_once_in_order() -> None:
    seeds = range(5, 105)
    cut = list(batches(seeds, workers=2))
    assert [seed for batch in cut for seed in batch] == list(seeds)
    assert len(cut) >= 2 * executors.BATCHES_PER_WORKER
    assert max(len(batch) for batch in cut) <= executors.MAX_BATCH
    assert list(batches(range(3), workers=8)) == [(0,), (1,), (2,)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--scheduler", "local:0"], "--scheduler local:0: local:N needs N, the number of"),
        (["--scheduler", "local:two"], "--scheduler local:two: local:N needs N"),
        (["--scheduler", "nonsense"], "--scheduler nonsense: not a scheduler address"),
        (["--scheduler", " "], "--scheduler needs an address, e.g. tcp://HOST:8786, or local:N"),
        (["--jobs", "0"], "--jobs must be between 1 and"),
    ],
)
def test_bad_executor_options_are_usage_errors(
    capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    assert main(["explore", RACE, "--seeds", "2", *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sharesim explore: {message}")
    assert "Traceback" not in err


def test_jobs_and_a_scheduler_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["explore", RACE, "--seeds", "2", "--jobs", "2", "--scheduler", "local:2"])
    assert exit_.value.code == 2
    assert "argument --scheduler: not allowed with argument --jobs" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_named_after_a_bounded_wait(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 0.5)
    # Port 1 on loopback: nothing listens there, so every attempt is refused.
    assert main(["explore", RACE, "--seeds", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "sharesim explore: --scheduler tcp://127.0.0.1:1: cannot reach a Dask scheduler there"
    )
    assert "Traceback" not in err


def test_commands_that_do_not_use_dask_do_not_import_it() -> None:
    probe = "import sys, scenarios.cli; print('distributed' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
