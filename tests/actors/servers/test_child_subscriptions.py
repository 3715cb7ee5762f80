"""The follow-up's child stream on the task server: subscribe, replay from a cursor, push, stop."""

from __future__ import annotations

import trio

from actors.rules.child_feed import MAX_SUBSCRIPTIONS_PER_LINK
from actors.runtime.limits import ConnectionLimits
from actors.runtime.transport import CloseCode, LinkClosed
from protocol import (
    Execution,
    ListRuns,
    RunsListed,
    RunState,
    TaskErrorKind,
    UpdateAgentTask,
)
from protocol.tasks import (
    ChildrenSubscribed,
    ChildrenUnsubscribed,
    ChildRunChanged,
    SubscribeChildren,
    UnsubscribeChildren,
)
from tests.actors.netkit import Tasks, open_tasks, running_servers

#: Long enough for any frame still on its way to arrive.
QUIET_S = 5.0
#: A task link's outbox bound small enough that a dozen pushes at once overflow it.
BACKLOG_BYTES = 2000


async def _pushes(tasks: Tasks, count: int) -> list[ChildRunChanged]:
    return [await tasks.client.expect(ChildRunChanged) for _ in range(count)]


async def _until_quiet_or_closed(tasks: Tasks) -> tuple[list[object], LinkClosed | None]:
    """Every frame until none comes for `QUIET_S`, or until the link closes (and how)."""
    frames: list[object] = []
    while True:
        with trio.move_on_after(QUIET_S):
            try:
                frames.append(await tasks.client.receive())
            except LinkClosed as closed:
                return frames, closed
            continue
        return frames, None


async def _nothing_more(tasks: Tasks) -> None:
    with trio.move_on_after(QUIET_S):
        extra = await tasks.client.receive()
        raise AssertionError(f"expected nothing more, got {extra!r}")


