"""Over real sockets, a host that opens and abandons sessions cannot crowd out another host.

Loopback has a whole /8 of addresses, so two hosts are 127.0.0.1 and 127.0.0.2.
The greedy host's abandoned shares wait out their reconnect grace, so none
may be forgotten to make room: its share of the server is what bounds it.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from protocol import Channel, UserId, sharer, viewer

from .outside import exchange, in_thread, join_and_read, join_url, open_client, share
from .rawws import GUARD_S
from .served import serve

#: Shares the greedy host opens and abandons: many times the server's cap.
ABANDONED = 12
CAP = 4
#: What one host may hold.
SHARE = 2


def abandon_shares(base: str) -> list[object]:
    """Share from 127.0.0.2 and hang up at once, again and again; every answer."""
    answers = []
    for n in range(ABANDONED):
        with open_client(f"{base}/sessions/create", source_address=("127.0.0.2", 0)) as ws:
            init = sharer.Initialize(sharer.InitPayload(UserId(f"greedy-{n}")))
            answers.append(exchange(ws, init, Channel.SHARER_DOWN))
    return answers


async def test_abandoned_sessions_fill_only_their_hosts_share(tmp_path: Path) -> None:
    options = ("--max-sessions", str(CAP), "--max-client-sessions", str(SHARE))
    async with serve(tmp_path, *options) as served:
        with ExitStack() as clients:
            await in_thread(lambda: share(served.session_base, clients, "first"))
            answers = await in_thread(lambda: abandon_shares(served.session_base))
            # The greedy host got its share; every further share of its was refused.
            accepted = [a for a in answers if isinstance(a, sharer.SessionInitialized)]
            assert len(accepted) == SHARE, answers
            refusal = sharer.FailedToInitializeSession(
                sharer.InternalServerError(
                    f"127.0.0.2 holds its limit of {SHARE} sessions; try again when one has ended"
                )
            )
            assert answers[SHARE:] == [refusal] * (ABANDONED - SHARE)
            # The other host still gets a place, and nothing of anyone's was ended for it.
            _, second = await in_thread(lambda: share(served.session_base, clients, "second"))
            await in_thread(clients.close)
    assert second.session_id
    assert not served.log_lines("session_terminated")
    assert not served.log_lines("session_forgotten")


#: Joins the greedy host makes and leaves at once: many times its seat share.
LEFT_SEATS = 8
SEAT_SHARE = 2


def take_seats(base: str, created: sharer.SessionInitialized) -> list[tuple[object, str]]:
    """Join from 127.0.0.2 and hang up at once, again and again; each answer and close reason."""
    answers = []
    payload = viewer.ViewerInitPayload(UserId("greedy"))
    for _ in range(LEFT_SEATS):
        with open_client(join_url(base, created), source_address=("127.0.0.2", 0)) as ws:
            answer = exchange(ws, viewer.Initialize(payload), Channel.VIEWER_DOWN)
            reason = ""
            if isinstance(answer, viewer.FailedToJoin):
                with pytest.raises(ConnectionClosed) as closed:
                    ws.recv(timeout=GUARD_S)
                assert closed.value.rcvd is not None
                reason = closed.value.rcvd.reason
            answers.append((answer, reason))
    return answers


async def test_seats_a_host_takes_and_leaves_are_held_to_its_share(tmp_path: Path) -> None:
    options = ("--max-seats", "8", "--max-client-seats", str(SEAT_SHARE))
    async with serve(tmp_path, *options) as served:
        with ExitStack() as clients:
            _, created = await in_thread(lambda: share(served.session_base, clients))
            answers = await in_thread(lambda: take_seats(served.session_base, created))
            # Another host still joins and reads.
            assert await in_thread(lambda: join_and_read(served.session_base, created, 0)) == []
            await in_thread(clients.close)
    joined = [a for a, _ in answers if isinstance(a, viewer.JoinedSuccessfully)]
    assert len(joined) == SEAT_SHARE, answers
    limit = f"127.0.0.2 holds its limit of {SEAT_SHARE} viewer seats"
    full = viewer.FailedToJoin(viewer.JoinFailureReason.MAX_NUMBER_OF_PARTICIPANTS_REACHED)
    told = f"join refused: {limit}; try again when one is free"
    assert answers[SEAT_SHARE:] == [(full, told)] * (LEFT_SEATS - SEAT_SHARE)
    assert len(served.log_lines("seat_refused")) == LEFT_SEATS - SEAT_SHARE
