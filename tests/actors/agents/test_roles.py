"""A child pane reached through the parent never gets more than the viewer has on the parent."""

from __future__ import annotations

import pytest
import trio

from actors.hosts.agents import ShareByUser
from actors.rules.profiles import Profile
from actors.world import open_world
from protocol.roles import Role

from .kit import LOCAL, settle, spawn, start_orchestrator, task_id, tell


@pytest.mark.parametrize("profile", [Profile.CURRENT, Profile.FOLLOWUPS])
async def test_a_child_pane_is_capped_at_the_viewers_role_on_the_parent(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL, share=False)
        await spawn(orchestrator, ("worker", LOCAL))
        await tell(world, "worker", ShareByUser(link_role=Role.FULL))
        await tell(world, "orch", ShareByUser(link_role=Role.READER))
        parent = await world.open_viewer("parent", "orch")
        direct = await world.open_viewer("direct", "worker")
        await settle(10)

        assert parent.root is not None
        assert parent.root.joined is not None
        assert parent.root.joined.role is Role.READER
        pane = parent.panes[task_id(world, "worker")]
        assert pane.joined is not None
        assert pane.joined.role is Role.READER
        # The same child's link, opened directly, grants what its sharer chose.
        assert direct.root is not None
        assert direct.root.joined is not None
        assert direct.root.joined.role is Role.FULL