async def test_every_change_of_a_direct_child_is_pushed_in_sequence_order(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        other = await alice.create("Elsewhere", Execution.LOCAL)
        servers.tasks.store.add_team("owners", ["alice", "bob"])
        bob = await open_tasks(servers, "bob")
        listed = await bob.call(ListRuns(bob.request_id(), parent.task_id))
        assert isinstance(listed, RunsListed)
        assert listed.runs == ()
        subscribed = await bob.call(SubscribeChildren(bob.request_id(), parent.task_id))
        assert subscribed == ChildrenSubscribed(subscribed.request_id, parent.task_id)

        child = await alice.create("Research", Execution.LOCAL, parent.task_id)
        await alice.create("Unrelated", Execution.LOCAL, other.task_id)
        await alice.move(child.task_id, RunState.CLAIMED)
        await alice.move(child.task_id, RunState.CLAIMED)  # no change, no push
        await alice.run(UpdateAgentTask(alice.request_id(), child.task_id, session_id="s-1"))
        pushes = await _pushes(bob, 3)
        assert [p.parent_run_id for p in pushes] == [parent.task_id] * 3
        assert [p.run.task_id for p in pushes] == [child.task_id] * 3
        assert [(p.run.state, p.run.session_id) for p in pushes] == [
            (RunState.QUEUED, None),
            (RunState.CLAIMED, None),
            (RunState.CLAIMED, "s-1"),
        ]
        sequences = [p.sequence for p in pushes]
        assert sequences == sorted(set(sequences))
        assert [p.run.last_event_sequence for p in pushes] == sequences
        await _nothing_more(bob)


async def test_a_subscription_replays_every_child_changed_after_its_cursor(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        first = await alice.create("Research", Execution.CLOUD, parent.task_id)
        second = await alice.create("Write", Execution.LOCAL, parent.task_id)
        listed = await alice.call(ListRuns(alice.request_id(), parent.task_id))
        assert isinstance(listed, RunsListed)
        cursor = max(r.last_event_sequence or 0 for r in listed.runs)
        assert cursor == second.last_event_sequence
        await alice.move(first.task_id, RunState.CLAIMED)

        await alice.call(SubscribeChildren(alice.request_id(), parent.task_id, cursor))
        (replayed,) = await _pushes(alice, 1)
        assert (replayed.run.task_id, replayed.run.state) == (first.task_id, RunState.CLAIMED)
        # From the start: every child, oldest change first, each with its latest row.
        await alice.call(SubscribeChildren(alice.request_id(), parent.task_id))
        assert [p.run.task_id for p in await _pushes(alice, 2)] == [
            second.task_id,
            first.task_id,
        ]
        await _nothing_more(alice)


async def test_a_stranger_is_refused_as_for_a_run_that_does_not_exist(
    autojump_clock: trio.abc.Clock,
) -> None:
    """As with listings: the same kind and words for a hidden parent and a missing one."""
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        stranger = await open_tasks(servers, "stranger")
        refused = await stranger.error(SubscribeChildren(stranger.request_id(), parent.task_id))
        listing = await stranger.error(ListRuns(stranger.request_id(), parent.task_id))
        missing = await stranger.error(SubscribeChildren(stranger.request_id(), "t-404"))
        assert (refused.kind, refused.message) == (
            TaskErrorKind.NOT_FOUND,
            f"no run {parent.task_id}",
        )
        assert (listing.kind, listing.message) == (refused.kind, refused.message)
        assert (missing.kind, missing.message) == (TaskErrorKind.NOT_FOUND, "no run t-404")
        assert servers.tasks.feed.subscribers(parent.task_id) == ()
        await alice.create("Research", Execution.LOCAL, parent.task_id)
        await _nothing_more(stranger)
        assert servers.tasks.store.requests_by("stranger", "subscribe_children") == 2


async def test_unsubscribing_or_losing_the_link_ends_the_pushes(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        servers.tasks.store.add_team("owners", ["alice", "bob"])
        bob = await open_tasks(servers, "bob")
        await bob.call(SubscribeChildren(bob.request_id(), parent.task_id))
        gone = await open_tasks(servers, "bob")
        await gone.call(SubscribeChildren(gone.request_id(), parent.task_id))
        assert len(servers.tasks.feed.subscribers(parent.task_id)) == 2
        await gone.client.link.close()
        unsubscribed = await bob.call(UnsubscribeChildren(bob.request_id(), parent.task_id))
        assert unsubscribed == ChildrenUnsubscribed(unsubscribed.request_id, parent.task_id)
        await alice.create("Research", Execution.LOCAL, parent.task_id)
        await _nothing_more(bob)
        assert servers.tasks.feed.subscribers(parent.task_id) == ()


async def test_a_link_follows_only_so_many_parents(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        parents = [
            await alice.create(f"Plan {n}", Execution.LOCAL)
            for n in range(MAX_SUBSCRIPTIONS_PER_LINK + 1)
        ]
        for parent in parents[:-1]:
            await alice.call(SubscribeChildren(alice.request_id(), parent.task_id))
        again = await alice.call(SubscribeChildren(alice.request_id(), parents[0].task_id))
        assert isinstance(again, ChildrenSubscribed)
        refused = await alice.error(SubscribeChildren(alice.request_id(), parents[-1].task_id))
        assert refused.kind is TaskErrorKind.INVALID
        assert str(MAX_SUBSCRIPTIONS_PER_LINK) in refused.message


async def test_a_subscription_from_no_cursor_sends_a_snapshot_then_every_later_change(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Subscribing with no cursor is the snapshot: each child as it is now, then live changes."""
    async with running_servers() as servers:
        servers.tasks.store.add_team("owners", ["alice", "bob"])
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        first = await alice.create("Research", Execution.LOCAL, parent.task_id)
        second = await alice.create("Write", Execution.CLOUD, parent.task_id)
        await alice.move(first.task_id, RunState.CLAIMED)
        bob = await open_tasks(servers, "bob")

        await bob.call(SubscribeChildren(bob.request_id(), parent.task_id))
        snapshot = await _pushes(bob, 2)
        assert [(p.run.task_id, p.run.state) for p in snapshot] == [
            (second.task_id, RunState.QUEUED),
            (first.task_id, RunState.CLAIMED),
        ]
        await alice.move(second.task_id, RunState.CLAIMED, RunState.RUNNING)
        live = await _pushes(bob, 2)
        assert [(p.run.task_id, p.run.state) for p in live] == [
            (second.task_id, RunState.CLAIMED),
            (second.task_id, RunState.RUNNING),
        ]
        sequences = [p.sequence for p in (*snapshot, *live)]
        assert sequences == sorted(set(sequences))
        await _nothing_more(bob)


async def test_resubscribing_from_the_cursor_after_a_lost_link_misses_nothing_and_repeats_nothing(
    autojump_clock: trio.abc.Clock,
) -> None:
    """What changed while the link was down comes once, as each child's latest row.

    A child that changed twice while the viewer was away is replayed once, in
    its final state: the replay is of rows, each standing for all its changes.
    """
    async with running_servers() as servers:
        servers.tasks.store.add_team("owners", ["alice", "bob"])
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        first = await alice.create("Research", Execution.LOCAL, parent.task_id)
        second = await alice.create("Write", Execution.LOCAL, parent.task_id)
        await alice.create("Idle", Execution.LOCAL, parent.task_id)  # unchanged while away
        bob = await open_tasks(servers, "bob")
        await bob.call(SubscribeChildren(bob.request_id(), parent.task_id))
        applied = await _pushes(bob, 3)
        await alice.move(first.task_id, RunState.CLAIMED)
        applied += await _pushes(bob, 1)
        cursor = applied[-1].sequence

        await bob.client.link.close()
        await alice.run(UpdateAgentTask(alice.request_id(), first.task_id, session_id="s-1"))
        await alice.move(first.task_id, RunState.SUCCEEDED)
        third = await alice.create("Review", Execution.LOCAL, parent.task_id)
        await alice.move(second.task_id, RunState.CLAIMED)
        assert servers.tasks.feed.subscribers(parent.task_id) == ()

        again = await open_tasks(servers, "bob")
        await again.call(SubscribeChildren(again.request_id(), parent.task_id, cursor))
        missed = await _pushes(again, 3)
        assert [p.run.task_id for p in missed] == [first.task_id, third.task_id, second.task_id]
        assert (missed[0].run.state, missed[0].run.session_id) == (RunState.SUCCEEDED, "s-1")
        assert all(p.sequence > cursor for p in missed)
        await alice.move(third.task_id, RunState.CLAIMED)
        (live,) = await _pushes(again, 1)
        assert (live.run.task_id, live.run.state) == (third.task_id, RunState.CLAIMED)
        sequences = [p.sequence for p in (*applied, *missed, live)]
        assert sequences == sorted(set(sequences)), "a change came twice or out of order"
        await _nothing_more(again)


async def test_a_subscriber_too_far_behind_is_cut_off_and_catches_up_from_its_cursor(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Pushes wait in the link's bounded outbox like every other frame.

    Past the bound the server stops queueing, lets what is queued drain,
    closes with 1013 and forgets the subscription; the subscriber resumes from
    the last change it received, until it has every child exactly once.
    """
    children = 12
    limits = ConnectionLimits(max_backlog_bytes=BACKLOG_BYTES)
    async with running_servers(connection_limits=limits) as servers:
        servers.tasks.store.add_team("owners", ["alice", "bob"])
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        for n in range(children):
            await alice.create(f"Child {n}", Execution.LOCAL, parent.task_id)

        received: list[ChildRunChanged] = []
        cursor: int | None = None
        cut_off = 0
        for _ in range(children):
            bob = await open_tasks(servers, "bob")
            await bob.call(SubscribeChildren(bob.request_id(), parent.task_id, cursor))
            frames, closed = await _until_quiet_or_closed(bob)
            assert all(isinstance(f, ChildRunChanged) for f in frames), frames
            received += frames  # type: ignore[arg-type]
            if closed is None:
                break
            assert closed.code == CloseCode.TRY_AGAIN_LATER
            assert frames, "what was queued was thrown away instead of delivered"
            cut_off += 1
            cursor = received[-1].sequence
        assert cut_off > 0, "the bound was never reached: the test proves nothing"
        assert [p.run.title for p in received] == [f"Child {n}" for n in range(children)]
        assert len(servers.tasks.feed.subscribers(parent.task_id)) == 1, (
            "only the last link follows"
        )
