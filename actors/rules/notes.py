"""How a rule says what it decided without doing I/O: an injected note-taker.

Rules stay importable without structlog; the actor that owns a rule passes in
its structlog logger, and tests pass nothing (notes are then dropped).
"""

from __future__ import annotations

from typing import Protocol


class Notes(Protocol):
    """The part of a structlog logger a rule uses."""

    def info(self, event: str, **fields: object) -> object: ...

    def warning(self, event: str, **fields: object) -> object: ...


class _Silent:
    def info(self, event: str, **fields: object) -> None:
        """Drop the note."""

    def warning(self, event: str, **fields: object) -> None:
        """Drop the note."""


#: The note-taker of a rule that nobody listens to.
SILENT: Notes = _Silent()
