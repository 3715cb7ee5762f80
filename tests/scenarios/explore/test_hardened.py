"""Each hole sharesim finds in the follow-ups, and the hardened switch that closes it.

A hole is shown by a seed on which `followups` breaks an expectation; the same
seed passes with the one switch that closes it turned on alone, and under
`hardened`. The seeds are searched for (within a bound), not fixed, so a change
elsewhere that moves the schedule does not turn a test into one that cannot fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.expectations import Mismatch
from scenarios.fault_plan import parse_plan
from scenarios.faults import FaultKind
from scenarios.runner import RunResult, Verdict, run_scenario
from scenarios.schema import Scenario, load_scenario

ALL_FAULTS = frozenset(FaultKind)


def first_failing(scenario: Scenario, seeds: range, decision: str) -> tuple[int, RunResult]:
    """The first seed on which `followups` fails after the viewer logged `decision`."""
    for seed in seeds:
        with capture_logs() as logs:
            result = run_scenario(scenario, Profile.FOLLOWUPS, seed=seed, faults=ALL_FAULTS)
        if not result.passed and any(e["event"] == decision for e in logs):
            return seed, result
    raise AssertionError(f"no seed in {seeds} shows the hole ({decision}) under followups")


def with_switch(scenario: Scenario, seed: int | None, switch: str) -> RunResult:
    """`followups` with one switch on, on `seed` with all faults (None: no faults, seed 0)."""
    faults = frozenset() if seed is None else ALL_FAULTS
    return run_scenario(
        scenario, Profile.FOLLOWUPS, seed=seed or 0, faults=faults, settings={switch: True}
    )


def test_children_streamed_before_the_parent_conversation_are_lost_without_the_switch() -> None:
    scenario = catalog.load("share-around-first-response")
    seed, failed = first_failing(scenario, range(40), "children_skipped")
    assert any(m.key == "pill_bar" for f in failed.failures for m in f.mismatches)
    assert with_switch(scenario, seed, "register_skipped_children").passed
    hardened = run_scenario(scenario, Profile.HARDENED, seed=seed, faults=ALL_FAULTS)
    assert hardened.passed, hardened.failures


def test_a_name_lookup_lost_to_the_network_is_tried_again_only_with_the_switch() -> None:
    scenario = catalog.load("local-local-share-child")
    seed, failed = first_failing(scenario, range(40), "names_unavailable")
    assert any(m.key == "names" for f in failed.failures for m in f.mismatches)
    assert with_switch(scenario, seed, "retry_name_lookup").passed
    hardened = run_scenario(scenario, Profile.HARDENED, seed=seed, faults=ALL_FAULTS)
    assert hardened.passed, hardened.failures


def test_a_viewer_away_during_the_push_gets_the_task_id_only_when_it_is_replayed() -> None:
    scenario = catalog.load("viewer-away-during-task-id-push")
    assert run_scenario(scenario, Profile.FOLLOWUPS).verdict is Verdict.HOLE  # as the file says
    without = {"replay_source_task_id_on_rejoin": False}
    hole = run_scenario(scenario, Profile.HARDENED, settings=without)
    assert [m.key for f in hole.failures for m in f.mismatches] == ["pill_bar", "pills", "loaded"]
    assert run_scenario(scenario, Profile.HARDENED).passed


LATE_SIBLING = """\
name = "late-sibling"
description = "a sibling spawns after the child link's viewer joined, then is mentioned"
duration = 90

[orchestrator]
name = "orchestrator"
location = "remote"
title = "Plan the release"

[[children]]
name = "researcher"
location = "remote"
spawn_at = 5

[[children]]
name = "writer"
location = "remote"
spawn_at = 30

[[viewers]]
name = "viewer"
opens = "researcher"
join_at = 10

[[steps]]
at = 15
do = "exchange"
actor = "researcher"
text = "reading the sources"

[[steps]]
at = 40
do = "exchange"
actor = "researcher"
text = "sending my notes to writer"
mentions = ["writer"]

