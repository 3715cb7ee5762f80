"""The one error a frame decoder raises, so that receivers have a single thing to catch."""

from __future__ import annotations


class ProtocolError(ValueError):
    """A frame that cannot be decoded, with the JSON path where it went wrong.

    Receivers reject the frame and keep serving; the path and the expectation
    are what makes the rejection reason useful in a log line.
    """

    def __init__(self, path: str, expected: str, got: str | None = None) -> None:
        self.path = path
        self.expected = expected
        self.got = got
        detail = f"at {path}: expected {expected}"
        super().__init__(detail if got is None else f"{detail}, got {got}")
