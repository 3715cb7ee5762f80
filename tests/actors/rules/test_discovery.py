"""The viewer's child-discovery poller, its push alternative, and the discovery gate."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.rules import (
    STATUS_POLL_INTERVAL_IDLE_S,
    STATUS_POLL_INTERVAL_S,
    ArmTimer,
    CancelTimer,
    DiscoveryEffect,
    DiscoveryPoller,
    Fetch,
    MaterializeChild,
    Profile,
    PushDiscovery,
    RegisterChild,
    UpdateStatus,
    discovery_task_id,
)
from protocol.runs import RunRecord, RunState
from protocol.source import AmbientAgent, SessionSourceType, User

from .factories import ORCH, make_run

CURRENT = Profile.CURRENT.switches()
LEGACY = Profile.LEGACY.switches()
DONE = RunState.SUCCEEDED


def _poller(profile: Profile = Profile.CURRENT) -> DiscoveryPoller:
    return DiscoveryPoller(ORCH, profile.switches())


def _settled(*runs: RunRecord) -> DiscoveryPoller:
    """A poller in the 30 s phase: one fetch answered with terminal children, timer armed."""
    poller = _poller()
    poller.start()
    effects = poller.fetch_succeeded(1, runs or [make_run("c1", DONE)])
    assert effects[-1] == ArmTimer(STATUS_POLL_INTERVAL_IDLE_S)
    return poller


# --- the gate -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_type", "sidecar", "profile", "expected"),
    [
        (User(), "t1", Profile.CURRENT, "t1"),
        (User(), "t1", Profile.LEGACY, None),
        (User(), None, Profile.CURRENT, None),
        (AmbientAgent("t1"), None, Profile.LEGACY, "t1"),
        (AmbientAgent("t1"), None, Profile.CURRENT, "t1"),
        (AmbientAgent("t1"), "t2", Profile.CURRENT, "t2"),
        (AmbientAgent("t1"), "t2", Profile.LEGACY, "t1"),
        (AmbientAgent(None), None, Profile.FOLLOWUPS, None),
    ],
)
def test_discovery_gate_resolves_the_task_id(
    source_type: SessionSourceType, sidecar: str | None, profile: Profile, expected: str | None
) -> None:
    assert discovery_task_id(source_type, sidecar, profile.switches()) == expected


# --- start, idle and resume ------------------------------------------------------------------


def test_start_fetches_at_once_and_only_once() -> None:
    poller = _poller()
    assert poller.start() == (Fetch(1),)
    assert poller.start() == ()
    assert poller.fetches == 1
    assert poller.generation == 1


def test_empty_result_goes_idle_without_a_timer() -> None:
    poller = _poller()
    poller.start()
    assert poller.fetch_succeeded(1, []) == ()
    assert poller.idle
    assert not poller.timer_pending
    assert not poller.timer_handle_present


def test_parent_row_alone_counts_as_empty() -> None:
    poller = _poller()
    poller.start()
    assert poller.fetch_succeeded(1, [make_run(ORCH, parent=None)]) == ()
    assert poller.idle
    assert poller.children == ()


def test_only_an_orchestrator_exchange_resumes_from_idle() -> None:
    poller = _poller()
    poller.start()
    poller.fetch_succeeded(1, [])
    assert poller.exchange_appended("c-unknown") == ()
    assert poller.idle
    assert poller.generation == 1
    assert poller.exchange_appended(ORCH) == (Fetch(2),)
    assert not poller.idle


def test_resumed_fetch_that_finds_children_returns_to_the_active_cadence() -> None:
    poller = _poller()
    poller.start()
    poller.fetch_succeeded(1, [])
    poller.exchange_appended(ORCH)
    run = make_run("c1", RunState.QUEUED, name="Worker")
    assert poller.fetch_succeeded(2, [run]) == (
        RegisterChild(run, "Worker"),
        ArmTimer(STATUS_POLL_INTERVAL_S),
    )
    assert not poller.idle


def test_legacy_never_idles() -> None:
    poller = _poller(Profile.LEGACY)
    poller.start()
    for generation in range(1, 4):
        assert poller.fetch_succeeded(generation, []) == (ArmTimer(STATUS_POLL_INTERVAL_S),)
        assert not poller.idle
        assert poller.timer_fired() == (Fetch(generation + 1),)
    assert poller.fetches == 4


def test_legacy_exchange_in_the_empty_phase_does_not_kick() -> None:
    poller = _poller(Profile.LEGACY)
    poller.start()
    poller.fetch_succeeded(1, [])
    assert poller.exchange_appended(ORCH) == ()


# --- cadence -------------------------------------------------------------------------------


def test_working_child_polls_every_five_seconds() -> None:
    poller = _poller()
    poller.start()
    effects = poller.fetch_succeeded(1, [make_run("c1", DONE), make_run("c2", RunState.CLAIMED)])
    assert effects[-1] == ArmTimer(STATUS_POLL_INTERVAL_S)
    assert poller.timer_fired() == (Fetch(2),)


def test_all_terminal_polls_every_thirty_seconds() -> None:
    poller = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1", RunState.RUNNING)])
    poller.timer_fired()
    assert poller.fetch_succeeded(2, [make_run("c1", RunState.BLOCKED)]) == (
        UpdateStatus("c1", RunState.BLOCKED),
        ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),
    )


def test_error_reschedules_at_the_same_cadence() -> None:
    poller = _poller()
    poller.start()
    assert poller.fetch_failed(1) == (ArmTimer(STATUS_POLL_INTERVAL_S),)
    assert not poller.idle
    poller.timer_fired()
    poller.fetch_succeeded(2, [make_run("c1", DONE)])
    poller.timer_fired()
    assert poller.fetch_failed(3) == (ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),)
    poller.timer_fired()
    assert poller.fetch_failed(4) == (ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),)


# --- kicks and the kick-guard race -------------------------------------------------------------


def test_kick_in_the_thirty_second_phase_replaces_the_timer() -> None:
    poller = _settled()
    assert poller.exchange_appended(ORCH) == (CancelTimer(), Fetch(2))
    assert not poller.timer_handle_present
    assert poller.exchange_appended(ORCH) == ()
    assert poller.fetch_succeeded(2, [make_run("c1", DONE)]) == (
        ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),
    )
    assert poller.redundant_fetches == 0


def test_kick_on_a_tracked_child() -> None:
    poller = _settled()
    assert poller.exchange_appended("c1") == (CancelTimer(), Fetch(2))


def test_no_kick_for_an_untracked_conversation() -> None:
    poller = _settled()
    assert poller.exchange_appended("someone-else") == ()
    assert poller.timer_pending


def test_no_kick_in_the_five_second_phase() -> None:
    poller = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1", RunState.RUNNING)])
    assert poller.exchange_appended(ORCH) == ()
    assert poller.exchange_appended("c1") == ()


def test_no_kick_while_the_first_fetch_is_in_flight() -> None:
    poller = _poller()
    poller.start()
    assert poller.exchange_appended(ORCH) == ()


def test_kick_guard_race_makes_exactly_one_redundant_fetch() -> None:
    poller = _settled()
    assert poller.timer_fired() == (Fetch(2),)
    assert poller.timer_handle_present  # the finished timer still fills the slot
    assert poller.exchange_appended(ORCH) == (Fetch(3),)
    assert poller.exchange_appended(ORCH) == ()
    assert poller.fetch_succeeded(2, [make_run("c1", DONE)]) == ()
    assert poller.redundant_fetches == 1
    assert poller.fetch_succeeded(3, [make_run("c1", DONE)]) == (
        ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),
    )
    assert poller.fetches == 3
    assert poller.redundant_fetches == 1


def test_stale_response_is_dropped_and_not_rescheduled_even_if_it_arrives_last() -> None:
    poller = _settled()
    poller.timer_fired()
    poller.exchange_appended(ORCH)
    assert poller.fetch_succeeded(3, [make_run("c1", DONE), make_run("c2", RunState.RUNNING)])[
        -1
    ] == ArmTimer(STATUS_POLL_INTERVAL_S)
    late = make_run("c3", RunState.RUNNING)
    assert poller.fetch_succeeded(2, [late]) == ()
    assert [c.task_id for c in poller.children] == ["c1", "c2"]
    assert poller.redundant_fetches == 1


def test_stale_error_is_dropped_too() -> None:
    poller = _settled()
    poller.timer_fired()
    poller.exchange_appended(ORCH)
    assert poller.fetch_failed(2) == ()
    assert poller.redundant_fetches == 1
    assert poller.in_flight == frozenset({3})


def test_answer_to_a_fetch_never_sent_is_an_error() -> None:
    poller = _poller()
    poller.start()
    with pytest.raises(ValueError, match="generation 2"):
        poller.fetch_succeeded(2, [])
    poller.fetch_failed(1)
    with pytest.raises(ValueError, match="generation 1"):
        poller.fetch_failed(1)


def test_timer_that_is_not_pending_is_ignored() -> None:
    poller = _settled()
    poller.exchange_appended(ORCH)  # cancels the timer
    assert poller.timer_fired() == ()
    assert poller.fetches == 2


# --- the child table -------------------------------------------------------------------------


def test_new_child_is_registered_with_its_display_name() -> None:
    poller = _poller()
    poller.start()
    run = make_run("c1", title="  Fix bug  ")
    assert poller.fetch_succeeded(1, [run])[0] == RegisterChild(run, "Fix bug")


def test_status_effect_only_on_change() -> None:
    poller = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1", RunState.RUNNING)])
    poller.timer_fired()
    assert poller.fetch_succeeded(2, [make_run("c1", RunState.RUNNING)]) == (
        ArmTimer(STATUS_POLL_INTERVAL_S),
    )
    poller.timer_fired()
    assert poller.fetch_succeeded(3, [make_run("c1", RunState.FAILED)]) == (
        UpdateStatus("c1", RunState.FAILED),
        ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),
    )


def test_session_id_is_filled_once_and_materialized_once() -> None:
    poller = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1")])
    assert poller.children[0].session_id is None
    poller.timer_fired()
    assert poller.fetch_succeeded(2, [make_run("c1", session_id="s1")]) == (
        MaterializeChild("c1", "s1"),
        ArmTimer(STATUS_POLL_INTERVAL_S),
    )
    poller.timer_fired()
    assert poller.fetch_succeeded(3, [make_run("c1", session_id="s2")]) == (
        ArmTimer(STATUS_POLL_INTERVAL_S),
    )
    assert poller.children[0].session_id == "s1"
    assert poller.children[0].materialized


def test_child_known_with_a_session_materializes_at_first_sight_after_pills() -> None:
    poller = _poller()
    poller.start()
    a = make_run("c1", session_id="s1")
    b = make_run("c2")
    assert poller.fetch_succeeded(1, [a, b]) == (
        RegisterChild(a, "Agent"),
        RegisterChild(b, "Agent"),
        MaterializeChild("c1", "s1"),
        ArmTimer(STATUS_POLL_INTERVAL_S),
    )


def test_empty_session_id_counts_as_missing() -> None:
    poller = _poller()
    poller.start()
    effects = poller.fetch_succeeded(1, [make_run("c1", session_id="")])
    assert not any(isinstance(e, MaterializeChild) for e in effects)


def test_children_are_never_removed() -> None:
    poller = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1"), make_run("c2")])
    poller.timer_fired()
    assert poller.fetch_succeeded(2, []) == (ArmTimer(STATUS_POLL_INTERVAL_S),)
    assert [c.task_id for c in poller.children] == ["c1", "c2"]
    assert not poller.idle


def test_stop_cancels_the_timer_and_ignores_late_answers() -> None:
    poller = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1")])
    assert poller.stop() == (CancelTimer(),)
    assert poller.stopped
    assert poller.stop() == ()
    assert poller.timer_fired() == ()
    assert poller.exchange_appended(ORCH) == ()
    stopped_mid_fetch = _poller()
    stopped_mid_fetch.start()
    assert stopped_mid_fetch.stop() == ()
    assert stopped_mid_fetch.fetch_succeeded(1, [make_run("c1")]) == ()
    assert stopped_mid_fetch.children == ()
    assert stopped_mid_fetch.redundant_fetches == 0


# --- push discovery --------------------------------------------------------------------------


def test_push_discovery_shares_the_child_rules_without_fetching() -> None:
    push = PushDiscovery(ORCH)
    run = make_run("c1", name="Worker")
    parent = make_run(ORCH, parent=None)
    assert push.rows_pushed([parent, run]) == (RegisterChild(run, "Worker"),)
    assert push.status_pushed("c1", RunState.RUNNING) == ()
    assert push.status_pushed("c1", DONE) == (UpdateStatus("c1", DONE),)
    assert push.status_pushed("unknown", DONE) == ()
    assert push.rows_pushed([make_run("c1", DONE, session_id="s1")]) == (
        MaterializeChild("c1", "s1"),
    )
    assert push.rows_pushed([make_run("c1", DONE, session_id="s2")]) == ()
    assert push.pushes == 6
    assert [c.session_id for c in push.children] == ["s1"]


# --- properties ----------------------------------------------------------------------------

_STATES = list(RunState)
_row = st.builds(
    make_run,
    st.sampled_from(["c1", "c2", "c3", ORCH]),
    st.sampled_from(_STATES),
    session_id=st.sampled_from([None, "s1", "s2"]),
)
_action = st.one_of(
    st.tuples(st.just("timer")),
    st.tuples(st.just("exchange"), st.sampled_from([ORCH, "c1", "c2", "x"])),
    st.tuples(st.just("ok"), st.integers(0, 3), st.lists(_row, max_size=4)),
    st.tuples(st.just("fail"), st.integers(0, 3)),
)


@settings(max_examples=300, deadline=None)
@given(
    actions=st.lists(_action, max_size=40),
    profile=st.sampled_from(list(Profile)),
)
def test_any_input_sequence_keeps_the_invariants(
    actions: list[tuple[object, ...]], profile: Profile
) -> None:
    poller = _poller(profile)
    effects: list[DiscoveryEffect] = list(poller.start())
    seen: list[str] = []
    sessions: dict[str, str] = {}
    timer_pending = False
    generations = [1]
    for action in actions:
        in_flight = sorted(poller.in_flight)
        if action[0] == "timer":
            out = poller.timer_fired()
        elif action[0] == "exchange":
            out = poller.exchange_appended(str(action[1]))
        elif not in_flight:
            continue
        else:
            index = int(str(action[1])) % len(in_flight)
            if action[0] == "ok":
                rows = action[2]
                assert isinstance(rows, list)
                out = poller.fetch_succeeded(in_flight[index], rows)
            else:
                out = poller.fetch_failed(in_flight[index])
        for effect in out:
            if isinstance(effect, ArmTimer):
                assert not timer_pending, "armed a second timer without cancelling"
                assert not poller.idle
                timer_pending = True
            elif isinstance(effect, CancelTimer):
                assert timer_pending, "cancelled a timer that was not pending"
                timer_pending = False
            elif isinstance(effect, Fetch):
                assert effect.generation == generations[-1] + 1
                generations.append(effect.generation)
        if action[0] == "timer" and out:
            timer_pending = False
        assert timer_pending == poller.timer_pending
        effects.extend(out)
        current = [c.task_id for c in poller.children]
        assert current[: len(seen)] == seen, "a child was removed or reordered"
        seen = current
        for child in poller.children:
            if child.task_id in sessions:
                assert child.session_id == sessions[child.task_id]
            elif child.session_id is not None:
                sessions[child.task_id] = child.session_id
        assert ORCH not in current
        if poller.idle:
            assert not poller.timer_pending
    materialized = [e.task_id for e in effects if isinstance(e, MaterializeChild)]
    assert len(materialized) == len(set(materialized))
    registered = [e.run.task_id for e in effects if isinstance(e, RegisterChild)]
    assert registered == seen
    assert poller.fetches == len(generations)
    if not profile.switches().stop_polling_when_empty:
        assert not poller.idle
