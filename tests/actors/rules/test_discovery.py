"""The viewer's child-discovery poller and the discovery gate (push: test_push_discovery)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.rules import (
    STATUS_POLL_INTERVAL_IDLE_S,
    STATUS_POLL_INTERVAL_S,
    AgentDirectory,
    ArmTimer,
    CancelTimer,
    ChildRoster,
    DiscoveryEffect,
    DiscoveryPoller,
    EntryOrigin,
    Fetch,
    OpenPane,
    PillStatus,
    Profile,
    discovery_task_id,
)
from actors.rules.discovery import ERROR_BACKOFF_S, REFUSAL_BACKOFF_S, REFUSALS_BEFORE_GIVING_UP
from protocol.runs import RunRecord, RunState
from protocol.source import AmbientAgent, SessionSourceType, User

from .factories import ORCH, make_run

CURRENT = Profile.CURRENT.switches()
LEGACY = Profile.LEGACY.switches()
DONE = RunState.SUCCEEDED


def _poller(profile: Profile = Profile.CURRENT) -> tuple[DiscoveryPoller, ChildRoster]:
    """A poller and the roster it feeds."""
    children = ChildRoster(AgentDirectory())
    return DiscoveryPoller(ORCH, profile.switches(), children), children


def _ids(children: ChildRoster) -> list[str]:
    return [child.task_id for child in children]


def _settled(*runs: RunRecord) -> tuple[DiscoveryPoller, ChildRoster]:
    """A poller in the 30 s phase: one fetch answered with terminal children, timer armed."""
    poller, children = _poller()
    poller.start()
    effects = poller.fetch_succeeded(1, runs or [make_run("c1", DONE)])
    assert effects[-1] == ArmTimer(STATUS_POLL_INTERVAL_IDLE_S)
    return poller, children


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
    poller, _ = _poller()
    assert poller.start() == (Fetch(1),)
    assert poller.start() == ()
    assert poller.fetches == 1
    assert poller.generation == 1


def test_empty_result_goes_idle_without_a_timer() -> None:
    poller, _ = _poller()
    poller.start()
    assert poller.fetch_succeeded(1, []) == ()
    assert poller.idle
    assert not poller.timer_pending
    assert not poller.timer_handle_present


def test_parent_row_alone_counts_as_empty() -> None:
    poller, children = _poller()
    poller.start()
    assert poller.fetch_succeeded(1, [make_run(ORCH, parent=None)]) == ()
    assert poller.idle
    assert _ids(children) == []


def test_only_an_orchestrator_exchange_resumes_from_idle() -> None:
    poller, _ = _poller()
    poller.start()
    poller.fetch_succeeded(1, [])
    assert poller.exchange_appended("c-unknown") == ()
    assert poller.idle
    assert poller.generation == 1
    assert poller.exchange_appended(ORCH) == (Fetch(2),)
    assert not poller.idle


def test_an_orchestrator_exchange_during_a_fetch_is_lost_unless_it_asks_again() -> None:
    """The answer of a fetch sent before the exchange can be empty and idle the poller."""
    shipped, _ = _poller()
    shipped.start()
    assert shipped.exchange_appended(ORCH) == ()
    assert shipped.fetch_succeeded(1, []) == ()
    assert shipped.idle
    switches = Profile.FOLLOWUPS.switches().with_overrides({"poll_after_speech_during_fetch": True})
    poller = DiscoveryPoller(ORCH, switches, ChildRoster(AgentDirectory()))
    poller.start()
    assert poller.exchange_appended(ORCH) == ()
    assert poller.fetch_succeeded(1, []) == (Fetch(2),)
    assert not poller.idle
    assert poller.fetch_succeeded(2, []) == ()  # nothing said since: idle as before
    assert poller.idle


def test_resumed_fetch_that_finds_children_returns_to_the_active_cadence() -> None:
    poller, children = _poller()
    poller.start()
    poller.fetch_succeeded(1, [])
    poller.exchange_appended(ORCH)
    run = make_run("c1", RunState.QUEUED, name="Worker")
    assert poller.fetch_succeeded(2, [run]) == (ArmTimer(STATUS_POLL_INTERVAL_S),)
    assert [(c.task_id, c.name, c.state) for c in children] == [("c1", "Worker", RunState.QUEUED)]
    assert not poller.idle


def test_children_seen_without_an_active_parent_conversation_are_skipped_until_resumed() -> None:
    """The client's `skips_child_when_no_active_parent_conversation`, with its consequence.

    Nothing is registered, so the roster is empty and the poller idles; the
    orchestrator's next exchange (the transcript arriving) resumes it.
    """
    poller, children = _poller()
    poller.start()
    run = make_run("c1", name="Worker")
    assert poller.fetch_succeeded(1, [run], has_parent_conversation=False) == ()
    assert _ids(children) == []
    assert poller.idle
    assert poller.exchange_appended(ORCH) == (Fetch(2),)
    assert poller.fetch_succeeded(2, [run]) == (ArmTimer(STATUS_POLL_INTERVAL_S),)
    assert _ids(children) == ["c1"]


def test_known_children_are_updated_even_without_a_parent_conversation() -> None:
    poller, children = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1")])
    poller.timer_fired()
    rows = [make_run("c1", DONE), make_run("c2")]
    poller.fetch_succeeded(2, rows, has_parent_conversation=False)
    assert [(c.task_id, c.state) for c in children] == [("c1", DONE)]


def test_legacy_never_idles() -> None:
    poller, _ = _poller(Profile.LEGACY)
    poller.start()
    for generation in range(1, 4):
        assert poller.fetch_succeeded(generation, []) == (ArmTimer(STATUS_POLL_INTERVAL_S),)
        assert not poller.idle
        assert poller.timer_fired() == (Fetch(generation + 1),)
    assert poller.fetches == 4


def test_legacy_exchange_in_the_empty_phase_does_not_kick() -> None:
    poller, _ = _poller(Profile.LEGACY)
    poller.start()
    poller.fetch_succeeded(1, [])
    assert poller.exchange_appended(ORCH) == ()


# --- cadence -------------------------------------------------------------------------------


def test_working_child_polls_every_five_seconds() -> None:
    poller, _ = _poller()
    poller.start()
    effects = poller.fetch_succeeded(1, [make_run("c1", DONE), make_run("c2", RunState.CLAIMED)])
    assert effects[-1] == ArmTimer(STATUS_POLL_INTERVAL_S)
    assert poller.timer_fired() == (Fetch(2),)


def test_all_terminal_polls_every_thirty_seconds() -> None:
    poller, children = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1", RunState.RUNNING)])
    poller.timer_fired()
    assert poller.fetch_succeeded(2, [make_run("c1", RunState.BLOCKED)]) == (
        ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),
    )
    child = children.get("c1")
    assert child is not None
    assert (child.state, child.status) == (RunState.BLOCKED, PillStatus.BLOCKED)


def test_error_reschedules_at_the_same_cadence() -> None:
    poller, _ = _poller()
    poller.start()
    assert poller.fetch_failed(1) == (ArmTimer(STATUS_POLL_INTERVAL_S),)
    assert not poller.idle
    poller.timer_fired()
    poller.fetch_succeeded(2, [make_run("c1", DONE)])
    poller.timer_fired()
    assert poller.fetch_failed(3) == (ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),)
    poller.timer_fired()
    assert poller.fetch_failed(4) == (ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),)


def test_as_shipped_a_refused_fetch_is_asked_again_every_5_s_forever() -> None:
    """No backoff and no giving up: a viewer refused its listings costs 12 requests a minute."""
    poller, _ = _poller()
    poller.start()
    for generation in range(1, 101):
        assert poller.fetch_failed(generation, refused=True) == (ArmTimer(STATUS_POLL_INTERVAL_S),)
        assert poller.timer_fired() == (Fetch(generation + 1),)
    assert not poller.gave_up
    assert poller.fetches == 101


def _backing_off() -> DiscoveryPoller:
    switches = CURRENT.with_overrides({"fetch_error_backoff": True})
    poller = DiscoveryPoller(ORCH, switches, ChildRoster(AgentDirectory()))
    poller.start()
    return poller


def test_with_error_backoff_a_fetch_without_answer_waits_longer_each_time() -> None:
    poller = _backing_off()
    waits = []
    for generation in range(1, 7):
        (armed,) = poller.fetch_failed(generation)
        assert isinstance(armed, ArmTimer)
        waits.append(armed.delay_s)
        poller.timer_fired()
    assert waits == [*ERROR_BACKOFF_S, ERROR_BACKOFF_S[-1], ERROR_BACKOFF_S[-1]]
    assert poller.fetch_succeeded(7, [make_run("c1")]) == (ArmTimer(STATUS_POLL_INTERVAL_S),)
    poller.timer_fired()
    assert poller.fetch_failed(8) == (ArmTimer(ERROR_BACKOFF_S[0]),), "an answer starts afresh"


def test_with_error_backoff_refusals_wait_30_s_and_the_third_ends_polling() -> None:
    poller = _backing_off()
    assert poller.fetch_failed(1, refused=True) == (ArmTimer(REFUSAL_BACKOFF_S),)
    poller.timer_fired()
    assert poller.fetch_failed(2) == (ArmTimer(ERROR_BACKOFF_S[0]),)
    poller.timer_fired()
    assert poller.fetch_failed(3, refused=True) == (ArmTimer(REFUSAL_BACKOFF_S),)
    poller.timer_fired()
    assert REFUSALS_BEFORE_GIVING_UP == 3
    assert poller.fetch_failed(4, refused=True) == ()
    assert (poller.gave_up, poller.stopped, poller.timer_pending) == (True, True, False)
    assert poller.exchange_appended(ORCH) == ()
    assert poller.timer_fired() == ()
    assert poller.fetches == 4


def test_with_error_backoff_an_answer_between_refusals_keeps_polling() -> None:
    poller = _backing_off()
    generation = 0
    for _ in range(3):
        for _ in range(REFUSALS_BEFORE_GIVING_UP - 1):
            generation += 1
            assert poller.fetch_failed(generation, refused=True) == (ArmTimer(REFUSAL_BACKOFF_S),)
            poller.timer_fired()
        generation += 1
        poller.fetch_succeeded(generation, [make_run("c1")])
        poller.timer_fired()
    assert not poller.gave_up


# --- kicks and the kick-guard race -------------------------------------------------------------


def test_kick_in_the_thirty_second_phase_replaces_the_timer() -> None:
    poller, _ = _settled()
    assert poller.exchange_appended(ORCH) == (CancelTimer(), Fetch(2))
    assert not poller.timer_handle_present
    assert poller.exchange_appended(ORCH) == ()
    assert poller.fetch_succeeded(2, [make_run("c1", DONE)]) == (
        ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),
    )
    assert poller.redundant_fetches == 0


def test_kick_on_a_tracked_child() -> None:
    poller, _ = _settled()
    assert poller.exchange_appended("c1") == (CancelTimer(), Fetch(2))


def test_no_kick_for_an_untracked_conversation() -> None:
    poller, _ = _settled()
    assert poller.exchange_appended("someone-else") == ()
    assert poller.timer_pending


def test_no_kick_in_the_five_second_phase() -> None:
    poller, _ = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1", RunState.RUNNING)])
    assert poller.exchange_appended(ORCH) == ()
    assert poller.exchange_appended("c1") == ()


def test_no_kick_while_the_first_fetch_is_in_flight() -> None:
    poller, _ = _poller()
    poller.start()
    assert poller.exchange_appended(ORCH) == ()


def test_kick_guard_race_makes_exactly_one_redundant_fetch() -> None:
    poller, _ = _settled()
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
    poller, children = _settled()
    poller.timer_fired()
    poller.exchange_appended(ORCH)
    assert poller.fetch_succeeded(3, [make_run("c1", DONE), make_run("c2", RunState.RUNNING)])[
        -1
    ] == ArmTimer(STATUS_POLL_INTERVAL_S)
    late = make_run("c3", RunState.RUNNING)
    assert poller.fetch_succeeded(2, [late]) == ()
    assert _ids(children) == ["c1", "c2"]
    assert poller.redundant_fetches == 1


def test_stale_error_is_dropped_too() -> None:
    poller, _ = _settled()
    poller.timer_fired()
    poller.exchange_appended(ORCH)
    assert poller.fetch_failed(2) == ()
    assert poller.redundant_fetches == 1
    assert poller.in_flight == frozenset({3})


def test_answer_to_a_fetch_never_sent_is_an_error() -> None:
    poller, _ = _poller()
    poller.start()
    with pytest.raises(ValueError, match="generation 2"):
        poller.fetch_succeeded(2, [])
    poller.fetch_failed(1)
    with pytest.raises(ValueError, match="generation 1"):
        poller.fetch_failed(1)


def test_timer_that_is_not_pending_is_ignored() -> None:
    poller, _ = _settled()
    poller.exchange_appended(ORCH)  # cancels the timer
    assert poller.timer_fired() == ()
    assert poller.fetches == 2


# --- the child table -------------------------------------------------------------------------


def test_new_child_is_registered_with_its_display_name() -> None:
    directory = AgentDirectory()
    children = ChildRoster(directory)
    poller = DiscoveryPoller(ORCH, CURRENT, children)
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1", title="  Fix bug  ")])
    assert [(c.task_id, c.name) for c in children] == [("c1", "Fix bug")]
    entry = directory.lookup("c1")
    assert entry is not None
    assert (entry.name, entry.origin) == ("Fix bug", EntryOrigin.CHILD)


def test_status_changes_only_with_the_state() -> None:
    poller, children = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1", RunState.BLOCKED)])
    child = children.get("c1")
    assert child is not None
    poller.timer_fired()
    poller.exchange_appended(ORCH)  # the kick-guard race: fetch 2 is now stale
    # The stale answer is dropped, but its row still shows the failed launch ...
    assert poller.fetch_succeeded(2, [make_run("c1", RunState.FAILED)]) == ()
    assert (child.state, child.status) == (RunState.BLOCKED, PillStatus.ERROR)
    # ... which an answer with the same accepted state leaves alone,
    assert poller.fetch_succeeded(3, [make_run("c1", RunState.BLOCKED)]) == (
        ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),
    )
    assert child.status is PillStatus.ERROR
    # and only a change of state moves the badge again.
    poller.timer_fired()
    assert poller.fetch_succeeded(4, [make_run("c1", RunState.CANCELLED)]) == (
        ArmTimer(STATUS_POLL_INTERVAL_IDLE_S),
    )
    assert (child.state, child.status) == (RunState.CANCELLED, PillStatus.CANCELLED)


def test_session_id_is_filled_once_and_opens_the_pane_once() -> None:
    poller, children = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1")])
    child = children.get("c1")
    assert child is not None
    assert child.session_id is None
    poller.timer_fired()
    assert poller.fetch_succeeded(2, [make_run("c1", session_id="s1", session_link="/j/s1")]) == (
        OpenPane("c1", "/j/s1"),
        ArmTimer(STATUS_POLL_INTERVAL_S),
    )
    poller.timer_fired()
    assert poller.fetch_succeeded(3, [make_run("c1", session_id="s2", session_link="/j/s2")]) == (
        ArmTimer(STATUS_POLL_INTERVAL_S),
    )
    assert child.session_id == "s1"


def test_child_known_with_a_session_opens_at_first_sight_after_pills() -> None:
    poller, children = _poller()
    poller.start()
    a = make_run("c1", session_id="s1")
    b = make_run("c2")
    assert poller.fetch_succeeded(1, [a, b]) == (
        OpenPane("c1", None),
        ArmTimer(STATUS_POLL_INTERVAL_S),
    )
    assert [(c.task_id, c.name) for c in children] == [("c1", "Agent"), ("c2", "Agent")]


def test_panes_open_in_pill_order_whatever_the_row_order() -> None:
    poller, _ = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1"), make_run("c2")])
    poller.timer_fired()
    rows = [make_run("c3", session_id="s3"), make_run("c2", session_id="s2")]
    assert poller.fetch_succeeded(2, [*rows, make_run("c1", session_id="s1")]) == (
        OpenPane("c1", None),
        OpenPane("c2", None),
        OpenPane("c3", None),
        ArmTimer(STATUS_POLL_INTERVAL_S),
    )


def test_empty_session_id_counts_as_missing() -> None:
    poller, children = _poller()
    poller.start()
    effects = poller.fetch_succeeded(1, [make_run("c1", session_id="")])
    assert not any(isinstance(e, OpenPane) for e in effects)
    assert [c.session_id for c in children] == [None]


def test_children_are_never_removed() -> None:
    poller, children = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1"), make_run("c2")])
    poller.timer_fired()
    assert poller.fetch_succeeded(2, []) == (ArmTimer(STATUS_POLL_INTERVAL_S),)
    assert _ids(children) == ["c1", "c2"]
    assert not poller.idle


def test_stop_cancels_the_timer_and_ignores_late_answers() -> None:
    poller, _ = _poller()
    poller.start()
    poller.fetch_succeeded(1, [make_run("c1")])
    assert poller.stop() == (CancelTimer(),)
    assert poller.stopped
    assert poller.stop() == ()
    assert poller.timer_fired() == ()
    assert poller.exchange_appended(ORCH) == ()
    stopped_mid_fetch, children = _poller()
    stopped_mid_fetch.start()
    assert stopped_mid_fetch.stop() == ()
    assert stopped_mid_fetch.fetch_succeeded(1, [make_run("c1")]) == ()
    assert _ids(children) == []
    assert stopped_mid_fetch.redundant_fetches == 0


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
    st.tuples(st.just("refused"), st.integers(0, 3)),
)


@settings(max_examples=300, deadline=None)
@given(
    actions=st.lists(_action, max_size=40),
    profile=st.sampled_from(list(Profile)),
)
def test_any_input_sequence_keeps_the_invariants(
    actions: list[tuple[object, ...]], profile: Profile
) -> None:
    directory = AgentDirectory()
    children = ChildRoster(directory)
    poller = DiscoveryPoller(ORCH, profile.switches(), children)
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
                out = poller.fetch_failed(in_flight[index], refused=action[0] == "refused")
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
        current = _ids(children)
        assert current[: len(seen)] == seen, "a child was removed or reordered"
        seen = current
        for child in children:
            if child.task_id in sessions:
                assert child.session_id == sessions[child.task_id]
            elif child.session_id is not None:
                sessions[child.task_id] = child.session_id
        assert ORCH not in current
        states = [c.state for c in children]
        assert children.all_terminal == (bool(states) and all(s.is_terminal for s in states))
        if poller.idle or poller.gave_up:
            assert not poller.timer_pending
        if poller.gave_up:
            assert poller.stopped
            assert profile.switches().fetch_error_backoff
    opened = [e.task_id for e in effects if isinstance(e, OpenPane)]
    assert len(opened) == len(set(opened))
    assert set(opened) == set(sessions)
    assert directory.navigable_ids() == tuple(seen)
    assert poller.fetches == len(generations)
    if not profile.switches().stop_polling_when_empty:
        assert not poller.idle
