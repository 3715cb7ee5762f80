"""The annotated example in the README is a real scenario that loads and passes."""

from __future__ import annotations

import re
from pathlib import Path

from actors.rules.profiles import Profile
from scenarios import report
from scenarios.runner import run_scenario
from scenarios.schema import load_scenario

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_example_runs_and_passes(tmp_path: Path) -> None:
    section = README.read_text().split("## Writing a scenario", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README's scenario example is missing"
    path = tmp_path / "my-scenario.toml"
    path.write_text(block.group(1))
    scenario = load_scenario(path)
    for profile in (Profile.CURRENT, Profile.FOLLOWUPS):
        result = run_scenario(scenario, profile)
        assert result.checked == 1
        assert result.passed, report.failures(result)


def test_the_readme_client_keys_are_real_keys(tmp_path: Path) -> None:
    """The second example adds viewer-client keys to the first; together they load."""
    section = README.read_text().split("## Writing a scenario", 1)[1]
    first, second = re.findall(r"```toml\n(.*?)```", section, re.DOTALL)[:2]
    path = tmp_path / "my-scenario.toml"
    path.write_text(first + second)
    scenario = load_scenario(path)
    assert [v.name for v in scenario.viewers] == ["viewer", "browser", "friend"]
    assert len(scenario.expectations) == 2
