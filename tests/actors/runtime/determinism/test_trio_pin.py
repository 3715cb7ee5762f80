"""The Trio these tests prove deterministic is one the package's pin allows."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[4] / "pyproject.toml"


def test_the_installed_trio_is_inside_the_pin_and_the_pin_is_capped() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    [trio] = [Requirement(d) for d in dependencies if Requirement(d).name == "trio"]
    assert any(spec.operator == "<" for spec in trio.specifier), f"{trio} has no upper bound"
    assert trio.specifier.contains(version("trio")), f"trio {version('trio')} is outside {trio}"
