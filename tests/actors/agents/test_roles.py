"""A child pane reached through the parent never gets more than the viewer has on the parent."""

from __future__ import annotations

import pytest
import trio

from actors.hosts.agents import ShareByUser
from actors.rules.profiles import Profile
from actors.world import open_world
from protocol.roles import Role

from .kit import LOCAL, settle, spawn, start_orchestrator, task_id, tell


@pytest.mark.parametrize(
    ("profile", "cap", "pane_role"),
    [
        # As shipped the pane joins with the child's secret only: the child's link role.
        (Profile.CURRENT, False, Role.FULL),
        (Profile.FOLLOWUPS, False, Role.FULL),
        # The spec's cap (behaviour 41): never above the viewer's role on the parent.
        (Profile.CURRENT, True, Role.READER),
        (Profile.FOLLOWUPS, True, Role.READER),
    ],
)
async def test_a_child_pane_is_capped_at_the_parent_role_only_under_the_spec(
    profile: Profile, cap: bool, pane_role: Role, autojump_clock: trio.abc.Clock
) -> None:
    switches = profile.switches().with_overrides({"cap_child_role_at_parent": cap})
    async with open_world(switches) as world:
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
        assert pane.joined.role is pane_role
        # The same child's link, opened directly, grants what its sharer chose.
        assert direct.root is not None
        assert direct.root.joined is not None
        assert direct.root.joined.role is Role.FULL
