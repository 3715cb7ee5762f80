"""Bad actors over the WebSocket servers: each gets a clear refusal and the server keeps its state.

Each test snapshots the server's whole store before the attempt and compares
it afterwards; the only difference allowed is the bookkeeping the attempt
itself causes (a link that ended, a request that was counted), spelled out
in the test. Where `tests/actors/servers` already shows the refusal, these
tests say so and add what was missing: the state check, and that nothing but
the refusal reached the client.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
import trio
import trio.testing

from actors.rules.session_store import ServerSwitches
from actors.servers.session_server import JoinLink
from protocol import (
    CreateRun,
    Execution,
    GetRun,
    ListRuns,
    RunState,
    TaskErrorKind,
    UpdateAgentTask,
    UserId,
    encode,
    sharer,
    viewer,
)
from protocol.message import Message
from protocol.tasks import GetAgentNames
from tests.actors.netkit import (
    Servers,
    event_numbers,
    exchange_event,
    joined,
    open_tasks,
    running_servers,
    send_events,
    store_state,
)

State = dict[str, object]


async def settled(servers: Servers) -> tuple[State, State]:
    """Both stores once every frame in flight has been handled (nothing runs on a timer here)."""
    await trio.testing.wait_all_tasks_blocked()
    return store_state(servers.sessions.store), store_state(servers.tasks.store)


def link_forgotten(state: State, session_id: str, viewer_id: str) -> State:
    """`state` once a seat's link has ended now: the seat stays, the link is forgotten."""
    seat = cast(dict[str, Any], state["sessions"])[session_id].seats[viewer_id]
    del cast(dict[int, object], state["_conns"])[seat.conn]
    seat.conn, seat.idle_since = None, trio.current_time()
    return state


def counted(state: State, principal: str, endpoint: str) -> State:
    """`state` once one more request from `principal` to `endpoint` has been counted."""
    cast(dict[tuple[str, str], int], state["requests"])[(principal, endpoint)] += 1
    return state


# -- the session server ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER),
        exchange_event(0),
        sharer.UpdateSourceTaskId("t-forged"),
    ],
    ids=["EndSession", "OrderedTerminalEvent", "UpdateSourceTaskId"],
)
async def test_a_viewer_cannot_speak_for_the_sharer(
    autojump_clock: trio.abc.Clock, message: Message
) -> None:
    """Extends `test_a_viewer_sending_sharer_messages_is_closed_for_policy` (EndSession only).

    A joined viewer's sharer message ends nothing, stores no event and
    changes no task id (the push is switched on, so the sharer's own would
    be accepted); the only change on the server is that the viewer's link
    is gone. The sharer's own event 0 is then taken as the first.
    """
    async with running_servers(switches=ServerSwitches(push_source_task_id=True)) as servers:
        owner, created = await servers.share()
        watcher, _ = await joined(servers, "watcher", created)
        rogue, seat = await joined(servers, "rogue", created)
        before, _ = await settled(servers)
        rogue.send(message)
        frames, closed = await rogue.rest()
        assert frames == []
        reason = f"{message.message_type} is a sharer message; a viewer may not send it"
        assert (closed.code, closed.reason) == (1008, reason)
        after, _ = await settled(servers)
        assert after == link_forgotten(before, created.session_id, seat.viewer_id)
        await send_events(owner, 0)
        assert await event_numbers(watcher, 1) == [0]


@pytest.mark.parametrize(
    "pwd",
    [None, "", "guess", "OTHER"],
    ids=["no pwd", "empty pwd", "wrong pwd", "another session's pwd"],
)
async def test_a_join_without_the_link_secret_gets_nothing(
    autojump_clock: trio.abc.Clock, pwd: str | None
) -> None:
    """Extends `test_a_join_with_a_wrong_secret_fails_as_if_there_were_no_session` and the store's
    `test_a_join_that_cannot_succeed_fails_with_its_reason` (no pwd, in memory).

    Over the wire, for every way of lacking the secret: the refusal is the
    only frame (no manifest, none of the events already stored) and the
    server is exactly as it was.
    """
    async with running_servers() as servers:
        owner, created = await servers.share()
        _, other = await servers.share("someone-else")
        await send_events(owner, 0, 1)
        before = await settled(servers)
        query = "" if pwd is None else f"?pwd={pwd}"
        query = query.replace("OTHER", other.session_secret.reveal())
        guesser = await servers.connect(
            "guesser", "session-server", f"/sessions/join/{created.session_id}{query}"
        )
        guesser.send(viewer.Initialize(viewer.ViewerInitPayload(UserId("guesser"))))
        frames, closed = await guesser.rest()
        assert frames == [viewer.FailedToJoin(viewer.JoinFailureReason.SESSION_NOT_FOUND)]
        assert (closed.code, closed.reason) == (1008, "join refused: SessionNotFound")
        assert await settled(servers) == before


