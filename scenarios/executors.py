"""Where a campaign's seeds run: in this process, in local worker processes, or on Dask.

Every executor runs the same top-level function on the same seeds with the same
description of the work, so what a seed produces does not depend on where it
ran. Only the function's name, the description and the seeds travel to a
worker, and only results come back; a worker keeps its interpreter, with the
simulation imported, from one batch to the next.

Closing an executor's stream of results (or Ctrl-C while it waits) stops the
work still pending at once and keeps nothing running.
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import itertools
import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Self, TypeVar

from scenarios.usage import UsageError

if TYPE_CHECKING:
    from distributed import Client, Future, LocalCluster

W = TypeVar("W")
R = TypeVar("R")

#: Runs one batch of seeds: `run_batch(work, seeds)`, a result per seed in seed order.
#: It must be a module's top-level function, so a worker finds it by name.
BatchRunner = Callable[[W, tuple[int, ...]], list[R]]

#: prctl option: the signal a process gets when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1
#: How long to wait for a Dask scheduler to answer, and for its first worker.
CONNECT_TIMEOUT_S = 10.0
#: How long an embedded cluster may take to start its workers on a busy machine.
LOCAL_START_TIMEOUT_S = 120.0
#: Seeds per batch sent to Dask at most: large enough that scheduling costs
#: little beside a batch (a seed takes tens of milliseconds or more), small
#: enough that Ctrl-C loses little work in flight.
MAX_BATCH = 16
#: Batches per worker at least, so a slow batch does not leave the others idle at the end.
BATCHES_PER_WORKER = 4
#: Batches sent ahead per worker: one running and one waiting, so no worker idles
#: while the next batch travels, and Ctrl-C has little to cancel.
IN_FLIGHT_PER_WORKER = 2


class Executor(abc.ABC):
    """Runs batches of seeds somewhere; a context manager around what it starts."""

    def __enter__(self) -> Self:
        return self

    def __exit__(  # noqa: B027 (overridden only by executors that start something)
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Nothing to stop unless the executor started something."""

    @abc.abstractmethod
    def run(
        self, run_batch: BatchRunner[W, R], work: W, seeds: Sequence[int]
    ) -> Generator[R, None, None]:
        """Every seed's result, each batch's as soon as it is done (not in seed order)."""


class InProcess(Executor):
    """Every seed in this process, one after the other, in seed order."""

    def run(
        self, run_batch: BatchRunner[W, R], work: W, seeds: Sequence[int]
    ) -> Generator[R, None, None]:
        for seed in seeds:
            yield from run_batch(work, (seed,))


@dataclass(frozen=True, slots=True)
class LocalProcesses(Executor):
    """`jobs` forked worker processes on this machine, one seed at a time each.

    The pool is one that can be terminated: an interrupted campaign stops its
    workers at once instead of waiting for every queued seed.
    """

    jobs: int

    def run(
        self, run_batch: BatchRunner[W, R], work: W, seeds: Sequence[int]
    ) -> Generator[R, None, None]:
        # Fork: workers start at once and inherit the command's logging setup.
        pool = multiprocessing.get_context("fork").Pool(self.jobs, initializer=_start_worker)
        try:
            batches = pool.imap_unordered(_Call(run_batch, work), ((seed,) for seed in seeds))
            for results in batches:
                yield from results
        finally:
            pool.terminate()
            pool.join()


@dataclass(frozen=True, slots=True)
class _Call(Generic[W, R]):
    """`run_batch` bound to the work, for the pool (which pickles it by its function's name)."""

    run_batch: BatchRunner[W, R]
    work: W

    def __call__(self, seeds: tuple[int, ...]) -> list[R]:
        return self.run_batch(self.work, seeds)


