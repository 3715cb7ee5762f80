"""Over real sockets, a host that opens and abandons sessions cannot crowd out another host.

Loopback has a whole /8 of addresses, so two hosts are 127.0.0.1 and 127.0.0.2.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from protocol import Channel, UserId, sharer

from .outside import exchange, in_thread, open_client, share
from .served import serve

#: Shares the greedy host opens and abandons: many times the server's cap.
ABANDONED = 12
CAP = 3


def abandon_shares(base: str) -> list[object]:
    """Share from 127.0.0.2 and hang up at once, again and again; every answer."""
    answers = []
    for n in range(ABANDONED):
        with open_client(f"{base}/sessions/create", source_address=("127.0.0.2", 0)) as ws:
            init = sharer.Initialize(sharer.InitPayload(UserId(f"greedy-{n}")))
            answers.append(exchange(ws, init, Channel.SHARER_DOWN))
    return answers


async def test_abandoned_sessions_recycle_their_own_places(tmp_path: Path) -> None:
    async with serve(tmp_path, "--max-sessions", str(CAP)) as served:
        with ExitStack() as clients:
            await in_thread(lambda: share(served.session_base, clients, "first"))
            answers = await in_thread(lambda: abandon_shares(served.session_base))
            # Every abandoned share was accepted, taking the greedy host's own old place.
            assert all(isinstance(a, sharer.SessionInitialized) for a in answers), answers
            # The other host still gets a place: a greedy session gives way.
            _, second = await in_thread(lambda: share(served.session_base, clients, "second"))
            await in_thread(clients.close)
    assert second.session_id
    evicted = served.log_lines("session_terminated")
    assert evicted, "the greedy host's abandoned session made room"
    assert all("client='127.0.0.2'" in line for line in evicted), evicted
