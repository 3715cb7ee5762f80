"""Every simulation enters Trio through `run_seeded`, so every run is seeded and replays."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
#: The one entry point, and the places that run Trio in real time on purpose:
#: nothing they do is replayed, so there is no scheduler to seed.
ALLOWED = {
    "actors/runtime/simulation.py": "the entry point itself",
    "scenarios/cli/serve.py": "serves outside clients in real time",
    "benchmarks/attack.py": "measures a live server in real time",
}


def trio_run_calls(path: Path) -> list[int]:
    """Lines of `path` that call `trio.run(...)`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "run"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "trio"
    ]


def test_trio_run_is_called_only_by_the_entry_point_and_real_time_servers() -> None:
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for package in ("actors", "scenarios", "benchmarks", "protocol")
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in trio_run_calls(path)
        if str(path.relative_to(ROOT)) not in ALLOWED
    }
    assert found == set(), "call actors.runtime.simulation.run_seeded instead"


def test_the_check_sees_a_call() -> None:
    assert trio_run_calls(ROOT / "actors/runtime/simulation.py")
