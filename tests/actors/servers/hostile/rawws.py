"""WebSocket by hand over a raw TCP stream: whatever bytes an attacker likes, read back exactly.

A real client library refuses to send a bad frame and hides how a server
closed; these helpers do neither, so a test can send reserved bits or an
unknown opcode and then read the very close frame the server answered with.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

import trio

#: Every wait on the server is bounded by this many seconds; only a hang reaches it.
GUARD_S = 30.0

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
_MASK = b"\x0f\x1e\x2d\x3c"


def upgrade_request(target: str, *, host: str = "127.0.0.1") -> bytes:
    """An opening handshake for `target`, byte for byte as the RFC's example has it."""
    return (
        f"GET {target} HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode("latin-1")


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    """One masked frame as a client must send it, with any opcode and reserved bits."""
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    masked = bytes(byte ^ _MASK[i % 4] for i, byte in enumerate(payload))
    return head + _MASK + masked


def text_frame(text: str) -> bytes:
    return client_frame(TEXT, text.encode())


@dataclass(frozen=True, slots=True)
class Frame:
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        assert self.opcode == CLOSE, self
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def close_reason(self) -> str:
        return self.payload[2:].decode()


@dataclass
class RawClient:
    """A TCP stream to a server and the bytes read from it but not yet parsed."""

    stream: trio.SocketStream
    buffer: bytearray = field(default_factory=bytearray)

    @classmethod
    async def connect(
        cls, port: int, *, receive_buffer: int | None = None, source: str | None = None
    ) -> RawClient:
        """Connect; `receive_buffer` shrinks the socket's window so the server fills it quickly;
        `source` is the loopback address to connect from (another host, to the server)."""
        sock = trio.socket.socket()
        if source is not None:
            await sock.bind((source, 0))
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        await sock.connect(("127.0.0.1", port))
        return cls(trio.SocketStream(sock))

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def _more(self) -> bool:
        with trio.fail_after(GUARD_S):
            try:
                chunk = await self.stream.receive_some(1 << 16)
            except trio.BrokenResourceError:  # reset by the server: as final as an EOF
                return False
        self.buffer += chunk
        return bool(chunk)

    async def response(self) -> tuple[int, bytes]:
        """The server's HTTP answer to the handshake: status code and body so far."""
        while b"\r\n\r\n" not in self.buffer:
            if not await self._more():
                raise EOFError(f"the server hung up before answering: {bytes(self.buffer)!r}")
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        self.buffer = bytearray(rest)
        status = int(head.split(b" ", 2)[1])
        return status, rest

    async def open(self, target: str) -> None:
        """Complete the opening handshake for `target`; the server must accept it."""
        await self.send(upgrade_request(target))
        status, _ = await self.response()
        assert status == 101, f"expected 101 Switching Protocols, got {status}"

    async def frame(self) -> Frame | None:
        """The next frame from the server, or None once it has hung up."""
        while True:
            parsed = _parse(self.buffer)
            if parsed is not None:
                frame, used = parsed
                del self.buffer[:used]
                return frame
            if not await self._more():
                return None

    async def until_closed(self) -> tuple[list[Frame], Frame | None]:
        """Every frame up to the server's close frame (None if it hung up without one)."""
        frames: list[Frame] = []
        while (frame := await self.frame()) is not None:
            if frame.opcode == CLOSE:
                return frames, frame
            frames.append(frame)
        return frames, None

    async def read_until_hang_up(self) -> None:
        """Read and drop everything until the server ends the TCP connection."""
        while await self._more():
            self.buffer.clear()

    async def aclose(self) -> None:
        await self.stream.aclose()


def _parse(buffer: bytearray) -> tuple[Frame, int] | None:
    """One unmasked server frame from the front of `buffer`, and its length in bytes."""
    if len(buffer) < 2:
        return None
    opcode, size, at = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
    if size == 126:
        if len(buffer) < 4:
            return None
        size, at = struct.unpack("!H", buffer[2:4])[0], 4
    elif size == 127:
        if len(buffer) < 10:
            return None
        size, at = struct.unpack("!Q", buffer[2:10])[0], 10
    if len(buffer) < at + size:
        return None
    return Frame(opcode, bytes(buffer[at : at + size])), at + size


async def reset_after(port: int, data: bytes) -> None:
    """Send `data`, then abort the connection with a TCP reset (SO_LINGER 0)."""
    sock = trio.socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await sock.connect(("127.0.0.1", port))
    await sock.send(data)
    sock.close()
