"""Where ids and secrets come from: a seeded source for simulations, the OS for `serve`."""

from __future__ import annotations

import copy
import secrets
import uuid

import pytest

from actors.rules.credentials import SeededCredentials, SystemCredentials


def test_a_seeded_source_repeats_itself_for_the_same_seed() -> None:
    first, second = SeededCredentials.from_seed(7), SeededCredentials.from_seed(7)
    assert [first.session_id(), first.secret("sessions", 12), first.secret("seats", 16)] == [
        second.session_id(),
        second.secret("sessions", 12),
        second.secret("seats", 16),
    ]
    other_seed = SeededCredentials.from_seed(8)
    assert other_seed.session_id() != SeededCredentials.from_seed(7).session_id()


def test_a_seeded_source_keeps_purposes_apart() -> None:
    """Drawing a seat token must not shift the next session's id or secret."""
    plain, busy = SeededCredentials.from_seed(1), SeededCredentials.from_seed(1)
    busy.secret("seats", 16)
    busy.secret("task-tokens", 16)
    assert plain.session_id() == busy.session_id()
    assert plain.secret("sessions", 12) == busy.secret("sessions", 12)


def test_session_ids_are_version_4_uuids_and_secrets_hex_of_the_asked_length() -> None:
    for source in (SeededCredentials.from_seed(0), SystemCredentials()):
        assert uuid.UUID(source.session_id()).version == 4
        secret = source.secret("sessions", 12)
        assert len(secret) == 24
        int(secret, 16)


def test_the_system_source_draws_from_the_secrets_module(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[int] = []

    def token_bytes(nbytes: int) -> bytes:
        drawn.append(nbytes)
        return bytes(range(nbytes))

    monkeypatch.setattr(secrets, "token_bytes", token_bytes)
    source = SystemCredentials()
    assert source.secret("sessions", 4) == "00010203"
    assert source.session_id() == str(uuid.UUID(bytes=bytes(range(16)), version=4))
    assert drawn == [4, 16]


def test_the_system_source_never_repeats() -> None:
    source = SystemCredentials()
    assert len({source.secret("sessions", 16) for _ in range(100)}) == 100
    assert len({source.session_id() for _ in range(100)}) == 100


def test_a_seeded_source_compares_by_what_it_would_draw_next() -> None:
    """Stores are snapshotted by value in tests; a copy equals its source until one draws."""
    source = SeededCredentials.from_seed(3)
    source.secret("sessions", 4)
    twin = copy.deepcopy(source)
    assert twin == source
    twin.secret("sessions", 4)
    assert twin != source
    assert SystemCredentials() == copy.deepcopy(SystemCredentials())


def test_only_the_seeded_source_is_predictable() -> None:
    assert SeededCredentials.from_seed(0).predictable
    assert not SystemCredentials().predictable
