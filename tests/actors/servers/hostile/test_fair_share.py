"""Over real sockets, a local user that opens and abandons sessions gets one share only.

Loopback has a whole /8 of addresses, but all of it is one client: the greedy
user here takes another address for every connection and is still held to
the one share. Its abandoned shares wait out their reconnect grace, so none
may be forgotten to make room. (That other clients keep their places is
shown by the rules' tests, with clients on other hosts.)
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
#: What one client may hold.
SHARE = 2


def loopback(n: int) -> tuple[str, int]:
    """Another loopback address for each connection: 127.0.0.2, 127.0.0.3, ..."""
    return (f"127.0.0.{2 + n}", 0)


def abandon_shares(base: str) -> list[object]:
    """Share from a new loopback address and hang up at once, again and again; every answer."""
    answers = []
    for n in range(ABANDONED):
        with open_client(f"{base}/sessions/create", source_address=loopback(n)) as ws:
            init = sharer.Initialize(sharer.InitPayload(UserId(f"greedy-{n}")))
            answers.append(exchange(ws, init, Channel.SHARER_DOWN))
    return answers


async def test_abandoned_sessions_from_many_loopback_addresses_fill_one_share(
    tmp_path: Path,
) -> None:
    options = ("--max-sessions", str(CAP), "--max-client-sessions", str(SHARE))
    async with serve(tmp_path, *options) as served:
        with ExitStack() as clients:
            _, first = await in_thread(lambda: share(served.session_base, clients, "first"))
            answers = await in_thread(lambda: abandon_shares(served.session_base))
            # Loopback got what was left of its share; every further share was refused.
            accepted = [a for a in answers if isinstance(a, sharer.SessionInitialized)]
            assert len(accepted) == SHARE - 1, answers
            refusal = sharer.FailedToInitializeSession(
                sharer.InternalServerError(
                    f"loopback holds its limit of {SHARE} sessions; try again when one has ended"
                )
            )
            assert answers[SHARE - 1 :] == [refusal] * (ABANDONED - SHARE + 1)
            # The first session still takes joiners: nothing was ended to make room.
            assert await in_thread(lambda: join_and_read(served.session_base, first, 0)) == []
            await in_thread(clients.close)
    assert not served.log_lines("session_terminated")
    assert not served.log_lines("session_forgotten")


#: Joins the greedy host makes and leaves at once: many times its seat share.
LEFT_SEATS = 8
SEAT_SHARE = 2


def take_seats(base: str, created: sharer.SessionInitialized) -> list[tuple[object, str]]:
    """Join from a new loopback address and hang up at once, again and again; what each got."""
    answers = []
    payload = viewer.ViewerInitPayload(UserId("greedy"))
    for n in range(LEFT_SEATS):
        with open_client(join_url(base, created), source_address=loopback(n)) as ws:
            answer = exchange(ws, viewer.Initialize(payload), Channel.VIEWER_DOWN)
            reason = ""
            if isinstance(answer, viewer.FailedToJoin):
                with pytest.raises(ConnectionClosed) as closed:
                    ws.recv(timeout=GUARD_S)
                assert closed.value.rcvd is not None
                reason = closed.value.rcvd.reason
            answers.append((answer, reason))
    return answers


async def test_seats_taken_from_many_loopback_addresses_are_held_to_one_share(
    tmp_path: Path,
) -> None:
    options = ("--max-seats", "8", "--max-client-seats", str(SEAT_SHARE))
    async with serve(tmp_path, *options) as served:
        with ExitStack() as clients:
            _, created = await in_thread(lambda: share(served.session_base, clients))
            answers = await in_thread(lambda: take_seats(served.session_base, created))
            await in_thread(clients.close)
    joined = [a for a, _ in answers if isinstance(a, viewer.JoinedSuccessfully)]
    assert len(joined) == SEAT_SHARE, answers
    limit = f"loopback holds its limit of {SEAT_SHARE} viewer seats"
    full = viewer.FailedToJoin(viewer.JoinFailureReason.MAX_NUMBER_OF_PARTICIPANTS_REACHED)
    told = f"join refused: {limit}; try again when one is free"
    assert answers[SEAT_SHARE:] == [(full, told)] * (LEFT_SEATS - SEAT_SHARE)
    assert len(served.log_lines("seat_refused")) == LEFT_SEATS - SEAT_SHARE
