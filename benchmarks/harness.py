"""What every benchmark shares: wall time, peak memory, and the figures and verdict it reports.

Figures are only ever compared with a baseline measured in the same process,
right beside the code under test, so a busy or slow machine moves both sides.
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

Figure = float | int | str | list[int] | dict[str, float] | dict[str, int]


@dataclass(frozen=True, slots=True)
class Check:
    """One target of the issue, judged on the figures of a full-size run."""

    label: str
    met: bool


@dataclass
class BenchResult:
    """One benchmark's figures, keyed as the `--json` output names them."""

    name: str
    figures: dict[str, Figure]
    checks: list[Check] = field(default_factory=list)

    @property
    def missed(self) -> list[Check]:
        return [check for check in self.checks if not check.met]

    def to_json(self) -> str:
        return json.dumps({"name": self.name, **self.figures}, sort_keys=False)


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def at_least(label: str, value: float, limit: float) -> Check:
    return Check(f"{label} >= {limit:g} (measured {value:.3g})", value >= limit)


def at_most(label: str, value: float, limit: float) -> Check:
    return Check(f"{label} <= {limit:g} (measured {value:.3g})", value <= limit)


def fastest(fn: Callable[[], float], rounds: int = 3) -> float:
    """The fastest of `rounds` runs, the one least disturbed by anything else on the machine."""
    return min(fn() for _ in range(rounds))


def best_of(
    measured: Callable[[], float], baseline: Callable[[], float], rounds: int = 3
) -> tuple[float, float]:
    """The fastest of `rounds` alternating runs of each side, in seconds.

    Alternating keeps a burst of load on the machine from landing on one side only;
    the fastest run is the one least disturbed by anything else.
    """
    measured_s, baseline_s = [], []
    for _ in range(rounds):
        measured_s.append(measured())
        baseline_s.append(baseline())
    return min(measured_s), min(baseline_s)
