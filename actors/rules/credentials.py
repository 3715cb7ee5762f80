"""Where the servers' ids and secrets come from.

A simulation must replay exactly, so its session ids, link secrets and
tokens are drawn from seeded streams, one per purpose so that drawing a
seat token never shifts the next session's id. A server that real clients
use must not be predictable: anyone who learnt the seed could compute every
secret. `SystemCredentials` draws from the operating system through Python's
`secrets` module, and is the default wherever nothing else is asked for.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from random import Random
from typing import Protocol


class Credentials(Protocol):
    """A source of session ids and hex secrets."""

    #: True when the values can be computed again from something known (a seed).
    predictable: bool

    def session_id(self) -> str:
        """A fresh version-4 UUID for a new session."""
        ...

    def secret(self, purpose: str, nbytes: int) -> str:
        """`nbytes` fresh random bytes as hex, for `purpose` (sessions, seats, task-tokens)."""
        ...


class SystemCredentials:
    """Cryptographically strong values from the operating system, never repeated."""

    predictable = False

    def session_id(self) -> str:
        return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))

    def secret(self, purpose: str, nbytes: int) -> str:
        return secrets.token_bytes(nbytes).hex()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SystemCredentials)

    def __hash__(self) -> int:
        return hash(SystemCredentials)


class SeededCredentials:
    """Values from seeded streams, one per purpose: the same seed gives the same values.

    Session ids and session secrets share the `sessions` stream, in the order
    a session is created (id, link secret, reconnect token).
    """

    predictable = True

    def __init__(self, streams: Callable[[str], Random]) -> None:
        self._streams = streams
        self._used: dict[str, Random] = {}

    @classmethod
    def from_seed(cls, seed: int) -> SeededCredentials:
        """Streams named the way a simulation's `SeededRandom` names them."""
        return cls(lambda purpose: Random(f"{seed}/{purpose}"))

    def _stream(self, purpose: str) -> Random:
        if purpose not in self._used:
            self._used[purpose] = self._streams(purpose)
        return self._used[purpose]

    def session_id(self) -> str:
        return str(uuid.UUID(bytes=self._stream("sessions").randbytes(16), version=4))

    def secret(self, purpose: str, nbytes: int) -> str:
        return self._stream(purpose).randbytes(nbytes).hex()

    def __eq__(self, other: object) -> bool:
        """Equal when every stream either has drawn stands at the same place (test snapshots)."""
        if not isinstance(other, SeededCredentials):
            return NotImplemented
        mine = {p: r.getstate() for p, r in self._used.items()}
        theirs = {p: r.getstate() for p, r in other._used.items()}
        return mine == theirs

    __hash__ = None  # type: ignore[assignment]
