"""A step its actor cannot take when it comes does nothing, and the run says so: it never
crashes an actor. What a file rules out is refused when it is read (test_step_timeline);
these steps are put in by hand to stand for what timing alone decides."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from actors.rules.profiles import Profile
from scenarios.cli import main
from scenarios.runner import RunResult, run_scenario
from scenarios.schema import Scenario, Step, StepKind, load_scenario

BASE = """\
name = "{name}"
description = "steps an actor may not be able to take when they come"
duration = 60

[orchestrator]
name = "orchestrator"
location = "local"
first_response_after = 10

[[children]]
name = "researcher"
location = "local"
spawn_at = 20

[[viewers]]
name = "viewer"
opens = "orchestrator"
join_at = 30

[[steps]]
at = 12
do = "share"
actor = "orchestrator"

[[expect]]
viewer = "viewer"
root = "loaded"
pill_bar = true
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    path = tmp_path / "timing.toml"
    path.write_text(BASE.replace("{name}", "timing"))
    return load_scenario(path)


def run_with(scenario: Scenario, *extra: Step, profile: Profile = Profile.CURRENT) -> RunResult:
    steps = tuple(sorted((*scenario.steps, *extra), key=lambda s: s.at))
    return run_scenario(dataclasses.replace(scenario, steps=steps), profile)


def reasons(result: RunResult) -> list[str]:
    return [f"{s.step}: {s.reason}" for s in result.skipped]


def test_finishing_before_the_run_exists_does_nothing(scenario: Scenario) -> None:
    result = run_with(scenario, Step(5.0, StepKind.FINISH, "orchestrator", line=40))
    assert result.passed, result.failures
    assert reasons(result) == [
        "finish orchestrator: orchestrator has no run yet (its first response has not come), "
        "so none ends"
    ]
    assert str(result.skipped[0]).startswith("5 s: finish orchestrator (line 40) did nothing")


def test_a_step_on_a_child_not_created_yet_does_nothing(scenario: Scenario) -> None:
    result = run_with(scenario, Step(15.0, StepKind.SHARE, "researcher"))
    assert result.passed, result.failures
    assert reasons(result) == [
        "share researcher: researcher does not exist yet: its run has not been created"
    ]


def test_sharing_a_child_that_inherited_a_share_does_nothing(scenario: Scenario) -> None:
    result = run_with(scenario, Step(40.0, StepKind.SHARE, "researcher"))
    assert result.passed, result.failures
    assert reasons(result) == ["share researcher: researcher is already sharing"]


def test_stopping_a_share_that_is_not_on_does_nothing(scenario: Scenario) -> None:
    """Before the change a user share does not cascade: the child never shares."""
    result = run_with(
        scenario, Step(40.0, StepKind.STOP_SHARING, "researcher"), profile=Profile.LEGACY
    )
    assert reasons(result) == ["stop-sharing researcher: researcher is not sharing"]
    assert not any("simulation error" in f.what for f in result.failures)


def test_mentioning_an_agent_without_a_run_does_nothing(scenario: Scenario) -> None:
    exchange = Step(15.0, StepKind.EXCHANGE, "orchestrator", "hi", mentions=("researcher",))
    result = run_with(scenario, exchange)
    assert result.passed, result.failures
    assert reasons(result) == [
        "exchange orchestrator: researcher has no run yet, so it cannot be mentioned"
    ]


def test_answering_when_no_role_request_waits_does_nothing(scenario: Scenario) -> None:
    result = run_with(scenario, Step(40.0, StepKind.ANSWER_ROLE, "orchestrator"))
    assert result.passed, result.failures
    assert reasons(result) == [
        "answer-role orchestrator: orchestrator has no role request waiting for an answer"
    ]


def test_cutting_off_a_viewer_not_there_yet_does_nothing(scenario: Scenario) -> None:
    result = run_with(scenario, Step(20.0, StepKind.DISCONNECT, "viewer"))
    assert result.passed, result.failures
    assert reasons(result) == ["disconnect viewer: viewer is not there yet"]


def test_a_skipped_step_is_in_the_json_and_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A timing that the file allows: the finish comes at the instant of the first
    response, before its run is created, so the run logs it as a step that did nothing."""
    path = tmp_path / "timing.toml"
    log = tmp_path / "log.jsonl"
    path.write_text(
        BASE.replace("{name}", "timing")
        + '\n[[steps]]\nat = 10\ndo = "finish"\nactor = "orchestrator"\n'
    )
    assert main(["run", str(path), "--json", "--log-json", str(log)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert [s["step"] for s in record["skipped_steps"]] == ["finish orchestrator"]
    assert record["skipped_steps"][0]["line"] == BASE.count("\n") + 2  # its [[steps]] line
    events = [json.loads(line) for line in log.read_text().splitlines()]
    skipped = [e for e in events if e["event"] == "step_skipped"]
    assert len(skipped) == 1
    assert skipped[0]["decision"] is True
