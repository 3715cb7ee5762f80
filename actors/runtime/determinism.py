"""One seed for every random choice in a run, Trio's own scheduler included.

Trio runs each batch of ready tasks in a random order on purpose, and breaks
ties between equal deadlines by object address. Both would make two runs of the
same seed differ. Trio has a switch, used for its Hypothesis support, that
sorts each batch by task creation order and then shuffles it with a private
random generator; seeding that generator makes the schedule a function of the
seed. The private names are touched here and nowhere else.
"""

from __future__ import annotations

import random

import trio._core._run as _trio_run


def seed_scheduler(seed: int) -> None:
    """Make Trio's ready-task order depend only on `seed` for the next `trio.run`."""
    _trio_run._ALLOW_DETERMINISTIC_SCHEDULING = True  # type: ignore[misc]
    _trio_run._r.seed(seed)


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
