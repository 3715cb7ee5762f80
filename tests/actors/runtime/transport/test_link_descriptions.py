"""A link's description goes into logs and errors, so it leaves out the query and its secrets."""

from __future__ import annotations

import trio
from structlog.testing import capture_logs

from actors.runtime.transport import DEFAULT_MAX_FRAME_BYTES, LinkClosed
from tests.actors.netkit import join_route, joined, running_servers


async def test_a_link_describes_itself_without_its_query(autojump_clock: trio.abc.Clock) -> None:
    async with running_servers() as servers:
        _, created = await servers.share()
        client, _ = await joined(servers, "bob", created)
        pwd = created.session_secret.reveal()
        assert pwd in client.link.resource
        assert pwd not in repr(client.link)
        assert f"/sessions/join/{created.session_id}" in repr(client.link)


async def test_an_oversized_frame_on_a_join_link_logs_no_secret(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with running_servers() as servers:
        _, created = await servers.share()
        client = await servers.connect("rogue", "session-server", join_route(created))
        with capture_logs() as logs:
            client.send_raw("[" + "0," * DEFAULT_MAX_FRAME_BYTES + "0]")
            closed = await client.closed()
            client.send_raw("late")  # logs that the link is closed
            await trio.testing.wait_all_tasks_blocked()
        assert isinstance(closed, LinkClosed)
        assert "frame_too_large" in [e["event"] for e in logs]
        pwd = created.session_secret.reveal()
        assert [e for e in logs if pwd in repr(e)] == []
        assert pwd not in str(closed)
