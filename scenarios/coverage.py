"""Which of the product spec's behaviours (1-49) a scenario or a test covers, at a glance.

A scenario names its behaviours in its `behaviours` list; a test names them with
`@pytest.mark.behaviour(N, ...)` (on the test, its class, or `pytestmark` for a whole
module). The tests are read, not run: their source is parsed for the marker, so the
listing costs no more than loading the scenarios. What the model cannot reach at all,
or reaches only in part, and what the shipped system breaks, is said here once, with
the reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scenarios.schema import Scenario

#: The product spec's numbered behaviours.
BEHAVIOURS = range(1, 50)
#: The test suite whose markers are read, beside the scenarios package.
TESTS = Path(__file__).resolve().parent.parent / "tests"

#: Behaviours the model cannot reach at all, and why. None today; kept so that a gap
#: can be declared honestly rather than left to look covered.
OUT_OF_REACH: dict[int, str] = {}

#: Parts of covered behaviours the model leaves out, and why.
PARTLY_OUT_OF_REACH: dict[int, str] = {
    22: "only the pane-management subset differs: pill rendering (avatars, hover cards, "
    "overflow clipping) is visual and has no protocol trace",
    23: "the initial selected-conversation sync rides on UniversalDeveloperInputContext, "
    "which sharesim does not carry",
    26: "agent references are resolved in exchanges; the client's block kinds "
    "(send-message, received-message, lifecycle cards) are not told apart",
    43: "participant presence (ParticipantListUpdated, ParticipantPresenceUpdated) is not "
    "modelled: the participant list is a placeholder on the wire",
}

#: Behaviours the shipped system breaks, and where a scenario shows it: under `current`
#: the scenario expects what the shipped code does, so its listing must not read as proof.
AGAINST_AS_SHIPPED: dict[int, str] = {
    10: "link-only-viewer: a holder of the parent link outside the owner's team is shown "
    "no child through it (the task server lists no run for them)",
    28: "children-ended-before-share: the caught-up shares of ended children are refused "
    "a session link, so their pills stay loading",
    37: "link-only-viewer: a holder of the parent link outside the owner's team cannot "
    "inspect the direct children without their own access",
    41: "share-roles, request-access: a child pane joins with the child's secret only, so "
    "its role is the child link's, never capped at the parent's",
}

_MARKER = "behaviour"


@dataclass(frozen=True, slots=True)
class Coverage:
    """One behaviour: the scenarios and tests that name it, or why nothing can."""

    number: int
    scenarios: tuple[str, ...]
    tests: tuple[str, ...]
    out_of_reach: str | None = None
    partly: str | None = None
    against: str | None = None

    @property
    def covered(self) -> bool:
        return bool(self.scenarios or self.tests)


def coverage(scenarios: Iterable[Scenario], tests: dict[int, list[str]]) -> list[Coverage]:
    """Every behaviour 1-49 with what covers it; `tests` as `marked_tests` gives."""
    by_number: dict[int, list[str]] = {n: [] for n in BEHAVIOURS}
    for scenario in scenarios:
        for number in scenario.behaviours:
            if number in by_number:
                by_number[number].append(f"{scenario.path.parent.name}/{scenario.name}")
    return [
        Coverage(
            number,
            tuple(by_number[number]),
            tuple(tests.get(number, ())),
            OUT_OF_REACH.get(number),
            PARTLY_OUT_OF_REACH.get(number),
            AGAINST_AS_SHIPPED.get(number),
        )
        for number in BEHAVIOURS
    ]


def marked_tests(root: Path) -> dict[int, list[str]]:
    """`path::test` for every test under `root` marked with the behaviours it pins down."""
    found: dict[int, list[str]] = {}
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(root.parent).as_posix()
        for name, numbers in _marked(tree):
            for number in numbers:
                found.setdefault(number, []).append(f"{where}::{name}")
    return found


def _marked(tree: ast.Module) -> Iterable[tuple[str, tuple[int, ...]]]:
    """(test or scope name, behaviours) for each marked test, class or module."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            values = node.value.elts if isinstance(node.value, ast.List) else [node.value]
            numbers = _numbers(values)
            if numbers:
                yield "(module)", numbers
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            numbers = _numbers(node.decorator_list)
            if numbers:
                yield node.name, numbers


def _numbers(decorators: Sequence[ast.expr]) -> tuple[int, ...]:
    """The behaviour numbers in `pytest.mark.behaviour(...)` decorators."""
    numbers: list[int] = []
    for decorator in decorators:
        if not isinstance(decorator, ast.Call):
            continue
        func = decorator.func
        if isinstance(func, ast.Attribute) and func.attr == _MARKER:
            numbers += [
                arg.value
                for arg in decorator.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, int)
            ]
    return tuple(numbers)


def uncovered(rows: Iterable[Coverage]) -> list[int]:
    """Behaviours neither covered nor declared out of reach: gaps to close."""
    return [row.number for row in rows if not row.covered and row.out_of_reach is None]


def render(rows: Iterable[Coverage]) -> str:
    """One block per behaviour: what covers it, or why nothing can, and any part left out."""
    lines: list[str] = []
    for row in rows:
        head = f"{row.number:>2}  "
        if row.out_of_reach is not None:
            lines.append(f"{head}out of reach: {row.out_of_reach}")
            continue
        if not row.covered:
            lines.append(f"{head}NOT COVERED")
            continue
        parts = [*row.scenarios, *row.tests]
        lines.append(head + parts[0])
        lines += [f"    {part}" for part in parts[1:]]
        if row.partly is not None:
            lines.append(f"    in part out of reach: {row.partly}")
        if row.against is not None:
            lines.append(f"    against behaviour {row.number} as shipped: {row.against}")
    return "\n".join(lines)
