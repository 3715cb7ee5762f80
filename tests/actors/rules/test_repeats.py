"""A client gets a few lines of each kind per window, then one count; reconnecting resets none."""

from __future__ import annotations

from actors.rules.repeats import SHOWN, WINDOW_S, Repeats, Unlogged
from tests.actors.rules.test_session_limits import Clock


def test_a_client_gets_its_first_lines_then_a_count_once_the_window_is_over() -> None:
    clock = Clock()
    repeats = Repeats(clock=clock)
    shown = [repeats.show("loopback", "malformed_frame") for _ in range(10)]
    assert shown == [True] * SHOWN + [False] * (10 - SHOWN)
    assert repeats.over() == []  # the window is not over yet
    clock.now += WINDOW_S
    assert repeats.over() == [Unlogged("loopback", "malformed_frame", 10 - SHOWN)]
    assert repeats.over() == []  # said once
    # A new window shows the first lines again.
    assert repeats.show("loopback", "malformed_frame")


def test_a_window_that_ends_while_the_client_still_sends_still_has_its_count_said() -> None:
    clock = Clock()
    repeats = Repeats(clock=clock)
    for _ in range(SHOWN + 2):
        repeats.show("10.0.0.2", "closing")
    clock.now += WINDOW_S + 1
    assert repeats.show("10.0.0.2", "closing")
    assert repeats.over() == [Unlogged("10.0.0.2", "closing", 2)]


def test_clients_and_kinds_are_counted_apart() -> None:
    repeats = Repeats()
    for _ in range(SHOWN):
        assert repeats.show("10.0.0.2", "closing")
    assert repeats.show("10.0.0.3", "closing")
    assert repeats.show("10.0.0.2", "malformed_frame")
    assert not repeats.show("10.0.0.2", "closing")


def test_at_the_end_every_window_says_what_it_left_unlogged() -> None:
    repeats = Repeats(clock=Clock())
    for _ in range(SHOWN + 4):
        repeats.show("loopback", "unknown_message_ignored")
    assert repeats.over() == []
    assert repeats.over(all_windows=True) == [Unlogged("loopback", "unknown_message_ignored", 4)]
