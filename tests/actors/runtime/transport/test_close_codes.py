"""One list of WebSocket close codes, the RFC's numbers, used by every layer."""

from __future__ import annotations

import pytest

from actors.rules import session_store
from actors.runtime.transport import CloseCode


def test_the_codes_are_the_rfc_s() -> None:
    assert {code.name: int(code) for code in CloseCode} == {
        "NORMAL": 1000,
        "GOING_AWAY": 1001,
        "PROTOCOL_ERROR": 1002,
        "UNSUPPORTED_DATA": 1003,
        "ABNORMAL": 1006,
        "INVALID_DATA": 1007,
        "POLICY_VIOLATION": 1008,
        "TOO_BIG": 1009,
        "INTERNAL_ERROR": 1011,
        "TRY_AGAIN_LATER": 1013,
    }


@pytest.mark.parametrize(
    ("constant", "code"),
    [
        ("CLOSE_NORMAL", CloseCode.NORMAL),
        ("CLOSE_UNSUPPORTED_DATA", CloseCode.INVALID_DATA),
        ("CLOSE_POLICY", CloseCode.POLICY_VIOLATION),
    ],
)
def test_the_session_store_s_codes_are_the_same_numbers(constant: str, code: CloseCode) -> None:
    # The store stays importable without Trio, so it cannot import the transport.
    assert getattr(session_store, constant) == code
