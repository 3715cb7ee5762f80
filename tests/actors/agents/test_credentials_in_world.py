"""Simulated clients prove who they are the way outside clients do, and nothing logs a secret."""

from __future__ import annotations

import io
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import structlog
import trio

from actors.rules.profiles import Profile
from actors.runtime.logs import configure_logging
from actors.world import World, open_world

from .kit import LOCAL, REMOTE, settle, spawn, start_orchestrator


@pytest.fixture(autouse=True)
def restore_structlog() -> Iterator[None]:
    try:
        yield
    finally:
        structlog.reset_defaults()


def held_secrets(world: World) -> list[str]:
    """Every secret the two servers hold: link secrets, reconnect, seat and task tokens."""
    found: list[str] = []
    for session in world.sessions.store.sessions.values():
        found += [session.manifest.secret.reveal(), session.manifest.token.reveal()]
        found += [seat.token.reveal() for seat in session.seats.values()]
    found += [token.reveal() for token in world.tasks.store.tokens().values()]
    return found


async def test_every_task_link_presents_an_issued_token_and_no_principal(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches(), seed=3) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await spawn(orchestrator, ("cloud", REMOTE))
        await world.open_viewer("viewer", "orch", user="bob")
        await settle(10)
        principals = set()
        for link in world.tasks.links.values():
            query = parse_qs(urlsplit(link.resource).query)
            assert set(query) == {"token"}, link.resource
            principals.add(world.tasks.store.authenticate(query["token"][0]))
        assert principals == {"user:alice", "user:bob"}


async def test_tokens_are_the_same_for_the_same_seed(autojump_clock: trio.abc.Clock) -> None:
    tokens = []
    for _ in range(2):
        async with open_world(Profile.CURRENT.switches(), seed=11) as world:
            tokens.append(world.task_token("user:bob"))
    assert tokens[0] == tokens[1]


async def test_no_log_line_holds_a_secret(autojump_clock: trio.abc.Clock) -> None:
    lines = io.StringIO()
    configure_logging(verbosity=2, json_stream=lines, console=io.StringIO())
    async with open_world(Profile.CURRENT.switches(), seed=5) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await spawn(orchestrator, ("local", LOCAL), ("cloud", REMOTE))
        await world.open_viewer("viewer", "orch", user="bob")
        await settle(30)
        network = world.simulation.network
        for actor in ("viewer", orchestrator.name):
            for link in network.links_between(actor, "session-server"):
                await link.drop()
        await settle(30)
        secrets = held_secrets(world)
    text = lines.getvalue()
    assert '"event": "viewer_rejoined"' in text
    assert '"event": "sharer_reconnected"' in text
    assert len(secrets) > 6
    assert [s for s in secrets if s in text] == []