@pytest.mark.parametrize("claims", ["mallory", "bob"])
async def test_a_viewer_cannot_rejoin_as_another_viewer(
    autojump_clock: trio.abc.Clock, claims: str
) -> None:
    """Extends the store's `test_a_rejoin_to_a_seat_that_is_not_yours_is_invalid`.

    Mallory has the link, secret included, and names Bob's seat asking for
    every event, as herself or claiming to be Bob; without the seat's token
    she gets only the refusal, Bob's link is not replaced (it keeps
    receiving) and the server is exactly as it was.
    """
    async with running_servers() as servers:
        owner, created = await servers.share()
        bob, seat = await joined(servers, "bob", created)
        await send_events(owner, 0, 1)
        assert await event_numbers(bob, 2) == [0, 1]
        before = await settled(servers)
        mallory, reply = await servers.join(claims, created, viewer_id=seat.viewer_id)
        assert reply == viewer.FailedToJoin(viewer.JoinFailureReason.INVALID)
        frames, closed = await mallory.rest()
        assert frames == []
        assert (closed.code, closed.reason) == (1008, "join refused: Invalid")
        assert await settled(servers) == before
        await send_events(owner, 2)
        assert await event_numbers(bob, 1) == [2]


# -- the task server -------------------------------------------------------------------------


async def test_children_of_a_run_stay_hidden_from_who_cannot_view_it(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Extends `test_the_owner_and_her_team_view_her_runs_and_a_stranger_finds_none`.

    A stranger, and a member of another team, are refused the parent's
    children as if the parent did not exist; each refusal is counted and
    changes nothing else.
    """
    async with running_servers() as servers:
        servers.tasks.store.add_team("owners", ["alice", "bob"])
        servers.tasks.store.add_team("others", ["carol"])
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        await alice.create("Research", Execution.CLOUD, parent.task_id)
        for principal in ("stranger", "carol"):
            who = await open_tasks(servers, principal)
            _, before = await settled(servers)
            refused = await who.error(ListRuns(who.request_id(), parent.task_id))
            assert (refused.kind, refused.message) == (
                TaskErrorKind.NOT_FOUND,
                f"no run {parent.task_id}",
            )
            _, after = await settled(servers)
            assert after == counted(before, principal, "list_runs")


async def test_a_child_links_holder_learns_nothing_over_the_task_api(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Extends the store's `test_a_stranger_is_told_a_hidden_run_does_not_exist`.

    Every run of an orchestration has a live shared session, and Mallory
    holds the child's link: the session opens for her (the session server's
    business), but every task-server request about the child, its parent,
    its sibling or its group's names is refused exactly as a run that does
    not exist is, and no frame she receives holds a session id or a secret.
    """
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        child = await alice.create("Research", Execution.LOCAL, parent.task_id)
        sibling = await alice.create("Write", Execution.LOCAL, parent.task_id)
        shares: dict[str, sharer.SessionInitialized] = {}
        for run in (parent, child, sibling):
            _, shares[run.task_id] = await servers.share(f"host-{run.task_id}")
            link = await servers.sessions.ref.ask(JoinLink(shares[run.task_id].session_id))
            assert isinstance(link, str)
            await alice.move(run.task_id, RunState.CLAIMED)
            await alice.run(
                UpdateAgentTask(
                    alice.request_id(),
                    run.task_id,
                    session_id=shares[run.task_id].session_id,
                    session_link=link,
                )
            )
        await joined(servers, "mallory", shares[child.task_id])
        mallory = await open_tasks(servers, "mallory")
        replies = []
        for task_id in (child.task_id, parent.task_id, sibling.task_id, "t-99"):
            for request in (
                GetRun(mallory.request_id(), task_id),
                ListRuns(mallory.request_id(), task_id),
                GetAgentNames(mallory.request_id(), task_id),
            ):
                refused = await mallory.error(request)
                assert (refused.kind, refused.message) == (
                    TaskErrorKind.NOT_FOUND,
                    f"no run {task_id}",
                )
                replies.append(refused)
        wire = "".join(encode(reply) for reply in replies)
        for run in (parent, child, sibling):
            assert shares[run.task_id].session_id not in wire
            assert shares[run.task_id].session_secret.reveal() not in wire


async def test_a_refused_create_leaves_its_key_unused(autojump_clock: trio.abc.Clock) -> None:
    """A create refused for want of access must not claim its idempotency key.

    Bob's create under Alice's run is refused (to him it does not exist) and
    changes nothing; his next
    create with the same key then makes a new run of his own, and a create
    with no key is never taken for one with the empty key. (A refused create
    used to record the key, and the retry crashed the task server.)
    """
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        bob = await open_tasks(servers, "bob")
        _, before = await settled(servers)
        forged = CreateRun(bob.request_id(), "Mine", Execution.LOCAL, parent.task_id, None, "k")
        assert (await bob.error(forged)).kind is TaskErrorKind.NOT_FOUND
        _, after = await settled(servers)
        assert after == counted(before, "bob", "create_run")
        own = await bob.run(CreateRun(bob.request_id(), "Mine", Execution.LOCAL, None, None, "k"))
        assert (own.title, own.parent_run_id) == ("Mine", None)
        keyed = await bob.run(CreateRun(bob.request_id(), "Empty", Execution.LOCAL, None, None, ""))
        keyless = await bob.create("Keyless", Execution.LOCAL)
        assert len({parent.task_id, own.task_id, keyed.task_id, keyless.task_id}) == 4
        assert keyless.title == "Keyless"
