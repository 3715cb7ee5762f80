"""The follow-up's push discovery: seed snapshot, subscription from a cursor, replay, backoff."""

from __future__ import annotations

import pytest

from actors.rules import (
    AgentDirectory,
    ArmTimer,
    CancelTimer,
    ChildRoster,
    DiscoveryEffect,
    Fetch,
    OpenPane,
    PillStatus,
    PushDiscovery,
    Subscribe,
    Unsubscribe,
)
from actors.rules.discovery import (
    STREAM_MAX_REFUSALS,
    STREAM_MAX_RETRY_S,
    STREAM_REFUSED_RETRY_S,
    STREAM_RETRY_S,
)
from protocol.runs import RunState

from .factories import ORCH, make_run

DONE = RunState.SUCCEEDED


def _push() -> tuple[PushDiscovery, ChildRoster]:
    children = ChildRoster(AgentDirectory())
    return PushDiscovery(ORCH, children), children


def _live(*seed: int) -> tuple[PushDiscovery, ChildRoster]:
    """A stream seeded with one child per sequence in `seed`, subscribed and live."""
    push, children = _push()
    push.start()
    rows = [make_run(f"c{n}", sequence=n) for n in seed]
    push.fetch_succeeded(1, rows)
    assert push.subscribed() == ()
    assert push.live
    return push, children


def _statuses(children: ChildRoster) -> list[tuple[str, PillStatus]]:
    return [(c.task_id, c.status) for c in children]


def test_the_snapshot_seeds_the_roster_and_the_cursor_then_subscribes_after_it() -> None:
    push, children = _push()
    assert push.start() == (Fetch(1),)
    assert push.start() == ()
    rows = [make_run(ORCH, parent=None, sequence=9), make_run("c1", sequence=4)]
    rows.append(make_run("c2", sequence=7, session_id="s2", session_link="/j/s2"))
    assert push.fetch_succeeded(1, rows) == (OpenPane("c2", "/j/s2"), Subscribe(7))
    assert [c.task_id for c in children] == ["c1", "c2"]
    assert push.cursor == 7
    assert push.fetches == 1


def test_an_empty_snapshot_subscribes_from_the_start() -> None:
    push, _ = _push()
    push.start()
    assert push.fetch_succeeded(1, []) == (Subscribe(None),)


def test_pushed_changes_apply_once_and_in_sequence() -> None:
    push, children = _live(3)
    assert push.pushed(5, make_run("c5", name="New", sequence=5)) == ()
    assert push.pushed(6, make_run("c3", DONE, sequence=6)) == ()
    # A replay after a resubscription repeats what the cursor already covers.
    assert push.pushed(5, make_run("c5", RunState.FAILED, sequence=5)) == ()
    assert push.pushed(3, make_run("c3", RunState.QUEUED, sequence=3)) == ()
    assert _statuses(children) == [("c3", PillStatus.SUCCESS), ("c5", PillStatus.IN_PROGRESS)]
    assert push.cursor == 6
    assert push.pushes == 2
    opened = push.pushed(8, make_run("c5", session_id="s5", session_link="/j/s5", sequence=8))
    assert opened == (OpenPane("c5", "/j/s5"),)


def test_a_push_of_the_parents_own_row_registers_nothing() -> None:
    push, children = _live()
    assert push.pushed(4, make_run(ORCH, parent=None, sequence=4)) == ()
    assert len(children) == 0
    assert push.cursor == 4


def test_a_lost_link_resubscribes_from_the_cursor_after_backing_off() -> None:
    push, _ = _live(2)
    push.pushed(6, make_run("c1", sequence=6))
    assert push.link_lost() == (ArmTimer(STREAM_RETRY_S[0]),)
    assert not push.live
    assert push.link_lost() == ()
    assert push.timer_fired() == (Subscribe(6),)
    assert push.subscribe_failed(refused=False) == (ArmTimer(STREAM_RETRY_S[1]),)
    assert push.timer_fired() == (Subscribe(6),)
    assert push.subscribed() == ()
    assert push.live
    # Success resets the backoff.
    assert push.link_lost() == (ArmTimer(STREAM_RETRY_S[0]),)


def test_transient_failures_back_off_1_2_5_then_10_s_and_give_up_after_30_minutes() -> None:
    push, _ = _push()
    push.start()
    delays: list[float] = []
    generation = 1
    while True:
        effects = push.fetch_failed(generation, refused=False)
        if not effects:
            break
        (timer,) = effects
        assert isinstance(timer, ArmTimer)
        delays.append(timer.delay_s)
        assert push.timer_fired() == (Fetch(generation + 1),)
        generation += 1
    assert delays[:5] == [*STREAM_RETRY_S, STREAM_RETRY_S[-1]]
    assert sum(delays) <= STREAM_MAX_RETRY_S < sum(delays) + STREAM_RETRY_S[-1]
    assert push.gave_up
    assert push.timer_fired() == ()


