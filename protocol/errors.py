"""The root of sharesim's own errors, and the one error a frame decoder raises.

Every error the project raises on purpose derives from `SharesimError`, so a
caller can tell a refusal, bad input or a broken link from a bug. This module
imports nothing, so every layer can use it.
"""

from __future__ import annotations


class SharesimError(Exception):
    """Something sharesim detected and reports in words, as opposed to a bug."""


class ProtocolError(SharesimError, ValueError):
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

    @property
    def where(self) -> str:
        """Where the frame went wrong and what was expected, without the value found.

        The value is the client's own data and may be a secret it sent (a
        session secret where a number belongs): this is what logs and close
        reasons carry.
        """
        return f"at {self.path}: expected {self.expected}"
