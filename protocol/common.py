"""Types both roles share: who a client is, what it supports, and the heartbeat."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ._fields import WireSpec
from ._refined import Usize
from .message import Message


@dataclass(frozen=True, slots=True)
class UserId:
    """Who a client is; the token is a credential, so it stays out of the repr."""

    anonymous_id: str
    firebase_id_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class WindowSize:
    """A PTY's size in character cells."""

    num_rows: Usize
    num_cols: Usize


@dataclass(frozen=True, slots=True)
class FeatureSupport:
    """Capability flags a client declares so the server can adapt what it sends."""

    supports_agent_view: bool = False
    supports_full_role: bool = False
    """Set too early by real clients and ignored; `supports_full_role_for_real` is the flag."""
    supports_full_role_for_real: bool = False


@dataclass(frozen=True, slots=True)
class Ping(Message):
    """Heartbeat from a client; the server echoes `data` in a Pong."""

    wire: ClassVar[WireSpec] = WireSpec(required=frozenset({"data"}))

    data: bytes = b""


@dataclass(frozen=True, slots=True)
class Pong(Message):
    """The server's echo of a Ping, showing it is still alive."""

    wire: ClassVar[WireSpec] = WireSpec(required=frozenset({"data"}))

    data: bytes = b""