def test_refusals_wait_30_s_and_give_up_after_three() -> None:
    push, _ = _live()
    push.link_lost()
    push.timer_fired()
    effects: list[tuple[DiscoveryEffect, ...]] = []
    for _ in range(STREAM_MAX_REFUSALS):
        effects.append(push.subscribe_failed(refused=True))
        push.timer_fired()
    assert effects == [(ArmTimer(STREAM_REFUSED_RETRY_S),)] * (STREAM_MAX_REFUSALS - 1) + [()]
    assert push.gave_up


def test_a_stale_or_repeated_answer_changes_nothing() -> None:
    push, children = _push()
    push.start()
    push.fetch_failed(1, refused=False)
    push.timer_fired()
    assert push.fetch_succeeded(1, [make_run("c1", sequence=1)]) == ()
    assert push.fetch_succeeded(2, [make_run("c1", sequence=1)]) == (Subscribe(1),)
    assert push.fetch_succeeded(2, [make_run("c2", sequence=2)]) == ()
    assert push.fetch_failed(2, refused=True) == ()
    assert [c.task_id for c in children] == ["c1"]
    assert push.subscribe_failed(refused=False) != ()
    assert push.subscribed() == ()
    assert not push.live


def test_a_child_skipped_without_a_parent_conversation_is_lost_for_good() -> None:
    """The cursor passes over it and its later changes are status changes for no pill."""
    push, children = _push()
    push.start()
    rows = [make_run("c1", sequence=3)]
    assert push.fetch_succeeded(1, rows, has_parent_conversation=False) == (Subscribe(3),)
    push.subscribed()
    assert len(children) == 0
    assert push.pushed(5, make_run("c2", sequence=5), has_parent_conversation=False) == ()
    assert push.pushed(6, make_run("c3", sequence=6)) == ()
    assert push.pushed(7, make_run("c1", DONE, sequence=7)) == ()
    assert push.pushed(8, make_run("c2", DONE, sequence=8)) == ()
    assert _statuses(children) == [("c3", PillStatus.IN_PROGRESS)]
    assert push.cursor == 8


@pytest.mark.parametrize("keeps", [False, True])
def test_children_skipped_before_the_parent_conversation_are_kept_only_with_the_switch(
    keeps: bool,
) -> None:
    """Without the switch they are lost for good; with it they arrive with the conversation."""
    children = ChildRoster(AgentDirectory())
    push = PushDiscovery(ORCH, children, keeps_skipped_children=keeps)
    push.start()
    rows = [make_run("c1", sequence=3)]
    assert push.fetch_succeeded(1, rows, has_parent_conversation=False) == (Subscribe(3),)
    push.subscribed()
    assert push.pushed(5, make_run("c2", sequence=5), has_parent_conversation=False) == ()
    assert push.pushed(6, make_run("c1", DONE, sequence=6), has_parent_conversation=False) == ()
    joinable = make_run("c2", sequence=7, session_id="s2", session_link="/j/s2")
    assert push.pushed(7, joinable, has_parent_conversation=False) == ()
    assert len(children) == 0
    arrived = push.parent_conversation_arrived()
    if not keeps:
        assert arrived == ()
        assert len(children) == 0
        return
    assert arrived == (OpenPane("c2", "/j/s2"),)
    assert _statuses(children) == [("c1", PillStatus.SUCCESS), ("c2", PillStatus.IN_PROGRESS)]
    assert push.parent_conversation_arrived() == ()
    assert push.pushed(8, make_run("c2", DONE, sequence=8)) == ()
    assert _statuses(children) == [("c1", PillStatus.SUCCESS), ("c2", PillStatus.SUCCESS)]


def test_a_stopped_stream_registers_no_kept_child() -> None:
    children = ChildRoster(AgentDirectory())
    push = PushDiscovery(ORCH, children, keeps_skipped_children=True)
    push.start()
    push.fetch_succeeded(1, [make_run("c1", sequence=3)], has_parent_conversation=False)
    push.stop()
    assert push.parent_conversation_arrived() == ()
    assert len(children) == 0


def test_a_known_child_is_updated_without_a_parent_conversation() -> None:
    push, children = _live(1)
    assert push.pushed(2, make_run("c1", DONE, sequence=2), has_parent_conversation=False) == ()
    assert _statuses(children) == [("c1", PillStatus.SUCCESS)]


@pytest.mark.parametrize("live", [True, False])
def test_stop_cancels_what_is_pending_and_drops_later_pushes(live: bool) -> None:
    push, children = _live(1)
    if live:
        assert push.stop() == (Unsubscribe(),)
    else:
        push.link_lost()
        assert push.stop() == (CancelTimer(),)
    assert push.stop() == ()
    assert push.pushed(9, make_run("c9", sequence=9)) == ()
    assert push.timer_fired() == ()
    assert [c.task_id for c in children] == ["c1"]


def test_a_stream_stopped_while_seeding_never_subscribes() -> None:
    push, _ = _push()
    push.start()
    assert push.stop() == ()
    assert push.fetch_succeeded(1, [make_run("c1", sequence=1)]) == ()
