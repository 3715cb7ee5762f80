"""Frames no WebSocket peer may send: closed with the code the RFC names, and one log line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
import structlog
from websockets.exceptions import ConnectionClosed

from actors.runtime.server_side import ServerConnection
from actors.runtime.transport import CloseCode, DecodedFrame, FrameCodec
from protocol import Channel

from .outside import in_thread, open_client
from .rawws import BINARY, PING, TEXT, RawClient, client_frame, text_frame
from .scene import eventually, scene

BAD_FRAMES = {
    "invalid-utf-8": (client_frame(TEXT, b"\xff\xfe"), CloseCode.INVALID_DATA),
    "reserved-bit": (client_frame(TEXT, b"{}", rsv=0b100), CloseCode.PROTOCOL_ERROR),
    "unknown-opcode": (client_frame(0x3, b""), CloseCode.PROTOCOL_ERROR),
    "fragmented-ping": (client_frame(PING, b"", fin=False), CloseCode.PROTOCOL_ERROR),
    "unmasked": (bytes([0x80 | BINARY, 0]), CloseCode.PROTOCOL_ERROR),
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_a_framing_error_is_closed_with_its_code_and_logged_once(name: str) -> None:
    data, code = BAD_FRAMES[name]
    async with scene() as s:
        with structlog.testing.capture_logs() as logs:
            client = await RawClient.connect(s.task_port)
            await client.open(s.task_route("mallory"))
            await client.send(data)
            frames, close = await client.until_closed()
            await client.aclose()
            await eventually(lambda: _events(logs, "frame_rejected") != [], "the rejection logged")
        assert frames == []
        assert close is not None
        assert close.close_code == code
        [rejected] = _events(logs, "frame_rejected")
        assert rejected["code"] == code
        await s.still_serving()


async def test_invalid_utf_8_from_a_websocket_library_is_closed_with_1007() -> None:
    async with scene() as s:

        def send_bad_text() -> int | None:
            with open_client(f"{s.session_base}/sessions/create") as ws:
                ws.send(b"\xc3\x28", text=True)
                try:
                    ws.recv(timeout=30)
                except ConnectionClosed as closed:
                    return None if closed.rcvd is None else closed.rcvd.code
            return None

        assert await in_thread(send_bad_text) == CloseCode.INVALID_DATA
        await s.still_serving()


@pytest.mark.parametrize("route", ["/sessions/create", "task"])
async def test_a_binary_frame_is_closed_with_1003_and_logged_with_its_peer(route: str) -> None:
    async with scene() as s:
        base = s.session_base
        if route == "task":
            base = f"ws://127.0.0.1:{s.task_port}"
            route = s.task_route("mallory")

        def send_binary() -> tuple[int | None, str]:
            with open_client(f"{base}{route}") as ws:
                ws.send(b'{"Ping":{"data":[1]}}')
                try:
                    ws.recv(timeout=30)
                except ConnectionClosed as closed:
                    if closed.rcvd is not None:
                        return closed.rcvd.code, closed.rcvd.reason
            return None, ""

        with structlog.testing.capture_logs() as logs:
            code, reason = await in_thread(send_binary)
        assert code == CloseCode.UNSUPPORTED_DATA
        assert "binary" in reason
        [rejected] = _events(logs, "frame_rejected")
        assert rejected["code"] == CloseCode.UNSUPPORTED_DATA
        assert str(rejected["peer"]).startswith("127.0.0.1:")
        await s.still_serving()


def _events(logs: Sequence[Mapping[str, object]], name: str) -> list[Mapping[str, object]]:
    return [entry for entry in logs if entry["event"] == name]


class _BrokenCodec(FrameCodec):
    """Fails on one frame as only a bug could, to show what a client then sees."""

    def decode(self, channel: Channel, text: str) -> DecodedFrame:
        if text == "boom":
            raise RuntimeError("a bug in the codec")
        return super().decode(channel, text)


async def test_a_frame_the_server_fails_to_read_is_closed_with_1011() -> None:
    async with scene() as s:
        s.servers.simulation.network.frames = _BrokenCodec()
        client = await RawClient.connect(s.task_port)
        await client.open(s.task_route("mallory"))
        await client.send(text_frame("boom"))
        frames, close = await client.until_closed()
        await client.aclose()
        assert frames == []
        assert close is not None
        assert close.close_code == CloseCode.INTERNAL_ERROR
        await s.still_serving()


async def test_a_failing_websocket_reader_costs_only_its_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handle = ServerConnection._handle_message_event

    async def failing(self: ServerConnection, event: object) -> None:
        if getattr(event, "data", None) == "crash the reader":
            raise RuntimeError("a bug below the link")
        await handle(self, event)  # type: ignore[arg-type]

    monkeypatch.setattr(ServerConnection, "_handle_message_event", failing)
    async with scene() as s:
        baseline = s.open_connections()
        with structlog.testing.capture_logs() as logs:
            client = await RawClient.connect(s.session_port)
            await client.open("/sessions/create")
            await client.send(text_frame("crash the reader"))
            frames, close = await client.until_closed()
            await client.aclose()
            await eventually(lambda: s.open_connections() == baseline, "the connection released")
        assert (frames, close) == ([], None)
        [failed] = _events(logs, "websocket_reader_failed")
        assert failed["error"] == "RuntimeError: a bug below the link"
        # The server hears that the link ended, as for any other end.
        await eventually(lambda: len(s.servers.sessions.links) == baseline, "the link ended")
        await s.still_serving()