def _start_worker() -> None:
    """Workers leave Ctrl-C to the command, which stops them, and die at once on SIGTERM.

    Ctrl-C on a terminal reaches every process of the group; a worker that
    raised KeyboardInterrupt too would print a traceback of its own. On Linux a
    worker also gets SIGTERM when the command dies, even of SIGKILL, so none is
    ever left behind.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Dask(Executor):
    """Batches of seeds as tasks on a Dask cluster: one that runs already, or one started here.

    `distributed` is imported only when a Dask executor starts, so commands
    that never use it do not pay for importing it.
    """

    def __init__(self, address: str | None = None, *, local_workers: int = 0) -> None:
        if (address is None) == (local_workers == 0):
            raise ValueError("a Dask executor needs either a scheduler address or local workers")
        self.address = address
        self.local_workers = local_workers
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        #: The embedded cluster's worker processes, stopped at once when it closes.
        self._worker_pids: list[int] = []

    def __enter__(self) -> Self:
        import distributed  # noqa: F401 (its logging is set up on import, then quietened)

        _quiet_dask()
        try:
            if self.address is None:
                self._start_local()
            else:
                self._connect(self.address)
        except BaseException:
            self._close()
            raise
        return self

    def _start_local(self) -> None:
        from distributed import Client, LocalCluster
        from distributed.gc import disable_gc_diagnosis

        # The workers inherit Ctrl-C ignored: it is the command's to handle, and a
        # worker that raised KeyboardInterrupt would print a traceback of its own.
        with _ignoring_ctrl_c():
            self._cluster = LocalCluster(
                n_workers=self.local_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # The scheduler serves HTTP even without a dashboard, on 8787 unless
                # told otherwise: a free loopback port keeps two clusters (two
                # commands, or a test beside a command) from warning about each other.
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=_SILENT,
                timeout=LOCAL_START_TIMEOUT_S,
            )
        self._client = Client(self._cluster, timeout=LOCAL_START_TIMEOUT_S)
        self._worker_pids = list(self._client.run(os.getpid).values())
        # The scheduler, in this process, times every garbage collection with a
        # collector callback, only to log long pauses; a Ctrl-C handled while that
        # callback runs would be dropped, and the command would not stop.
        disable_gc_diagnosis(force=True)

    def _connect(self, address: str) -> None:
        from distributed import Client

        try:
            self._client = Client(address, timeout=CONNECT_TIMEOUT_S)
        except ValueError as error:
            raise UsageError(
                f"--scheduler {address}: not a scheduler address ({_first_line(error)}); "
                "give tcp://HOST:PORT or local:N"
            ) from None
        except (OSError, TimeoutError) as error:
            raise UsageError(
                f"--scheduler {address}: cannot reach a Dask scheduler there ({_first_line(error)})"
            ) from None
        try:
            self._client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise UsageError(
                f"--scheduler {address}: the scheduler has no workers "
                f"(none joined within {CONNECT_TIMEOUT_S:g} s; start some with "
                f"'dask worker {address}')"
            ) from None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        """Let go of the cluster; an embedded one's workers are stopped at once.

        A worker asked to close first finishes the batch it is running, which
        can take seconds; nothing it could still send is wanted any more.
        """
        try:
            self._stop_restarts()
            for pid in self._worker_pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if self._cluster is not None:
                self._cluster.close()
            if self._client is not None:
                self._client.close()
        finally:
            self._client = self._cluster = None
            self._worker_pids = []

    def _stop_restarts(self) -> None:
        """Tell the embedded cluster's nannies not to restart the workers about to be killed.

        A nanny restarts a worker that dies, and a restarted worker must finish
        starting before it can be stopped: under load that took longer than any
        Ctrl-C should.
        """
        if self._cluster is None:
            return
        for nanny in list(self._cluster.workers.values()):
            nanny.close_gracefully(reason="sharesim is closing the cluster")

    def run(
        self, run_batch: BatchRunner[W, R], work: W, seeds: Sequence[int]
    ) -> Generator[R, None, None]:
        from distributed import as_completed

        client = self._client
        if client is None:
            raise RuntimeError("a Dask executor runs seeds only inside its 'with' block")
        workers = sum(client.nthreads().values())
        to_send = batches(seeds, workers)
        sent: set[Future[list[R]]] = set()
        done = as_completed()

        def send(count: int) -> None:
            for batch in itertools.islice(to_send, count):
                future = client.submit(_in_worker, run_batch, work, batch, pure=False)
                sent.add(future)
                done.add(future)

        send(max(1, workers) * IN_FLIGHT_PER_WORKER)
        try:
            for future in done:
                results = future.result()
                sent.discard(future)
                send(1)
                yield from results
        finally:
            client.cancel(list(sent), force=True)


def batches(seeds: Sequence[int], workers: int) -> Iterator[tuple[int, ...]]:
    """`seeds` cut into consecutive batches: at most `MAX_BATCH` seeds, and at least
    `BATCHES_PER_WORKER` batches per worker while there are seeds enough.
    """
    size = max(1, min(MAX_BATCH, math.ceil(len(seeds) / (max(1, workers) * BATCHES_PER_WORKER))))
    for start in range(0, len(seeds), size):
        yield tuple(seeds[start : start + size])


_worker_ready = False


def _in_worker(run_batch: BatchRunner[W, R], work: W, seeds: tuple[int, ...]) -> list[R]:
    """One batch on a Dask worker, which logs as the command does: nothing on the console."""
    global _worker_ready
    if not _worker_ready:
        from actors.runtime.logs import configure_logging

        configure_logging(verbosity=0, quiet=True)
        _worker_ready = True
    return run_batch(work, seeds)


@contextlib.contextmanager
def _ignoring_ctrl_c() -> Iterator[None]:
    """SIGINT ignored while processes that should inherit that are started (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


#: A log level above every level Dask logs at.
_SILENT = logging.CRITICAL + 1


def _quiet_dask() -> None:
    """Dask's own log lines stay out of the command's output from now on.

    The scheduler and workers log their comings and goings, on a busy machine
    that their event loops were slow, and on Ctrl-C every connection that the
    stop cut; none of it is the campaign's output. A batch that fails still
    raises its error where its results are read. They stay quiet after the
    executor closes: Dask's event-loop thread outlives the client, and a send
    cut by the stop can report its `CommClosedError`, traceback and all, after
    the close has returned.
    """
    known = list(logging.root.manager.loggerDict)
    for name in ["distributed", "tornado", *known]:
        if name.split(".")[0] in ("distributed", "tornado"):
            logging.getLogger(name).setLevel(_SILENT)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
