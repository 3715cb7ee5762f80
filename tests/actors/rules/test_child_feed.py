"""Who follows which parent's children on the task server."""

from __future__ import annotations

import pytest

from actors.rules.child_feed import MAX_SUBSCRIPTIONS_PER_LINK, ChildFeed
from protocol.tasks import TaskErrorKind, TaskRefused


def test_subscribers_are_listed_per_parent_in_link_order() -> None:
    feed = ChildFeed()
    feed.subscribe(7, "p1")
    feed.subscribe(3, "p1")
    feed.subscribe(3, "p1")
    feed.subscribe(3, "p2")
    assert feed.subscribers("p1") == (3, 7)
    assert feed.subscribers("p2") == (3,)
    assert feed.subscribers("p3") == ()


def test_unsubscribing_and_closing_a_link_forget_it() -> None:
    feed = ChildFeed()
    feed.subscribe(1, "p1")
    feed.subscribe(1, "p2")
    feed.subscribe(2, "p1")
    feed.unsubscribe(2, "p1")
    feed.unsubscribe(2, "p9")
    assert feed.subscribers("p1") == (1,)
    feed.link_closed(1)
    feed.link_closed(1)
    assert feed.subscribers("p1") == feed.subscribers("p2") == ()


def test_a_link_may_follow_only_so_many_parents() -> None:
    feed = ChildFeed()
    for n in range(MAX_SUBSCRIPTIONS_PER_LINK):
        feed.subscribe(1, f"p{n}")
    feed.subscribe(1, "p0")
    with pytest.raises(TaskRefused) as caught:
        feed.subscribe(1, "one-more")
    assert caught.value.kind is TaskErrorKind.INVALID
    assert feed.subscribers("one-more") == ()
    feed.subscribe(2, "one-more")
    assert feed.subscribers("one-more") == (2,)
