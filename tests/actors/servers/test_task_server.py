"""The task server over WebSocket: runs, gates, access, paging, counting and bad input."""

from __future__ import annotations

import pytest
import trio
from structlog.testing import capture_logs

from actors.rules.task_store import TaskGates
from actors.runtime.transport import DEFAULT_MAX_FRAME_BYTES, CloseCode
from protocol import (
    Execution,
    GetRun,
    ListRuns,
    RunReply,
    RunsListed,
    RunState,
    TaskError,
    TaskErrorKind,
    TransitionRun,
    UpdateAgentTask,
)
from protocol.tasks import PAGE_LIMIT
from tests.actors.netkit import open_tasks, running_servers


async def test_a_cloud_run_claims_runs_and_ends_and_a_local_run_ends_from_claimed(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        assert parent.state is RunState.QUEUED
        cloud = await alice.create("Research", Execution.CLOUD, parent.task_id)
        local = await alice.create("Write", Execution.LOCAL, parent.task_id)
        assert cloud.parent_run_id == parent.task_id
        done = await alice.move(
            cloud.task_id, RunState.CLAIMED, RunState.RUNNING, RunState.SUCCEEDED
        )
        assert done.state is RunState.SUCCEEDED
        await alice.move(local.task_id, RunState.CLAIMED)
        refused = await alice.error(
            TransitionRun(alice.request_id(), local.task_id, RunState.RUNNING)
        )
        assert refused.kind is TaskErrorKind.INVALID
        assert refused.message == (f"run {local.task_id} (LOCAL) cannot go from CLAIMED to RUNNING")
        assert (await alice.move(local.task_id, RunState.FAILED)).state is RunState.FAILED
        got = await alice.run(GetRun(alice.request_id(), local.task_id))
        assert got.state is RunState.FAILED


@pytest.mark.parametrize(("accepts_claimed", "accepted"), [(True, True), (False, False)])
async def test_the_session_link_gate_over_the_wire(
    autojump_clock: trio.abc.Clock, accepts_claimed: bool, accepted: bool
) -> None:
    gates = TaskGates(link_gate_accepts_claimed=accepts_claimed)
    async with running_servers(gates=gates) as servers:
        alice = await open_tasks(servers, "alice")
        run = await alice.create("Plan", Execution.LOCAL)
        await alice.move(run.task_id, RunState.CLAIMED)
        update = UpdateAgentTask(alice.request_id(), run.task_id, session_id="s-1")
        if accepted:
            assert (await alice.run(update)).session_id == "s-1"
        else:
            refused = await alice.error(update)
            assert refused.kind is TaskErrorKind.REJECTED_BY_GATE
            assert "it is CLAIMED, links are accepted only while RUNNING" in refused.message


@pytest.mark.parametrize(("keep_local", "local_shown"), [(True, "s-local"), (False, None)])
async def test_finished_runs_show_or_hide_their_session(
    autojump_clock: trio.abc.Clock, keep_local: bool, local_shown: str | None
) -> None:
    async with running_servers(
        gates=TaskGates(keep_finished_local_session_id=keep_local)
    ) as servers:
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        local = await alice.create("Write", Execution.LOCAL, parent.task_id)
        never_ran = await alice.create("Research", Execution.CLOUD, parent.task_id)
        ran = await alice.create("Review", Execution.CLOUD, parent.task_id)
        for run, session in ((local, "s-local"), (never_ran, "s-never"), (ran, "s-ran")):
            await alice.move(run.task_id, RunState.CLAIMED)
            if run is ran:
                await alice.move(run.task_id, RunState.RUNNING)
            await alice.run(UpdateAgentTask(alice.request_id(), run.task_id, session_id=session))
            await alice.move(run.task_id, RunState.SUCCEEDED)
        listed = await alice.call(ListRuns(alice.request_id(), parent.task_id))
        assert isinstance(listed, RunsListed)
        assert {r.task_id: r.session_id for r in listed.runs} == {
            local.task_id: local_shown,
            never_ran.task_id: None,
            ran.task_id: "s-ran",
        }


async def test_the_owner_and_her_team_view_her_runs_and_a_stranger_finds_none(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Ownership over the wire: children are the parent owner's, a teammate may only read.

    The stranger's refusals are NOT_FOUND, word for word what a run that
    does not exist gets, so a guess learns nothing.
    """
    async with running_servers() as servers:
        servers.tasks.store.add_team("owners", ["alice", "team"])
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        child = await alice.create("Research", Execution.CLOUD, parent.task_id)
        sibling = await alice.create("Write", Execution.LOCAL, parent.task_id)
        team = await open_tasks(servers, "team")
        listed = await team.call(ListRuns(team.request_id(), parent.task_id))
        assert isinstance(listed, RunsListed)
        assert [r.task_id for r in listed.runs] == [child.task_id, sibling.task_id]
        assert (await team.run(GetRun(team.request_id(), sibling.task_id))).title == "Write"
        update = UpdateAgentTask(team.request_id(), child.task_id, session_id="s")
        assert (await team.error(update)).kind is TaskErrorKind.FORBIDDEN
        stranger = await open_tasks(servers, "stranger")
        for task_id, request in (
            (parent.task_id, GetRun(stranger.request_id(), parent.task_id)),
            (parent.task_id, ListRuns(stranger.request_id(), parent.task_id)),
            (child.task_id, GetRun(stranger.request_id(), child.task_id)),
            ("t-99", GetRun(stranger.request_id(), "t-99")),
        ):
            refused = await stranger.error(request)
            assert (refused.kind, refused.message) == (TaskErrorKind.NOT_FOUND, f"no run {task_id}")


async def test_children_come_a_page_at_a_time(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        ids = [
            (await alice.create(f"child {i}", Execution.LOCAL, parent.task_id)).task_id
            for i in range(PAGE_LIMIT + 3)
        ]
        first = await alice.call(ListRuns(alice.request_id(), parent.task_id))
        assert isinstance(first, RunsListed)
        assert len(first.runs) == PAGE_LIMIT
        assert first.next_cursor is not None
        rest = await alice.call(
            ListRuns(alice.request_id(), parent.task_id, cursor=first.next_cursor)
        )
        assert isinstance(rest, RunsListed)
        assert rest.next_cursor is None
        assert [r.task_id for r in first.runs + rest.runs] == ids
        too_many = await alice.error(ListRuns(alice.request_id(), parent.task_id, limit=101))
        assert too_many.message == "limit must be 1..100, got 101"


async def test_every_request_is_counted_per_principal_and_endpoint(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        bob = await open_tasks(servers, "bob")
        parent = await alice.create("Plan", Execution.LOCAL)
        for _ in range(3):
            await alice.call(ListRuns(alice.request_id(), parent.task_id))
        await bob.error(GetRun(bob.request_id(), parent.task_id))  # refused, still counted
        store = servers.tasks.store
        assert store.requests_by("alice", "create_run") == 1
        assert store.requests_by("alice", "list_runs") == 3
        assert store.requests_by("alice") == 4
        assert store.requests_by("bob", "get_run") == 1


# -- bad input -----------------------------------------------------------------------------


async def test_a_malformed_request_gets_an_error_and_the_link_stays(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        with capture_logs() as logs:
            alice.client.send_raw('{"GetRun": {"request_id": "seven"}}')
            error = await alice.client.expect(TaskError)
        assert error.request_id == 0
        assert error.kind is TaskErrorKind.INVALID
        assert error.message == (
            'malformed request: at $.GetRun.request_id: expected an integer, got "seven"'
        )
        assert "malformed_frame" in [e["event"] for e in logs]
        assert (await alice.create("Plan", Execution.LOCAL)).title == "Plan"


async def test_a_reply_sent_as_a_request_is_refused(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        run = await alice.create("Plan", Execution.LOCAL)
        alice.client.send(RunReply(41, run))
        error = await alice.client.expect(TaskError)
        assert (error.request_id, error.kind) == (41, TaskErrorKind.INVALID)
        assert error.message == "RunReply is a reply, not a request"
        assert servers.tasks.store.requests_by("alice") == 1


async def test_an_unknown_request_is_logged_and_ignored(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        with capture_logs() as logs:
            alice.client.send_raw('{"ArchiveRun": {"request_id": 3, "task_id": "t-1"}}')
            run = await alice.create("Plan", Execution.LOCAL)
        assert run.title == "Plan"
        assert [e["tag"] for e in logs if e["event"] == "unknown_message_ignored"] == ["ArchiveRun"]


@pytest.mark.parametrize("cursor", ["²", "9" * 5000, "-1", "abc"])
async def test_a_forged_cursor_is_refused_not_fatal(
    autojump_clock: trio.abc.Clock, cursor: str
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        parent = await alice.create("Plan", Execution.LOCAL)
        error = await alice.error(ListRuns(alice.request_id(), parent.task_id, cursor=cursor))
        assert error.kind is TaskErrorKind.INVALID
        assert "is not one this server issued" in error.message
        assert (await alice.run(GetRun(alice.request_id(), parent.task_id))).title == "Plan"


async def test_an_oversized_request_closes_that_link_only(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        rogue = await open_tasks(servers, "rogue")
        rogue.client.send_raw("[" + "0," * DEFAULT_MAX_FRAME_BYTES + "0]")
        assert (await rogue.client.closed()).code == CloseCode.TOO_BIG
        assert (await alice.create("Plan", Execution.LOCAL)).title == "Plan"
