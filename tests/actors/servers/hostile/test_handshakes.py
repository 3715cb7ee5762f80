"""Opening handshakes that never finish, resets, bad targets and a full server."""

from __future__ import annotations

import structlog
import trio

from actors.runtime.limits import MAX_REFUSING, REFUSAL_S, ConnectionLimits
from actors.runtime.server_side import MAX_REQUEST_HEAD_BYTES
from actors.runtime.transport import CloseCode

from .rawws import (
    CLOSE,
    GUARD_S,
    PING,
    RawClient,
    client_frame,
    reset_after,
    text_frame,
    upgrade_request,
)
from .scene import eventually, scene

#: Connections in each wave of an attack: enough to show a leak, few enough to stay quick.
WAVE = 100


async def test_connections_that_never_finish_the_handshake_are_closed_on_time() -> None:
    limits = ConnectionLimits(handshake_timeout=1.0)
    async with scene(limits) as s:
        baseline = s.open_connections()
        silent = [await RawClient.connect(s.session_port) for _ in range(WAVE)]
        # A slow loris: a request head that is never finished.
        loris = [await RawClient.connect(s.session_port) for _ in range(10)]
        for client in loris:
            await client.send(upgrade_request("/sessions/create")[:30])
        started = trio.current_time()
        for client in silent + loris:
            await client.read_until_hang_up()
            await client.aclose()
        # Hung up by the server, not by the guard: well before it.
        assert trio.current_time() - started < GUARD_S / 2
        await eventually(lambda: s.open_connections() == baseline, "every descriptor released")
        await s.still_serving()


async def test_a_reset_right_after_the_upgrade_costs_nothing() -> None:
    async with scene() as s:
        baseline = s.open_connections()
        for _ in range(WAVE):
            await reset_after(s.session_port, upgrade_request("/sessions/create"))
            await reset_after(s.task_port, upgrade_request("/tasks?principal=x"))
        await eventually(lambda: s.open_connections() == baseline, "every descriptor released")
        await s.still_serving()


