"""The session-sharing server actor: `SessionStore` rules behind a WebSocket listener."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
import trio

from actors.rules.credentials import Credentials
from actors.rules.session_store import (
    CLOSE_UNSUPPORTED_DATA,
    Action,
    Close,
    ConnKind,
    EventFrame,
    Send,
    ServerSwitches,
    SessionLimits,
    SessionStore,
    StartGrace,
    classify_route,
)
from actors.runtime.actor import Request
from actors.runtime.transport import CloseCode, Link, MalformedFrame, Network
from actors.servers.websocket_server import WebSocketServer
from protocol import Channel

_log = structlog.get_logger("sharesim.session_server")

_CHANNELS = {
    ConnKind.SHARER: (Channel.SHARER_UP, Channel.SHARER_DOWN),
    ConnKind.VIEWER: (Channel.VIEWER_UP, Channel.VIEWER_DOWN),
}


@dataclass(frozen=True, slots=True)
class _GraceExpired:
    session_id: str
    epoch: int


@dataclass(frozen=True, slots=True)
class _IdentifyDeadline:
    link_id: int


@dataclass(frozen=True, slots=True)
class JoinLink(Request[str | None]):
    """Ask the server for a session's join route (scenarios hand it to viewers)."""

    session_id: str


#: The session server's own commands.
SessionCommand = _GraceExpired | _IdentifyDeadline | JoinLink


class SessionServer(WebSocketServer[SessionCommand]):
    """Creates sessions for sharers, admits viewers, relays ordered events."""

    role = "session-server"

    def __init__(
        self,
        network: Network,
        credentials: Credentials,
        *,
        name: str = "session-server",
        switches: ServerSwitches | None = None,
        limits: SessionLimits | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(name, network, host=host, port=port)
        self.store = SessionStore(
            credentials, switches, notes=_log, limits=limits, clock=trio.current_time
        )

    def report_repeats(self, *, final: bool = False) -> None:
        super().report_repeats(final=final)
        self.store.report_repeats(final=final)

    def channels(self, resource: str) -> tuple[Channel, Channel] | None:
        kind = classify_route(resource)
        return None if kind is None else _CHANNELS[kind]

    async def link_opened(self, link: Link) -> None:
        self._apply(self.store.connected(link.id, link.resource, peer=link.peer))
        timeout = self.network.limits.identify_timeout
        if timeout is not None:
            self.spawn(self._identify_deadline, link.id, timeout)

    async def _identify_deadline(self, link_id: int, after: float) -> None:
        await trio.sleep(after)
        await self.tell_self(_IdentifyDeadline(link_id))

    async def frame_received(self, link: Link, message: object) -> None:
        if isinstance(message, MalformedFrame):
            self._apply(self.store.malformed(link.id, message.error.where))
        else:
            self._apply(self.store.received(link.id, message))

    async def link_ended(self, link: Link) -> None:
        self._apply(self.store.disconnected(link.id))

    async def handle_command(self, message: SessionCommand, sender: str) -> None:
        if isinstance(message, _GraceExpired):
            self._apply(self.store.grace_expired(message.session_id, message.epoch))
        elif isinstance(message, _IdentifyDeadline):
            link = self.links.get(message.link_id)
            if link is not None and not self.store.identified(link.id):
                timeout = self.network.limits.identify_timeout
                _log.info("not_identified", peer=link.peer, timeout=timeout)
                self.close_link(
                    link, CloseCode.POLICY_VIOLATION, f"not identified within {timeout:g} s"
                )
        else:
            self.answer(message, self.store.join_link(message.session_id))

    def _apply(self, actions: list[Action]) -> None:
        history: list[str] = []
        history_to: int | None = None
        for action in actions:
            if isinstance(action, Send) and action.paced and isinstance(action.message, EventFrame):
                if history_to != action.conn:
                    self._send_history(history_to, history)
                    history, history_to = [], action.conn
                history.append(action.message.text)
                continue
            # Whatever follows a history (the end of an ended session) goes after it.
            self._send_history(history_to, history)
            history, history_to = [], None
            if isinstance(action, Send):
                link = self.links.get(action.conn)
                if link is None:
                    continue
                if isinstance(action.message, EventFrame):
                    link.send_raw(action.message.text)  # encoded once, when it arrived
                else:
                    link.send(action.message)
            elif isinstance(action, Close):
                link = self.links.get(action.conn)
                if link is not None:
                    code = int(action.code)  # a plain number in the log, not an enum's repr
                    if code == CLOSE_UNSUPPORTED_DATA:
                        # A malformed frame: a client can have this said at will.
                        self.log_repeatable(link, "closing", code=code, reason=action.reason)
                    else:
                        _log.info("closing", peer=link.peer, code=code, reason=action.reason)
                    self.close_link(link, action.code, action.reason)
            elif isinstance(action, StartGrace):
                self.spawn(self._grace, action)
        self._send_history(history_to, history)

    def _send_history(self, conn: int | None, frames: list[str]) -> None:
        link = None if conn is None else self.links.get(conn)
        if link is not None and frames:
            link.send_paced(frames)

    async def _grace(self, action: StartGrace) -> None:
        await trio.sleep(action.delay)
        await self.tell_self(_GraceExpired(action.session_id, action.epoch))
