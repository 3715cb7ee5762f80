"""Connections that used to stop `sharesim serve` outright: now each costs only itself.

Each test runs the real command as its own process, attacks it, then checks
that a sharer accepted before the attack carries on, that a newcomer is
served every event, and that the process still stops cleanly on Ctrl-C.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from websockets.sync.client import ClientConnection

from protocol import sharer

from .outside import in_thread, join_and_read, send_events, share
from .rawws import RawClient, reset_after, upgrade_request
from .served import Served, serve

#: Targets no URL parser takes as a path: an unclosed IPv6 host, a host, a whole URL.
BAD_TARGETS = ("//[x", "//elsewhere/sessions/create", "http://elsewhere/sessions/create")


async def test_a_request_target_no_parser_takes_gets_400_and_one_log_line(tmp_path: Path) -> None:
    async with serve(tmp_path) as served:
        with ExitStack() as clients:
            owner, created = await in_thread(lambda: share(served.session_base, clients))
            await in_thread(lambda: send_events(owner, range(3)))
            for port in (served.session_port, served.task_port):
                for target in BAD_TARGETS:
                    client = await RawClient.connect(port)
                    await client.send(upgrade_request(target))
                    status, _ = await client.response()
                    assert status == 400, target
                    await client.aclose()
            await _still_serving(served, owner, created, events=3)
            await in_thread(clients.close)
    assert len(served.log_lines("bad_request_target")) == 2 * len(BAD_TARGETS)


@pytest.mark.parametrize("cut", [None, 40], ids=["after-the-upgrade", "mid-request"])
async def test_a_reset_during_the_handshake_costs_only_that_connection(
    tmp_path: Path, cut: int | None
) -> None:
    async with serve(tmp_path) as served:
        with ExitStack() as clients:
            owner, created = await in_thread(lambda: share(served.session_base, clients))
            await in_thread(lambda: send_events(owner, range(2)))
            routes = (
                (served.session_port, "/sessions/create"),
                (served.task_port, "/tasks?principal=x"),
            )
            for _ in range(25):
                for port, target in routes:
                    await reset_after(port, upgrade_request(target)[:cut])
            await _still_serving(served, owner, created, events=2)
            await in_thread(clients.close)


async def _still_serving(
    served: Served, owner: ClientConnection, created: sharer.SessionInitialized, *, events: int
) -> None:
    """The accepted sharer's next event is taken, and a newcomer gets every event."""
    await in_thread(lambda: send_events(owner, range(events, events + 1)))
    base = served.session_base
    newcomer = await in_thread(lambda: join_and_read(base, created, events + 1))
    assert newcomer == list(range(events + 1))