[[expect]]
profiles = ["followups", "hardened"]
viewer = "viewer"
names = { writer = "writer" }
"""


def test_a_sibling_named_after_the_one_lookup_resolves_only_when_mentions_ask_again(
    tmp_path: Path,
) -> None:
    """No faults needed: the follow-up looks names up once, when the child link learns it
    shows a child (the first exchange, at 15 s), before the writer exists."""
    path = tmp_path / "late-sibling.toml"
    path.write_text(LATE_SIBLING)
    scenario = load_scenario(path)
    hole = run_scenario(scenario, Profile.FOLLOWUPS)
    assert [(m.key, m.observed) for f in hole.failures for m in f.mismatches] == [
        ("names", {"writer": "Unknown agent"})
    ]
    assert with_switch(scenario, None, "look_up_unknown_mentions").passed
    assert run_scenario(scenario, Profile.HARDENED).passed


def test_a_child_created_after_the_one_shot_catch_up_is_shared_only_when_the_host_rereads() -> None:
    """The create-time race: the row comes back after the catch-up ran, the child unshared."""
    scenario = catalog.load("share-while-spawning")
    seed, failed = first_failing(scenario, range(20), "catch_up_share")
    assert any(m.key == "loaded" for f in failed.failures for m in f.mismatches)
    assert with_switch(scenario, seed, "reread_host_share_on_child_created").passed
    hardened = run_scenario(scenario, Profile.HARDENED, seed=seed, faults=ALL_FAULTS)
    assert hardened.passed, hardened.failures


def test_a_link_the_gate_refused_before_the_claim_is_reported_again_only_with_the_switch() -> None:
    scenario = catalog.load("share-while-spawning")
    rereads = {"reread_host_share_on_child_created": True}
    for seed in range(30):
        with capture_logs() as logs:
            result = run_scenario(
                scenario, Profile.FOLLOWUPS, seed=seed, faults=ALL_FAULTS, settings=rereads
            )
        refused = [e for e in logs if e["event"] == "session_link_refused"]
        if not result.passed and any("QUEUED" in str(e["reason"]) for e in refused):
            break
    else:
        raise AssertionError("no seed in range(30) shows a link refused before the claim")
    both = {**rereads, "report_link_again_after_claim": True}
    fixed = run_scenario(scenario, Profile.FOLLOWUPS, seed=seed, faults=ALL_FAULTS, settings=both)
    assert fixed.passed, fixed.failures


def test_children_created_out_of_spawn_order_keep_their_pill_order_only_when_serialized() -> None:
    """Pills follow spawn order (the web pill-bar spec, 7 and 38), but the task server
    lists rows in the order they were created, and retried creates arrive in any order."""
    scenario = catalog.load("child-launch-failure")
    for seed in range(40):
        result = run_scenario(scenario, Profile.FOLLOWUPS, seed=seed, faults=ALL_FAULTS)
        if any(_reordered_pills(m) for f in result.failures for m in f.mismatches):
            break
    else:
        raise AssertionError("no seed in range(40) creates the children out of spawn order")
    fixed = with_switch(scenario, seed, "create_children_in_spawn_order")
    assert not [m for f in fixed.failures for m in f.mismatches if m.key == "pills"]
    hardened = run_scenario(scenario, Profile.HARDENED, seed=seed, faults=ALL_FAULTS)
    assert hardened.passed, hardened.failures


def _reordered_pills(mismatch: Mismatch) -> bool:
    """The viewer shows the expected pills, every one of them, in another order."""
    seen, expected = mismatch.observed, mismatch.expected
    return (
        mismatch.key == "pills"
        and isinstance(seen, list | tuple)
        and isinstance(expected, list | tuple)
        and list(seen) != list(expected)
        and sorted(map(str, seen)) == sorted(map(str, expected))
    )


#: A partition that holds back the orchestrator's child rows until after the first
#: child was due to finish; shrunk from seed 187 of `explore`, with all faults.
LATE_ROWS = "latency:0.01+exp(0.03125); partition:orchestrator>task-server@0.1..22"


def test_a_child_that_finished_before_its_link_arrived_loads_only_when_the_gate_takes_it() -> None:
    scenario = catalog.load("child-finished-before-join")
    plan = parse_plan(LATE_ROWS)

    def run(profile: Profile, settings: dict[str, bool] | None = None) -> RunResult:
        return run_scenario(scenario, profile, seed=187, fault_plan=plan, settings=settings)

    with capture_logs() as logs:
        hole = run(Profile.FOLLOWUPS)
    assert "loaded" in [m.key for f in hole.failures for m in f.mismatches]
    assert any(
        e["event"] == "session_link_refused" and "it is SUCCEEDED" in str(e["reason"]) for e in logs
    )
    fixed = run(Profile.FOLLOWUPS, {"accept_first_link_after_finish": True})
    assert "loaded" not in [m.key for f in fixed.failures for m in f.mismatches]
    assert run(Profile.HARDENED).passed


def test_a_viewer_away_while_children_appear_keeps_spawn_order_only_by_creation() -> None:
    """Rows created in spawn order, but the viewer is away when the first appears and
    meets both in the replay, which lists the researcher last: it finished since."""
    scenario = catalog.load("push-child-discovery")
    plan = parse_plan("partition:orchestrator>task-server@3.4..29.3")

    def pills_wrong(settings: dict[str, bool]) -> bool:
        result = run_scenario(
            scenario, Profile.FOLLOWUPS, seed=148, fault_plan=plan, settings=settings
        )
        return any(_reordered_pills(m) for f in result.failures for m in f.mismatches)

    assert pills_wrong({"create_children_in_spawn_order": True})
    assert not pills_wrong(
        {"create_children_in_spawn_order": True, "order_pills_by_creation": True}
    )
    assert run_scenario(scenario, Profile.HARDENED, seed=148, fault_plan=plan).passed


def test_a_poll_answered_after_the_exchange_it_missed_polls_again_only_with_the_switch() -> None:
    """The viewer's join is late; its second fetch leaves just before the child's row is
    made and its empty answer comes after the exchange announcing the child."""
    scenario = catalog.load("pushed-task-id-polled-children")
    plan = parse_plan(
        "latency:0.01+exp(0.25); drop:orchestrator>session-server@5.3; "
        "partition:viewer>session-server@5.6..16.3"
    )
    hole = run_scenario(scenario, Profile.FOLLOWUPS, seed=518, fault_plan=plan)
    assert "pill_bar" in [m.key for f in hole.failures for m in f.mismatches]
    settings = {"poll_after_speech_during_fetch": True}
    assert run_scenario(
        scenario, Profile.FOLLOWUPS, seed=518, fault_plan=plan, settings=settings
    ).passed
    assert run_scenario(scenario, Profile.HARDENED, seed=518, fault_plan=plan).passed


def test_the_link_reported_again_after_the_claim_is_the_live_shares() -> None:
    """The writer's first share is stopped and a second started while its run is queued
    behind a partition; the refusal of the first share's link comes back last."""
    scenario = catalog.load("stop-cascade-ends-a-reshared-child")
    plan = parse_plan("partition:orchestrator/writer>task-server@6.8..32.6")
    # The update queue sends the link only after the claim: the refusal never happens.
    unqueued = {"serialize_run_updates": False}
    with capture_logs() as logs:
        result = run_scenario(
            scenario, Profile.HARDENED, seed=186, fault_plan=plan, settings=unqueued
        )
    assert result.passed, result.failures
    shares = [e["session_id"] for e in logs if e["event"] == "share_established"]
    again = [e["session_id"] for e in logs if e["event"] == "session_link_reported_again"]
    assert again == [shares[-1]]


