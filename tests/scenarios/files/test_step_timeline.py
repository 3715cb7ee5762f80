"""Steps the file's own timeline rules out are refused when it is read, with their line:
an actor that does not exist yet, a run that has not started or already ended, a share
still on, a connection not cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.schema import load_scenario
from tests.scenarios.files.test_validation import error_for, write

BASE = """\
name = "{name}"
description = "steps on actors that may not be able to take them"
duration = 120

[orchestrator]
name = "orchestrator"
location = "local"
first_response_after = 10

[[children]]
name = "researcher"
location = "local"
spawn_at = 20

[[children]]
name = "reviewer"
location = "remote"
spawn_at = 21

[[children]]
name = "broken"
location = "local"
spawn_at = 22
launch_fails = true

[[viewers]]
name = "viewer"
opens = "orchestrator"
join_at = 30

[[expect]]
viewer = "viewer"
root = "loaded"
"""


def steps(*entries: tuple[float, str, str]) -> str:
    return BASE + "".join(
        f'\n[[steps]]\nat = {at}\ndo = "{do}"\nactor = "{actor}"\n' for at, do, actor in entries
    )


def line_of_step(text: str, index: int, key: str) -> int:
    """The line of `key` in the index-th [[steps]] table."""
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines) if line == "[[steps]]"]
    start = headers[index]
    return next(n for n in range(start, len(lines)) if lines[n].startswith(f"{key} =")) + 1


@pytest.mark.parametrize(
    ("entries", "index", "key", "message"),
    [
        pytest.param(
            [(5, "finish", "orchestrator")],
            0,
            "at",
            "orchestrator has no run before its first response at 10 s, so it cannot finish at 5 s",
            id="finish-before-first-response",
        ),
        pytest.param(
            [(40, "finish", "researcher"), (50, "finish", "researcher")],
            1,
            "do",
            "researcher already finished by the step at line ",
            id="finish-twice",
        ),
        pytest.param(
            [(40, "finish", "broken")],
            0,
            "actor",
            "broken's launch fails (launch_fails = true): it never runs to finish",
            id="launch-failed-child",
        ),
        pytest.param(
            [(15, "share", "researcher")],
            0,
            "at",
            "researcher is spawned at 20 s and exists once its run is created, "
            "so it cannot share at 15 s",
            id="child-before-spawn",
        ),
        pytest.param(
            [(20, "stop-sharing", "researcher")],
            0,
            "at",
            "researcher is spawned at 20 s",
            id="child-at-its-spawn",
        ),
        pytest.param(
            [(40, "share", "reviewer")],
            0,
            "actor",
            "reviewer runs in the cloud, where it is shared (as AmbientAgent) as soon as it runs",
            id="share-a-cloud-child",
        ),
        pytest.param(
            [(3, "share", "orchestrator"), (40, "share", "orchestrator")],
            1,
            "do",
            "orchestrator is already shared by the step at line ",
            id="share-twice",
        ),
        pytest.param(
            [(40, "stop-sharing", "orchestrator")],
            0,
            "do",
            "orchestrator is not sharing at 40 s: no share step started one",
            id="stop-an-orchestrator-never-shared",
        ),
        pytest.param(
            [
                (3, "share", "orchestrator"),
                (8, "stop-sharing", "orchestrator"),
                (9, "stop-sharing", "orchestrator"),
            ],
            2,
            "do",
            "orchestrator is not sharing at 9 s",
            id="stop-twice",
        ),
        pytest.param(
            [(30, "disconnect", "viewer")],
            0,
            "at",
            "viewer opens its link at 30 s (a step at the same time comes first), "
            "so it cannot be disconnected at 30 s",
            id="viewer-before-it-joins",
        ),
        pytest.param(
            [(40, "reconnect", "viewer")],
            0,
            "do",
            "viewer is not disconnected at 40 s: no disconnect step before",
            id="reconnect-without-disconnect",
        ),
        pytest.param(
            [(40, "disconnect", "viewer"), (50, "disconnect", "viewer")],
            1,
            "do",
            "viewer is already disconnected by the step at line ",
            id="disconnect-twice",
        ),
        pytest.param(
            [(40, "share", "viewer")],
            0,
            "actor",
            "'viewer' is a viewer; only an agent can share (orchestrator, researcher, reviewer, "
            "broken)",
            id="viewer-for-an-agent-step",
        ),
    ],
)
def test_a_step_its_actor_cannot_take_is_refused_at_its_line(
    tmp_path: Path,
    entries: list[tuple[float, str, str]],
    index: int,
    key: str,
    message: str,
) -> None:
    text = steps(*entries)
    error = error_for(tmp_path, text)
    assert error.field == f"steps[{index}].{key}"
    assert error.line == line_of_step(text, index, key)
    assert message in error.message


def test_a_mention_of_a_child_not_spawned_yet_is_refused(tmp_path: Path) -> None:
    text = BASE + (
        '\n[[steps]]\nat = 15\ndo = "exchange"\nactor = "orchestrator"\ntext = "t"\n'
        'mentions = ["researcher"]\n'
    )
    error = error_for(tmp_path, text)
    assert error.field == "steps[0].mentions"
    assert "researcher is spawned at 20 s, so at 15 s it has no run to mention" in error.message


def test_a_child_spawned_before_the_first_response_is_refused(tmp_path: Path) -> None:
    error = error_for(tmp_path, BASE.replace("spawn_at = 20", "spawn_at = 5"))
    assert error.field == "children[0].spawn_at"
    assert error.line == 13
    assert (
        "orchestrator spawns children from its responses and its first response is at 10 s, "
        "so researcher cannot be spawned at 5 s" in error.message
    )


def test_a_cloud_orchestrator_answers_at_once(tmp_path: Path) -> None:
    text = BASE.replace(
        'location = "local"\nfirst_response_after', 'location = "remote"\nfirst_response_after'
    )
    text = text.replace("spawn_at = 20", "spawn_at = 5")
    scenario = load_scenario(
        write(tmp_path, text + '\n[[steps]]\nat = 6\ndo = "finish"\nactor = "orchestrator"\n')
    )
    assert scenario.children[0].spawn_at == 5


def test_what_the_timeline_allows_loads(tmp_path: Path) -> None:
    text = steps(
        (3, "share", "orchestrator"),
        (40, "stop-sharing", "researcher"),  # may have inherited the orchestrator's share
        (50, "stop-sharing", "orchestrator"),
        (60, "share", "orchestrator"),
        (61, "disconnect", "viewer"),
        (62, "reconnect", "viewer"),
        (63, "disconnect", "viewer"),
        (70, "finish", "orchestrator"),
        (71, "finish", "researcher"),
        (72, "finish", "reviewer"),
    )
    assert len(load_scenario(write(tmp_path, text)).steps) == 10


def test_every_impossible_step_is_reported_at_once(tmp_path: Path) -> None:
    text = steps((5, "finish", "orchestrator"), (40, "reconnect", "viewer"))
    error = error_for(tmp_path, text)
    assert [p.field for p in error.problems] == ["steps[0].at", "steps[1].do"]
