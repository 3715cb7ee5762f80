"""A session id is a `Uuid` in the crate: any form `Uuid::parse_str` reads, nothing else.

The crate writes it back lower-case and hyphenated, and so do we after decoding.
"""

from __future__ import annotations

import json

import pytest

from protocol import (
    Channel,
    ProtocolError,
    ReconnectToken,
    SessionInitialized,
    SessionSecret,
    decode,
)
from tests.protocol.frames import SESSION_ID, session_initialized

PATH = "$.SessionInitialized.session_id"
SIMPLE = SESSION_ID.replace("-", "")

NOT_A_UUID = [
    "s-1",
    "",
    SESSION_ID[:-1],
    SESSION_ID + "0",
    SESSION_ID + "\n",
    " " + SESSION_ID,
    SESSION_ID.replace("a", "g"),
    SESSION_ID[:7] + "-" + SESSION_ID[7] + SESSION_ID[9:],
    "{" + SIMPLE + "}",
    "URN:UUID:" + SESSION_ID,
    "uuid:" + SESSION_ID,
    "urn:uuid:" + SIMPLE,
    5,
    None,
]


@pytest.mark.parametrize("session_id", NOT_A_UUID, ids=json.dumps)
def test_anything_but_a_uuid_is_an_error_at_the_session_id(session_id: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(Channel.SHARER_DOWN, json.dumps(session_initialized(session_id=session_id)))
    assert caught.value.path == PATH


def test_the_error_says_a_uuid_was_expected() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(Channel.SHARER_DOWN, json.dumps(session_initialized(session_id="s-1")))
    assert str(caught.value) == f'at {PATH}: expected a UUID string, got "s-1"'


UUID_FORMS = [
    SESSION_ID,
    SESSION_ID.upper(),
    SIMPLE,
    SIMPLE.upper(),
    "{" + SESSION_ID + "}",
    "urn:uuid:" + SESSION_ID,
    "urn:uuid:" + SESSION_ID.upper(),
]


@pytest.mark.parametrize("session_id", UUID_FORMS)
def test_every_form_the_crate_reads_decodes_to_the_form_it_writes(session_id: str) -> None:
    frame = session_initialized(session_id=session_id)
    assert decode(Channel.SHARER_DOWN, json.dumps(frame)) == SessionInitialized(
        SESSION_ID, SessionSecret("secret-1"), ReconnectToken("token-1"), "sharer-1", "uid-sharer"
    )
