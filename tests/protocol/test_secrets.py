"""Secrets travel in full on the wire and never show in a repr, a str, a rendering or a trace."""

from __future__ import annotations

import json

import pytest

from protocol import (
    Channel,
    ProtocolError,
    ReconnectToken,
    SessionInitialized,
    SessionSecret,
    UserId,
    decode,
    encode,
    render_message,
    sharer,
)
from tests.protocol.frames import SESSION_ID

SECRET = "pwd-0123456789"
TOKEN = "tok-9876543210"
FIREBASE = "firebase-credential"

MESSAGES = [
    SessionInitialized(SESSION_ID, SessionSecret(SECRET), ReconnectToken(TOKEN), "p-1"),
    sharer.Reconnect(
        sharer.ReconnectPayload(
            SessionSecret(SECRET), ReconnectToken(TOKEN), UserId("anon", FIREBASE), session_id="s-1"
        )
    ),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.message_type)
def test_no_secret_in_repr_str_rendering_or_trace(
    message: SessionInitialized | sharer.Reconnect,
) -> None:
    shown = [repr(message), str(message), render_message(message), repr(message.key_ids())]
    for text in shown:
        for secret in (SECRET, TOKEN, FIREBASE):
            assert secret not in text
    assert "***" in repr(message)


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.message_type)
def test_secrets_are_encoded_in_full(message: SessionInitialized | sharer.Reconnect) -> None:
    text = encode(message)
    assert SECRET in text
    assert TOKEN in text


def test_decoded_secrets_compare_by_value_and_stay_masked() -> None:
    decoded = decode(Channel.SHARER_DOWN, encode(MESSAGES[0]))
    assert decoded == MESSAGES[0]
    assert isinstance(decoded, SessionInitialized)
    assert decoded.session_secret.reveal() == SECRET
    assert str(decoded.reconnect_token) == "***"
    assert decoded.session_secret != SessionSecret("something else")


def test_a_decode_error_does_not_echo_a_secret() -> None:
    frame = json.loads(encode(MESSAGES[0]))
    frame["SessionInitialized"]["sharer_id"] = 5
    with pytest.raises(ProtocolError) as caught:
        decode(Channel.SHARER_DOWN, json.dumps(frame))
    assert SECRET not in str(caught.value)
    assert TOKEN not in str(caught.value)
