"""Expectations that state their deadline after the faults, or assume none; steps that wait."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.fault_plan import parse_plan
from scenarios.faults import FaultKind
from scenarios.runner import run_scenario
from scenarios.schema import Scenario, ScenarioError, load_scenario

ALL_FAULTS = frozenset(FaultKind)

SCENARIO = """\
name = "{name}"
description = "a remote orchestration watched from its run page"
duration = 120

[orchestrator]
name = "orchestrator"
location = "remote"

[[children]]
name = "researcher"
location = "remote"
spawn_at = 5

[[viewers]]
name = "viewer"
opens = "orchestrator"
join_at = 20

[[expect]]
profiles = ["hardened"]
viewer = "viewer"
pill_bar = true
{timing}
"""


def load(tmp_path: Path, timing: str, name: str = "timed") -> Scenario:
    path = tmp_path / f"{name}.toml"
    path.write_text(SCENARIO.replace("{name}", name).replace("{timing}", timing))
    return load_scenario(path)


def test_the_new_keys_load(tmp_path: Path) -> None:
    (after,) = load(tmp_path, "after_faults = 25", "after").expectations
    assert (after.after_faults, after.without_faults) == (25.0, False)
    (free,) = load(tmp_path, "without_faults = true", "free").expectations
    assert (free.after_faults, free.without_faults) == (None, True)


def test_a_check_cannot_both_assume_no_faults_and_wait_for_their_end(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, "after_faults = 25\nwithout_faults = true")
    assert caught.value.field == "expect[0].after_faults"


def test_without_faults_a_check_keeps_its_time(tmp_path: Path) -> None:
    scenario = load(tmp_path, "after_faults = 25")
    result = run_scenario(scenario, Profile.HARDENED)
    assert [check.at for check in result.expectations] == [120.0]


def test_under_faults_a_check_is_due_after_the_last_fault_can_act(tmp_path: Path) -> None:
    scenario = load(tmp_path, "after_faults = 25")
    result = run_scenario(scenario, Profile.HARDENED, seed=3, faults=ALL_FAULTS)
    (check,) = result.expectations
    # Drops come by 0.8 x 120 s and a partition ends by 0.7 x 120 + 30 s, whatever the seed.
    assert check.at == 114 + 25
    assert result.end_time >= check.at


def test_a_check_that_assumes_no_faults_is_made_only_without_them(tmp_path: Path) -> None:
    scenario = load(tmp_path, "without_faults = true")
    assert run_scenario(scenario, Profile.HARDENED).checked == 1
    faulty = run_scenario(scenario, Profile.HARDENED, seed=3, faults=ALL_FAULTS)
    assert faulty.checked == 0


def test_under_faults_a_viewer_opens_the_link_once_it_exists(tmp_path: Path) -> None:
    """The child's share is late behind a partition: the viewer opens it when it is up."""
    scenario = catalog.load("local-local-share-child")
    with capture_logs() as logs:
        result = run_scenario(scenario, Profile.HARDENED, seed=67, faults=ALL_FAULTS)
    assert result.passed, result.failures
    assert [e["step"] for e in logs if e["event"] == "step_waits"] == ["viewer opens researcher"]


def test_without_faults_a_step_that_cannot_be_done_fails_at_once(tmp_path: Path) -> None:
    text = SCENARIO.replace(
        'opens = "orchestrator"\njoin_at = 20', 'opens = "researcher"\njoin_at = 1'
    )
    path = tmp_path / "early.toml"
    path.write_text(text.replace("{name}", "early").replace("{timing}", ""))
    result = run_scenario(load_scenario(path), Profile.HARDENED)
    assert next((f.what, f.at) for f in result.failures) == (
        "viewer opens researcher: no agent named 'researcher'; known agents: orchestrator",
        1.0,
    )


def test_under_faults_a_cloud_agent_finishes_only_once_it_has_started() -> None:
    """A partition holds the reviewer's claim past its scripted finish: the finish waits."""
    scenario = catalog.load("child-finished-before-join")
    with capture_logs() as logs:
        result = run_scenario(scenario, Profile.HARDENED, seed=66, faults=ALL_FAULTS)
    assert result.passed, result.failures
    assert [e["step"] for e in logs if e["event"] == "step_waits"] == ["finish reviewer"]


def waits_under(scenario: str, seed: int, plan: str) -> list[str]:
    """The steps that waited in a hardened run of `scenario` under `plan`, which passes."""
    with capture_logs() as logs:
        result = run_scenario(
            catalog.load(scenario), Profile.HARDENED, seed=seed, fault_plan=parse_plan(plan)
        )
    assert result.passed, result.failures
    return [e["step"] for e in logs if e["event"] == "step_waits"]


def test_under_faults_a_link_is_copied_once_the_view_has_one() -> None:
    """Alice's run page is out of reach until 37.6 s: her copy at 40 s has nothing before."""
    waited = waits_under("copied-links", 277, "partition:alice>task-server@14.1..37.6")
    assert "copy-link alice" in waited


def test_under_faults_a_grandchild_is_spawned_once_its_parent_exists() -> None:
    """The lead's row is held back by a partition past the time its own children are due."""
    waited = waits_under("grandchildren", 532, "partition:orchestrator>task-server@3.8..19.4")
    assert waited[:1] == ["spawn scout"]


def test_under_faults_a_pill_is_selected_once_the_viewer_shows_it() -> None:
    """The viewer cannot list children until 48.4 s; its click at 40 s waits for the pill."""
    waited = waits_under("select-a-loading-child", 63, "partition:viewer>task-server@19..48.4")
    assert waited == ["select viewer"]
