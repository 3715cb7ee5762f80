"""One seed for every random choice in a run, Trio's own scheduler included.

Trio runs each batch of ready tasks in a random order on purpose, and breaks
ties between equal deadlines by object address. Both would make two runs of the
same seed differ. Trio has a switch, used for its Hypothesis support, that
sorts each batch by task creation order and then shuffles it with a private
random generator; seeding that generator makes the schedule a function of the
seed. The private names are touched here and nowhere else, and only for the
length of one run: `pyproject.toml` pins Trio to the versions where the
determinism tests prove the hook works.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import trio

from protocol.errors import SharesimError

_RUN_MODULE = "trio._core._run"
#: Trio's switch from "maybe reverse each batch" to "sort, then shuffle with _r".
_SWITCH = "_ALLOW_DETERMINISTIC_SCHEDULING"
#: The private generator that shuffles each batch once the switch is on.
_GENERATOR = "_r"


class SchedulerHookMissing(SharesimError, RuntimeError):
    """This Trio lacks the private switch or generator that seeding its scheduler relies on."""


@contextmanager
def seeded_scheduler(seed: int) -> Iterator[None]:
    """Inside the block, Trio's ready-task order depends only on `seed`.

    Meant to wrap exactly one `trio.run`. The switch and the generator's state
    are put back afterwards, so a later run (a test under pytest-trio, say) sees
    Trio as it was.
    """
    run_module = _scheduler_internals()
    switch_before: bool = getattr(run_module, _SWITCH)
    generator: random.Random = getattr(run_module, _GENERATOR)
    state_before = generator.getstate()
    setattr(run_module, _SWITCH, True)
    generator.seed(seed)
    try:
        yield
    finally:
        setattr(run_module, _SWITCH, switch_before)
        generator.setstate(state_before)


def _scheduler_internals() -> ModuleType:
    """Trio's run module, once it is known to have both private names, of the expected types."""
    try:
        run_module = importlib.import_module(_RUN_MODULE)
    except ImportError:
        raise SchedulerHookMissing(_missing(f"the module {_RUN_MODULE}")) from None
    switch = getattr(run_module, _SWITCH, None)
    if not isinstance(switch, bool):
        raise SchedulerHookMissing(_missing(f"a boolean {_RUN_MODULE}.{_SWITCH}"))
    if not isinstance(getattr(run_module, _GENERATOR, None), random.Random):
        raise SchedulerHookMissing(_missing(f"a random.Random at {_RUN_MODULE}.{_GENERATOR}"))
    return run_module


def _missing(what: str) -> str:
    return (
        f"trio {trio.__version__} has no {what}, which sharesim sets to make a seed fix the "
        "order of ready tasks. Install a trio within the range pyproject.toml pins, or "
        "check the new version with tests/actors/runtime/determinism before widening it."
    )


class SeededRandom:
    """Independent random streams derived from one seed, one per named purpose.

    Deriving by name (not by drawing from a shared stream) keeps streams stable:
    adding a latency draw does not shift which connection a fault later drops.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def stream(self, purpose: str) -> random.Random:
        if purpose not in self._streams:
            self._streams[purpose] = random.Random(f"{self.seed}/{purpose}")
        return self._streams[purpose]

    def token(self, purpose: str, nbytes: int = 16) -> str:
        """A hex token (ids, secrets) drawn from the stream for `purpose`."""
        return self.stream(purpose).randbytes(nbytes).hex()
