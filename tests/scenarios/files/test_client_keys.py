"""Scenario keys for the viewer as a client: kinds, copied links, what people do, roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.rules.viewer_client import ClientKind
from protocol.roles import Role
from scenarios.schema import ClientStep, StepKind, load_scenario

from .test_validation import GOOD, error_for, write

STEPS = """
[[viewers]]
name = "browser"
opens = "orchestrator"
join_at = 20
client = "web"
open_by = "run"

[[viewers]]
name = "friend"
link_from = "viewer"
join_at = 40

[[steps]]
at = 25
do = "select"
actor = "viewer"
pill = "researcher"

[[steps]]
at = 26
do = "copy-link"
actor = "viewer"

[[steps]]
at = 27
do = "prompt"
actor = "viewer"
target = "orchestrator"
text = "go on"

[[steps]]
at = 28
do = "pill-action"
actor = "browser"
pill = "researcher"
action = "cancel"

[[steps]]
at = 29
do = "request-role"
actor = "browser"
role = "executor"

[[steps]]
at = 30
do = "answer-role"
actor = "orchestrator"
approve = false

[[steps]]
at = 31
do = "handoff"
actor = "browser"
to = "native"

[[expect]]
viewer = "friend"
scope = "parent"
client = "native"
selected = "orchestrator"
shows = ["first response"]
visible_surfaces = 1
pill_actions = []
copied = "child"
actions = ["select researcher: done"]
roles = { orchestrator = "reader" }
"""


def test_the_client_keys_load_into_plain_data(tmp_path: Path) -> None:
    text = GOOD.replace('do = "share"', 'do = "share"\nlink_role = "full"') + STEPS
    scenario = load_scenario(write(tmp_path, text))
    browser, friend = scenario.viewers[1:]
    assert (browser.client, friend.client, friend.link_from, friend.opens) == (
        ClientKind.WEB,
        ClientKind.NATIVE,
        "viewer",
        "",
    )
    by_kind = {step.kind: step.client for step in scenario.steps}
    assert by_kind[StepKind.SHARE] == ClientStep(role=Role.FULL)
    assert by_kind[StepKind.SELECT].pill == "researcher"
    assert by_kind[StepKind.PROMPT].target == "orchestrator"
    assert by_kind[StepKind.PILL_ACTION] == ClientStep(pill="researcher", action="cancel")
    assert by_kind[StepKind.REQUEST_ROLE].role is Role.EXECUTOR
    assert by_kind[StepKind.ANSWER_ROLE].approve is False
    assert by_kind[StepKind.HANDOFF].to is ClientKind.NATIVE
    assert scenario.expectations[-1].checks["roles"] == {"orchestrator": "reader"}


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ('client = "web"', 'client = "tablet"', "viewers[1].client", "expected one of native, web"),
        ('open_by = "run"', 'open_by = "cloud-agent"', "viewers[1].open_by", "native only"),
        ('link_from = "viewer"', 'link_from = "nobody"', "viewers[2].link_from", "another viewer"),
        (
            'actor = "viewer"\npill',
            'actor = "orchestrator"\npill',
            "steps[1].actor",
            "only a viewer can select",
        ),
        ('pill = "researcher"\n\n', 'pill = "ghost"\n\n', "steps[1].pill", "an agent name"),
        ('role = "executor"', 'role = "boss"', "steps[5].role", "reader, executor or full"),
        ('to = "native"', 'to = "phone"', "steps[7].to", "native, web"),
        ('copied = "child"', 'copied = "sibling"', "expect[1].copied", "parent or child"),
        (
            'roles = { orchestrator = "reader" }',
            'roles = { orchestrator = "boss" }',
            "expect[1].roles",
            "reader",
        ),
        ('selected = "orchestrator"', 'selected = "ghost"', "expect[1].selected", "agent name"),
        (
            'action = "cancel"',
            'action = "explode"',
            "steps[4].action",
            "open-in-new-pane, open-in-new-tab, focus-pane, cancel, restart, message",
        ),
        ('to = "native"', 'to = "web"', "steps[7].to", "browser already uses the web client"),
        (
            'link_from = "viewer"',
            'link_from = "browser"',
            "viewers[2].link_from",
            "browser copies no link by 40 s",
        ),
    ],
)
def test_each_client_key_mistake_names_its_field(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    text = GOOD + STEPS
    assert old in text
    error = error_for(tmp_path, text.replace(old, new, 1))
    found = {problem.field: problem.message for problem in error.problems}
    assert field in found, found
    assert message in found[field]


def test_a_viewer_opens_an_agent_or_a_copied_link_not_both(tmp_path: Path) -> None:
    text = (GOOD + STEPS).replace(
        'link_from = "viewer"', 'link_from = "viewer"\nopens = "orchestrator"'
    )
    error = error_for(tmp_path, text)
    assert "give opens or link_from, not both" in str(error)
