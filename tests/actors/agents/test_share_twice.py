"""A share asked for while the agent already shares does nothing, and says so."""

from __future__ import annotations

import trio

from actors.hosts.agents import ShareByUser
from actors.rules.profiles import Profile
from actors.world import open_world

from .kit import LOCAL, captured_logs, events_named, start_orchestrator, tell


async def test_a_second_share_keeps_the_first_and_is_logged(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        await start_orchestrator(world, LOCAL)
        first = world.agent("orch").share
        assert first is not None
        with captured_logs() as events:
            await tell(world, "orch", ShareByUser())
        assert world.agent("orch").share is first
        skipped = events_named(events, "share_skipped")
        assert [(e["reason"], e["decision"]) for e in skipped] == [("already sharing", True)]
        assert events_named(events, "share_requested") == []
