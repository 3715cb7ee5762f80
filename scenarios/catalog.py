"""Finding scenarios: the bundled topology and edge files, or any file by path."""

from __future__ import annotations

import difflib
from pathlib import Path

from scenarios.schema import Scenario, ScenarioError, load_scenario

HERE = Path(__file__).resolve().parent
#: Bundled scenario folders, in the order `list` and `run --all` show them.
FOLDERS = ("topologies", "edge")


def bundled_paths() -> list[Path]:
    return [path for folder in FOLDERS for path in sorted((HERE / folder).glob("*.toml"))]


def load_all() -> list[Scenario]:
    return [load_scenario(path) for path in bundled_paths()]


def resolve(reference: str) -> Path:
    """A scenario name (`local-local-share-parent`, `edge/mixed-children`) or a file path."""
    as_path = Path(reference)
    if as_path.suffix == ".toml" or as_path.exists():
        if not as_path.is_file():
            raise ScenarioError(reference, "no such scenario file")
        return as_path
    stem = reference.split("/")[-1]
    matches = [path for path in bundled_paths() if path.stem == stem]
    if not matches:
        stems = [path.stem for path in bundled_paths()]
        close = difflib.get_close_matches(stem, stems, n=1)
        if close:
            raise ScenarioError(reference, f"no scenario of that name; did you mean {close[0]}?")
        raise ScenarioError(
            reference, f"no scenario of that name; known scenarios: {', '.join(stems)}"
        )
    return matches[0]


def load(reference: str) -> Scenario:
    return load_scenario(resolve(reference))
