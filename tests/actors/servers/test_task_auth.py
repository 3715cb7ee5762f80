"""The task server knows who a client is only from the token it was issued."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from actors.runtime.transport import CloseCode, LinkRefused
from protocol import CreateRun, Execution, GetRun, TaskErrorKind
from tests.actors.netkit import Tasks, open_tasks, running_servers, store_state


@pytest.mark.parametrize(
    "resource",
    [
        "/tasks",
        "/tasks?principal=alice",
        "/tasks?token=",
        "/tasks?token=0123456789abcdef0123456789abcdef",
        "/tasks?principal=alice&token=user:alice",
    ],
)
async def test_a_link_without_an_issued_token_is_closed_unserved(
    autojump_clock: trio.abc.Clock, resource: str
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        await alice.create("Plan", Execution.LOCAL)
        await trio.testing.wait_all_tasks_blocked()
        before = store_state(servers.tasks.store)
        client = await servers.connect("mallory", "task-server", resource)
        client.send(CreateRun(1, "Forged", Execution.LOCAL))
        frames, closed = await client.rest()
        assert frames == []
        assert (closed.code, closed.reason) == (
            CloseCode.POLICY_VIOLATION,
            "task token missing or not recognised; ask the server's operator for one",
        )
        assert store_state(servers.tasks.store) == before


async def test_a_token_speaks_for_its_principal_whatever_the_query_claims(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        run = await alice.create("Plan", Execution.LOCAL)
        mallory_token = servers.tasks.store.issue_token("mallory").reveal()
        resource = f"/tasks?principal=alice&token={mallory_token}"
        mallory = Tasks(await servers.connect("mallory", "task-server", resource))
        refused = await mallory.error(GetRun(mallory.request_id(), run.task_id))
        assert refused.kind is TaskErrorKind.NOT_FOUND
        assert refused.message == f"no run {run.task_id}"
        assert servers.tasks.store.requests_by("mallory", "get_run") == 1
        assert servers.tasks.store.requests_by("alice", "get_run") == 0


async def test_a_route_other_than_tasks_is_refused_at_the_handshake(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        token = servers.tasks.store.issue_token("alice").reveal()
        with pytest.raises(LinkRefused):
            await servers.connect("anyone", "task-server", f"/elsewhere?token={token}")
