"""A client repeating a frame the servers ignore makes a few log lines and one summary, not a flood.

Each line names the connection by its address (`peer`), so an operator can
tell who is sending.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import trio
from structlog.testing import capture_logs

from actors.rules.repeats import SHOWN
from protocol import TaskError
from protocol.runs import Execution
from tests.actors.netkit import joined, open_tasks, running_servers

#: Far more frames than any log should show one by one.
FLOOD = 50


def lines(logs: list[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == event]


async def test_unknown_messages_to_the_task_server_are_logged_a_few_times_then_summed(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        with capture_logs() as logs:
            for n in range(FLOOD):
                alice.client.send_raw(f'{{"ArchiveRun": {{"request_id": {n}}}}}')
            assert (await alice.create("Plan", Execution.LOCAL)).title == "Plan"
            await alice.client.link.close()
            await trio.sleep(1)
    shown = lines(logs, "unknown_message_ignored")
    assert len(shown) == SHOWN
    assert {entry["peer"] for entry in shown} == {"alice"}
    [summary] = lines(logs, "repeats_not_logged")
    assert summary["peer"] == "alice"
    assert summary["repeated"] == "unknown_message_ignored"
    assert summary["count"] == FLOOD - SHOWN


async def test_malformed_requests_are_logged_a_few_times_then_summed(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        alice = await open_tasks(servers, "alice")
        with capture_logs() as logs:
            for _ in range(FLOOD):
                alice.client.send_raw('{"GetRun": {"request_id": "seven"}}')
            for _ in range(FLOOD):
                await alice.client.expect(TaskError)
            await alice.client.link.close()
            await trio.sleep(1)
    shown = lines(logs, "malformed_frame")
    assert len(shown) == SHOWN
    assert {entry["peer"] for entry in shown} == {"alice"}
    [summary] = lines(logs, "repeats_not_logged")
    assert (summary["repeated"], summary["count"]) == ("malformed_frame", FLOOD - SHOWN)


async def test_unknown_messages_to_the_session_server_name_the_peer_and_are_summed(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        _, created = await servers.share()
        client, _ = await joined(servers, "viewer-a", created)
        with capture_logs() as logs:
            for _ in range(FLOOD):
                client.send_raw(
                    '{"ReportTerminalSize":{"window_size":{"num_rows":1,"num_cols":2}}}'
                )
            await client.link.close()
            await trio.sleep(1)
    shown = lines(logs, "unknown_message_ignored")
    assert len(shown) == SHOWN
    assert {entry["peer"] for entry in shown} == {"viewer-a"}
    [summary] = lines(logs, "repeats_not_logged")
    assert (summary["peer"], summary["count"]) == ("viewer-a", FLOOD - SHOWN)
