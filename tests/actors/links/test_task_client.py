"""The task client: a refusal is final and says which request it was; a lost call is not one."""

from __future__ import annotations

import pytest
import trio

from actors.links.task_client import TaskClient
from protocol.errors import SharesimError
from protocol.tasks import GetRun, TaskCallFailed, TaskErrorKind, TaskRefused
from tests.actors.netkit import running_servers


async def test_an_error_reply_raises_a_refusal_that_is_not_retried(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        token = servers.tasks.store.issue_token("alice")
        client = TaskClient("alice", token, servers.simulation.network, servers.nursery)
        with pytest.raises(TaskRefused) as caught:
            await client.call_retrying(lambda rid: GetRun(rid, "t-none"))
        refused = caught.value
        assert (refused.kind, refused.reason, refused.request) == (
            TaskErrorKind.NOT_FOUND,
            "no run t-none",
            "GetRun",
        )
        assert str(refused) == "GetRun failed: no run t-none"
        assert servers.tasks.store.requests_by("alice", "get_run") == 1


async def test_a_call_that_cannot_connect_fails_without_being_a_refusal(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        token = servers.tasks.store.issue_token("alice")
        network, nursery = servers.simulation.network, servers.nursery
        client = TaskClient("alice", token, network, nursery, server="nowhere")
        with pytest.raises(TaskCallFailed) as caught:
            await client.call(lambda rid: GetRun(rid, "t-1"))
        assert not isinstance(caught.value, TaskRefused)
        assert caught.value.request == "GetRun"
        assert str(caught.value) == f"GetRun failed: {caught.value.reason}"


def test_a_store_refusal_is_the_same_error_without_a_request_name() -> None:
    refused = TaskRefused(TaskErrorKind.FORBIDDEN, "bob may not view run t-1")
    assert isinstance(refused, TaskCallFailed)
    assert isinstance(refused, SharesimError)
    assert str(refused) == refused.reason == "bob may not view run t-1"


async def test_requests_leave_in_the_order_sent_and_their_replies_are_awaited_apart(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        token = servers.tasks.store.issue_token("alice")
        client = TaskClient("alice", token, servers.simulation.network, servers.nursery)
        first = await client.send(lambda rid: GetRun(rid, "t-first"))
        second = await client.send(lambda rid: GetRun(rid, "t-second"))
        with pytest.raises(TaskRefused, match="no run t-second"):
            await client.reply(second)
        with pytest.raises(TaskRefused, match="no run t-first"):
            await client.reply(first)
        asked = [
            r.ids["request_id"]
            for r in servers.simulation.trace
            if r.type == "GetRun" and r.dst == "task-server"
        ]
        assert asked == [str(first.request_id), str(second.request_id)]


async def test_a_request_that_could_not_be_sent_fails_when_its_reply_is_awaited(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        token = servers.tasks.store.issue_token("alice")
        network, nursery = servers.simulation.network, servers.nursery
        client = TaskClient("alice", token, network, nursery, server="nowhere")
        sent = await client.send(lambda rid: GetRun(rid, "t-1"))
        assert sent.failure is not None
        with pytest.raises(TaskCallFailed) as caught:
            await client.reply(sent)
        assert caught.value is sent.failure
