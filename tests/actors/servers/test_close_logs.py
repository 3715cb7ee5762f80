"""Close codes in log lines are plain numbers, as an operator greps for them."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import trio
from structlog.testing import capture_logs

from actors.rules.session_store import Close
from actors.runtime.transport import CloseCode
from actors.servers.websocket_server import CloseAll
from tests.actors.netkit import joined, running_servers


def _codes(logs: list[MutableMapping[str, Any]], event: str) -> list[object]:
    return [entry["code"] for entry in logs if entry["event"] == event]


async def test_closing_every_link_logs_the_code_as_a_number(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        await servers.share()
        with capture_logs() as logs:
            await servers.sessions.ref.ask(CloseAll())
    [code] = _codes(logs, "closing_all_links")
    assert type(code) is int
    assert code == 1001


async def test_closing_one_link_logs_the_code_as_a_number(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        _, created = await servers.share()
        watcher, _ = await joined(servers, "watcher", created)
        [link] = [link for link in servers.sessions.links.values() if link.peer == "watcher"]
        with capture_logs() as logs:
            servers.sessions._apply([Close(link.id, CloseCode.POLICY_VIOLATION, "test")])
        closed = await watcher.closed()
    [code] = _codes(logs, "closing")
    assert type(code) is int
    assert code == closed.code == 1008
