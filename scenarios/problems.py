"""What broke in a run, named so that two runs can be said to break the same thing.

A problem is an invariant broken by an actor, an expectation of a viewer
that did not hold, or a step that could not be carried out, without the
details that vary from run to run (times of the breach, values seen). A
shrunk schedule must still break the same problem, and findings group
failing seeds by it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from scenarios.runner import RunResult


class ProblemKind(enum.Enum):
    INVARIANT = "invariant"
    EXPECTATION = "expectation"
    #: A step of the timeline that could not be carried out (or the simulation crashed).
    STEP = "step"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing a run broke: which invariant, expectation or step, and whose."""

    kind: ProblemKind
    #: The invariant's name, the expectation's time and line, or the step.
    what: str
    #: The actor that broke the invariant or the viewer of the expectation; empty for a step.
    actor: str = ""

    def __str__(self) -> str:
        if self.kind is ProblemKind.INVARIANT:
            return f"invariant {self.what} broken by {self.actor}"
        if self.kind is ProblemKind.EXPECTATION:
            return f"expectation {self.actor} {self.what}"
        return f"step {self.what!r} could not be carried out"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "what": self.what, "actor": self.actor}


def problems_of(result: RunResult) -> tuple[Problem, ...]:
    """A problem per broken invariant, then per failure, in order: one per line of
    `SeedOutcome.problems` (a step may fail more than once)."""
    found = [Problem(ProblemKind.INVARIANT, v.invariant, v.actor) for v in result.violations]
    unheld = iter([e for e in result.expectations if not e.held])
    for failure in result.failures:
        if failure.mismatches:
            # A failure with mismatches is the next expectation that did not hold.
            checked = next(unheld)
            line = f" (line {checked.line})" if checked.line else ""
            found.append(
                Problem(ProblemKind.EXPECTATION, f"at {checked.at:g} s{line}", checked.viewer)
            )
        else:
            step = failure.what.split(": ", 1)[0]
            found.append(Problem(ProblemKind.STEP, step))
    return tuple(found)