async def test_bad_requests_get_an_http_error_and_the_server_carries_on() -> None:
    requests = {
        "//[x": 400,
        "//elsewhere/sessions/create": 400,
        "http://elsewhere/sessions/create": 400,
        "/no/such/route": 404,
    }
    async with scene() as s:
        with structlog.testing.capture_logs() as logs:
            for target, status in requests.items():
                client = await RawClient.connect(s.session_port)
                await client.send(upgrade_request(target))
                assert (await client.response())[0] == status, target
                await client.aclose()
            # Not a WebSocket request at all.
            client = await RawClient.connect(s.session_port)
            await client.send(b"POST /sessions/create HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await client.response())[0] == 400
            await client.aclose()
        bad = [entry for entry in logs if entry["event"] == "bad_request_target"]
        assert [entry["target"] for entry in bad] == list(requests)[:3]
        await s.still_serving()


async def test_a_full_server_answers_503_until_a_connection_ends() -> None:
    async with scene(ConnectionLimits(max_connections=4)) as s:
        assert s.open_connections() == 2  # the sharer and the viewer
        held = []
        for _ in range(2):
            client = await RawClient.connect(s.session_port)
            await client.open("/sessions/create")
            held.append(client)
        with structlog.testing.capture_logs() as logs:
            for _ in range(3):
                refused = await RawClient.connect(s.session_port)
                await refused.send(upgrade_request("/sessions/create"))
                status, body = await refused.response()
                assert status == 503
                assert b"too many connections" in body
                await refused.aclose()
        assert [entry["event"] for entry in logs].count("server_full") == 1
        await held.pop().aclose()
        await eventually(lambda: s.open_connections() == 3, "the closed connection released")
        # Room again: the newcomer is served.
        await s.still_serving()
        for client in held:
            await client.aclose()


async def test_a_client_that_never_answers_a_close_is_hung_up_on() -> None:
    async with scene(ConnectionLimits(close_timeout=0.5)) as s:
        baseline = s.open_connections()
        client = await RawClient.connect(s.session_port)
        await client.open("/sessions/create")
        await client.send(text_frame("not json"))
        _, close = await client.until_closed()
        assert close is not None
        assert close.close_code == CloseCode.INVALID_DATA
        # No close frame back: the server waits `close_timeout`, then hangs up.
        await client.read_until_hang_up()
        await client.aclose()
        await eventually(lambda: s.open_connections() == baseline, "the silent client released")
        await s.still_serving()


async def test_a_client_gone_during_the_handshake_frees_its_slot_at_once() -> None:
    # A handshake timeout far beyond the wait below: only noticing the peer is gone frees it.
    limits = ConnectionLimits(handshake_timeout=GUARD_S)
    async with scene(limits) as s:
        baseline = s.open_connections()
        with structlog.testing.capture_logs() as logs:
            addresses = []
            for _ in range(WAVE):
                client = await RawClient.connect(s.session_port)
                addresses.append(f"127.0.0.1:{client.stream.socket.getsockname()[1]}")
                await client.aclose()
                await reset_after(s.session_port, b"")
            with trio.move_on_after(GUARD_S / 10):
                while s.open_connections() != baseline:  # noqa: ASYNC110 - no event to wait on
                    await trio.sleep(0.01)
            assert s.open_connections() == baseline, "slots still held by clients already gone"
        gone = [entry for entry in logs if entry["event"] == "handshake_abandoned"]
        assert len(gone) == 2 * WAVE
        assert all(entry["peer"] != "unknown" for entry in gone)
        assert set(addresses) <= {entry["peer"] for entry in gone}
        await s.still_serving()


async def test_a_refused_client_is_hung_up_on_at_once_and_refusals_are_bounded() -> None:
    # The close timeout is far beyond the waits below: a refusal must not wait for it.
    async with scene(ConnectionLimits(max_connections=2, close_timeout=GUARD_S)) as s:
        assert s.open_connections() == 2  # the sharer and the viewer: full
        refused = await RawClient.connect(s.session_port)
        await refused.send(upgrade_request("/sessions/create"))
        assert (await refused.response())[0] == 503
        # The client never hangs up; the server lets go of it after a short fixed delay.
        with trio.move_on_after(REFUSAL_S + 1.0):
            while s.open_connections() > 2:  # noqa: ASYNC110 - no event to wait on
                await trio.sleep(0.01)
        assert s.open_connections() == 2, "a refused client held until the close timeout"
        await refused.aclose()
        # A flood over the cap holds at most MAX_REFUSING descriptors beyond it.
        flood = [await RawClient.connect(s.session_port) for _ in range(2 * MAX_REFUSING)]
        await trio.sleep(0.2)
        assert s.open_connections() <= 2 + MAX_REFUSING
        for client in flood:
            await client.aclose()
        await eventually(lambda: s.open_connections() == 2, "the refusals released")


async def test_a_huge_header_then_a_reset_is_no_server_error() -> None:
    """The client's doing: one line at most, below error level, naming the client."""
    request = upgrade_request("/sessions/create")
    huge = request.replace(b"\r\n\r\n", b"\r\nX-Padding: " + b"a" * 100_000 + b"\r\n\r\n")
    async with scene() as s:
        baseline = s.open_connections()
        with structlog.testing.capture_logs() as logs:
            for _ in range(5):
                await reset_after(s.session_port, huge)
            await eventually(lambda: s.open_connections() == baseline, "the connections released")
        assert [e for e in logs if e["log_level"] in ("error", "critical")] == []
        for entry in logs:
            assert "peer" in entry, entry
        await s.still_serving()


async def test_pings_while_the_server_closes_are_no_server_error() -> None:
    async with scene() as s:
        with structlog.testing.capture_logs() as logs:
            client = await RawClient.connect(s.session_port)
            try:
                await client.open("/sessions/create")
                await client.send(text_frame("not json"))
                close = None
                while close is None or close.opcode != CLOSE:
                    close = await client.frame()
                    assert close is not None, "hung up without a close frame"
                # The server waits for the close to be answered; the client pings instead,
                # all at once, before the server can have hung up on the first.
                await client.send(client_frame(PING, b"still here?") * 3)
                await client.until_closed()
            finally:
                await client.aclose()
            await eventually(lambda: len(s.servers.sessions.links) == 2, "the link ended")
        assert [e for e in logs if e["log_level"] in ("error", "critical")] == []
        assert all("peer" in entry for entry in logs), logs
        await s.still_serving()


def _with_header(request: bytes, size: int) -> bytes:
    """The upgrade request with one more header of about `size` bytes."""
    head = request.removesuffix(b"\r\n")
    return head + b"X-Padding: " + b"a" * size + b"\r\n\r\n"


async def test_a_request_head_too_large_gets_431_and_one_log_line() -> None:
    async with scene() as s:
        with structlog.testing.capture_logs() as logs:
            request = upgrade_request("/sessions/create")
            # Whole in one piece, and in many pieces (which h11 alone meets with a reset).
            whole = await RawClient.connect(s.session_port)
            await whole.send(_with_header(request, MAX_REQUEST_HEAD_BYTES))
            pieces = await RawClient.connect(s.session_port)
            endless = _with_header(request, 8 * MAX_REQUEST_HEAD_BYTES)
            for start in range(0, len(endless), 4096):
                with trio.move_on_after(REFUSAL_S):
                    await pieces.send(endless[start : start + 4096])
            for client in (whole, pieces):
                status, body = await client.response()
                assert (status, body) == (431, b"request header fields too large\n")
                await client.aclose()
            # A head just under the bound is still served.
            fits = await RawClient.connect(s.session_port)
            await fits.send(_with_header(request, MAX_REQUEST_HEAD_BYTES - 1024))
            status, _ = await fits.response()
            assert status == 101
            await fits.aclose()
        await s.still_serving()
    too_large = [entry for entry in logs if entry["event"] == "request_head_too_large"]
    assert len(too_large) == 2
    assert all(entry["peer"].startswith("127.0.0.1:") for entry in too_large)