#: A share stopped and started again while the writer's task-server link is down, by
#: the switch that closes what goes wrong: the stopped share's link report lands last
#: and overwrites the live one; or the run page opens while the row still names the
#: stopped share (the new link held back until 52.7 s) and finds no session.
RESHARED_WHILE_CUT_OFF = [
    (
        "abandon_link_reports_of_ended_shares",
        728,
        "latency:0.01+exp(0.25); partition:orchestrator/writer>task-server@11.6..28.3",
    ),
    ("reread_run_after_failed_join", 554, "partition:orchestrator/writer>task-server@22.9..52.7"),
]


@pytest.mark.parametrize(("switch", "seed", "plan"), RESHARED_WHILE_CUT_OFF)
def test_a_reshared_child_cut_off_from_the_task_server_loads_only_with_the_switch(
    switch: str, seed: int, plan: str
) -> None:
    scenario = catalog.load("stop-cascade-ends-a-reshared-child")

    def run(settings: dict[str, bool]) -> RunResult:
        return run_scenario(
            scenario, Profile.HARDENED, seed=seed, fault_plan=parse_plan(plan), settings=settings
        )

    # The update queue would keep the reports in order: here each switch acts alone.
    unqueued = {"serialize_run_updates": False}
    hole = run({**unqueued, switch: False})
    assert [(m.key, m.observed) for f in hole.failures for m in f.mismatches] == [
        ("root", "unavailable")
    ]
    assert run(unqueued).passed


def test_a_run_page_reads_a_stopped_share_again_a_bounded_number_of_times(tmp_path: Path) -> None:
    """Without faults a share stopped for good leaves the row naming it: the page reads
    the run again a few times, then shows it unavailable and asks nothing more."""
    text = catalog.resolve("stop-share-cascade").read_text()
    path = tmp_path / "stop-share-cascade.toml"
    path.write_text(text.replace("duration = 120", "duration = 600"))
    scenario = load_scenario(path)
    followups = run_scenario(scenario, Profile.FOLLOWUPS)
    hardened = run_scenario(scenario, Profile.HARDENED)
    assert hardened.passed, hardened.failures
    # A minute of reads, one every 5 s; unbounded it would be about 110 in 600 s.
    assert hardened.task_requests - followups.task_requests <= 13


#: The researcher's claim is held back by a partition past its scripted finish at 20 s.
FINISH_BEFORE_CLAIM = (
    "latency:0.01+exp(0.25); drop@9.43; partition:orchestrator/researcher>task-server@2.37..25.18"
)


def test_a_local_finish_that_overtakes_the_claim_is_held_back_only_by_the_update_queue() -> None:
    """A local agent works at once, claimed or not; its claim and its finish are retried
    on their own schedules, and a finish that lands first leaves a run that never started."""
    scenario = catalog.load("child-finished-before-join")
    plan = parse_plan(FINISH_BEFORE_CLAIM)

    def run(settings: dict[str, bool]) -> RunResult:
        return run_scenario(scenario, Profile.HARDENED, seed=37, fault_plan=plan, settings=settings)

    hole = run({"serialize_run_updates": False})
    assert "loaded" in [m.key for f in hole.failures for m in f.mismatches]
    assert run({}).passed
