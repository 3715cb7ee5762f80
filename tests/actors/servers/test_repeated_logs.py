"""A client repeating a frame the servers ignore makes a few log lines and one summary, not a flood.

Each line names the connection by its address (`peer`), so an operator can
tell who is sending. The lines shown are counted per client and per minute,
not per connection, so reconnecting starts nothing afresh; the summary comes
once the minute is over, the next time the server looks.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import trio
from structlog.testing import capture_logs

from actors.rules.repeats import SHOWN, WINDOW_S
from protocol import TaskError
from protocol.runs import Execution
from tests.actors.netkit import Servers, joined, open_tasks, running_servers

#: Far more frames than any log should show one by one.
FLOOD = 50


def lines(logs: list[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == event]


async def after_the_window(servers: Servers) -> None:
    """Let the minute pass, then open and close a link, so both servers look."""
    await trio.sleep(WINDOW_S)
    for server, route in (("task-server", "/tasks"), ("session-server", "/sessions/create")):
        client = await servers.connect("passer-by", server, route)
        await client.link.close()
    await trio.sleep(1)


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
            await after_the_window(servers)
    shown = lines(logs, "unknown_message_ignored")
    assert len(shown) == SHOWN
    assert {entry["peer"] for entry in shown} == {"alice"}
    [summary] = lines(logs, "repeats_not_logged")
    assert summary["client"] == "alice"
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
            await after_the_window(servers)
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
            await after_the_window(servers)
    shown = lines(logs, "unknown_message_ignored")
    assert len(shown) == SHOWN
    assert {entry["peer"] for entry in shown} == {"viewer-a"}
    [summary] = lines(logs, "repeats_not_logged")
    assert (summary["client"], summary["count"]) == ("viewer-a", FLOOD - SHOWN)


#: Connections the flooding client makes, one after the other, each with a few frames.
RECONNECTS = 20
FRAMES_EACH = 3


async def test_reconnecting_does_not_start_the_lines_shown_afresh(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        with capture_logs() as logs:
            for _ in range(RECONNECTS):
                client = await servers.connect("flooder", "session-server", "/sessions/create")
                for _ in range(FRAMES_EACH):
                    client.send_raw('{"Unheard":{}}')
                client.send_raw("not json")
                await client.closed()
            during = len(logs)
            await after_the_window(servers)
    assert len(lines(logs[:during], "unknown_message_ignored")) == SHOWN
    assert len(lines(logs[:during], "malformed_frame")) == SHOWN
    assert len(lines(logs[:during], "closing")) == SHOWN
    assert not lines(logs[:during], "repeats_not_logged")
    summaries = {e["repeated"]: e["count"] for e in lines(logs, "repeats_not_logged")}
    assert summaries == {
        "unknown_message_ignored": RECONNECTS * FRAMES_EACH - SHOWN,
        "malformed_frame": RECONNECTS - SHOWN,
        "closing": RECONNECTS - SHOWN,
    }
