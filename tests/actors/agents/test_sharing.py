"""Who shares, with which source, and when: automatic, manual, inherited, caught up, stopped."""

from __future__ import annotations

import pytest
import trio

from actors.hosts.agents import (
    AppendExchange,
    Location,
    ShareByUser,
    SpawnChild,
    StopSharing,
)
from actors.rules.cascade import ShareSource
from actors.rules.profiles import Profile
from actors.runtime.backoff import ATTEMPTS, delays
from actors.runtime.conditions import Latency, NetworkConditions, Partition
from actors.world import World, open_world
from protocol.source import AmbientAgent, SessionSourceType, User

from .kit import (
    LOCAL,
    REMOTE,
    captured_logs,
    events_named,
    sent,
    settle,
    spawn,
    start_orchestrator,
    task_id,
    tell,
)

#: How long a share keeps trying to reach the server before it gives up.
GIVE_UP_S = sum(delays())


def source_of(world: World, agent: str) -> ShareSource:
    share = world.agent(agent).share
    assert share is not None, f"{agent} never shared"
    return share.source


def manifest_of(world: World, agent: str) -> tuple[SessionSourceType, str | None]:
    """What the session server tells joining viewers about `agent`'s session."""
    share = world.agent(agent).share
    assert share is not None
    assert share.session_id is not None
    manifest = world.sessions.store.manifest(share.session_id)
    assert manifest is not None
    return manifest.source_type, manifest.source_task_id


async def sharing(world: World, agent: str) -> bool:
    return (await world.describe(agent)).sharing


@pytest.mark.parametrize("profile", Profile)
async def test_remote_agents_share_automatically_as_ambient_agent(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, REMOTE)
        await spawn(orchestrator, ("worker", REMOTE))
        for agent in ("orch", "worker"):
            tid = task_id(world, agent)
            assert await sharing(world, agent)
            sidecar = None if profile is Profile.LEGACY else tid
            assert source_of(world, agent) == ShareSource(AmbientAgent(tid), sidecar)
            # The server reads the task id from the variant when the sidecar is missing.
            assert manifest_of(world, agent) == (AmbientAgent(tid), tid)


@pytest.mark.behaviour(7, 32)
@pytest.mark.parametrize("profile", Profile)
async def test_a_local_agent_is_shared_only_when_its_user_shares_it(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        await start_orchestrator(world, LOCAL, share=False)
        await tell(world, "orch", AppendExchange("still private"))
        assert not await sharing(world, "orch")
        assert world.agent("orch").share is None

        await tell(world, "orch", ShareByUser())
        assert await sharing(world, "orch")
        sidecar = None if profile is Profile.LEGACY else task_id(world, "orch")
        assert source_of(world, "orch") == ShareSource(User(), sidecar)
        assert manifest_of(world, "orch") == (User(), sidecar)


@pytest.mark.parametrize(
    ("profile", "host", "expected"),
    [
        (Profile.LEGACY, LOCAL, None),  # user shares did not cascade before the change
        (Profile.LEGACY, REMOTE, "ambient"),
        (Profile.CURRENT, LOCAL, "user"),
        (Profile.CURRENT, REMOTE, "ambient"),
        (Profile.FOLLOWUPS, LOCAL, "user"),
        (Profile.FOLLOWUPS, REMOTE, "ambient"),
    ],
)
async def test_a_local_child_inherits_its_hosts_share_kind_with_its_own_task_id(
    profile: Profile, host: Location, expected: str | None, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host)
        await spawn(orchestrator, ("worker", LOCAL))
        child = task_id(world, "worker")
        if expected is None:
            assert not await sharing(world, "worker")
            return
        sidecar = None if profile is Profile.LEGACY else child
        variant: SessionSourceType = AmbientAgent(child) if expected == "ambient" else User()
        assert await sharing(world, "worker")
        assert source_of(world, "worker") == ShareSource(variant, sidecar)


@pytest.mark.parametrize("profile", Profile)
async def test_a_remote_child_shares_on_its_own_even_under_an_unshared_host(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL, share=False)
        await spawn(orchestrator, ("cloud", REMOTE), ("worker", LOCAL))
        assert await sharing(world, "cloud")
        assert not await sharing(world, "worker")
        assert not await sharing(world, "orch")


@pytest.mark.parametrize("profile", Profile)
async def test_children_that_existed_before_the_share_are_caught_up_once(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL, share=False)
        await spawn(orchestrator, ("first", LOCAL), ("cloud", REMOTE), ("second", LOCAL))
        with captured_logs() as logs:
            await tell(world, "orch", ShareByUser())
            # A dropped link resumes the same session: no second catch-up.
            for link in world.simulation.network.links_between("orch", "session-server"):
                await link.drop()
            await settle(10)
        assert events_named(logs, "share_resumed")
        caught_up = [e["child"] for e in events_named(logs, "catch_up_share")]
        if profile is Profile.LEGACY:
            assert caught_up == []
            assert not await sharing(world, "first")
            return
        assert caught_up == [task_id(world, "first"), task_id(world, "second")]
        for child in ("first", "second"):
            assert source_of(world, child) == ShareSource(User(), task_id(world, child))


async def test_a_child_whose_launch_failed_is_not_caught_up(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL, share=False)
        await orchestrator.ref.tell(SpawnChild("broken", LOCAL, launch_fails=True))
        await spawn(orchestrator, ("fine", LOCAL))
        await tell(world, "orch", ShareByUser())
        assert not await sharing(world, "broken")
        assert await sharing(world, "fine")
        assert world.agent("broken").share is None


@pytest.mark.parametrize("profile", Profile)
async def test_a_share_started_before_the_first_response_cascades_once_upgraded(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await world.start_orchestrator("orch", LOCAL, first_response_after=5)
        with captured_logs() as logs:
            await tell(world, "orch", ShareByUser())
            await settle(5)
        upgraded = events_named(logs, "sidecar_upgraded")
        await spawn(orchestrator, ("worker", LOCAL))
        if profile is Profile.LEGACY:
            assert upgraded == []
            assert source_of(world, "orch") == ShareSource(User(), None)
            assert not await sharing(world, "worker")
            return
        orch_id = task_id(world, "orch")
        assert [e["task_id"] for e in upgraded] == [orch_id]
        assert source_of(world, "orch") == ShareSource(User(), orch_id)
        assert source_of(world, "worker") == ShareSource(User(), task_id(world, "worker"))


@pytest.mark.parametrize("profile", Profile)
async def test_the_upgraded_sidecar_reaches_the_server_only_with_the_push(
    profile: Profile, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        await world.start_orchestrator("orch", LOCAL, first_response_after=5)
        await tell(world, "orch", ShareByUser())
        await settle(5)
        pushed = profile is Profile.FOLLOWUPS
        expected = task_id(world, "orch") if pushed else None
        assert manifest_of(world, "orch") == (User(), expected)


async def test_a_push_made_while_the_share_is_pending_is_sent_once_it_is_live(
    autojump_clock: trio.abc.Clock,
) -> None:
    # The first response (asked at 1 s, answered at 2 s) lands while the share's
    # Initialize (sent at 1.5 s) is still on the wire.
    conditions = NetworkConditions(latency=Latency(base=0.5))
    async with open_world(Profile.FOLLOWUPS.switches(), conditions=conditions) as world:
        await world.start_orchestrator("orch", LOCAL, first_response_after=1.0)
        await trio.sleep(1.5)
        with captured_logs() as logs:
            await tell(world, "orch", ShareByUser())
            await settle(5)
        order = [
            e["event"] for e in logs if e["event"] in ("sidecar_upgraded", "share_established")
        ]
        assert order == ["sidecar_upgraded", "share_established"]
        assert manifest_of(world, "orch") == (User(), task_id(world, "orch"))


@pytest.mark.parametrize(
    ("profile", "host"),
    [
        (Profile.LEGACY, REMOTE),
        (Profile.CURRENT, LOCAL),
        (Profile.CURRENT, REMOTE),
        (Profile.FOLLOWUPS, LOCAL),
    ],
)
async def test_stopping_the_host_stops_exactly_the_children_that_inherited_it(
    profile: Profile, host: Location, autojump_clock: trio.abc.Clock
) -> None:
    async with open_world(profile.switches()) as world:
        orchestrator = await start_orchestrator(world, host, share=False)
        await spawn(orchestrator, ("early", LOCAL), ("own", LOCAL), ("cloud", REMOTE))
        if host is LOCAL:
            await tell(world, "own", ShareByUser())
            own_session = (await world.describe("own")).session_id
            await tell(world, "orch", ShareByUser())  # catches up "early" only
        await spawn(orchestrator, ("late", LOCAL))
        inherited = ("early", "late") if host is LOCAL else ("early", "own", "late")
        for child in ("early", "own", "cloud", "late"):
            assert await sharing(world, child), child

        await tell(world, "orch", StopSharing())
        assert not await sharing(world, "orch")
        for child in ("early", "own", "cloud", "late"):
            assert await sharing(world, child) is (child not in inherited), child
        if host is LOCAL:
            assert (await world.describe("own")).session_id == own_session


@pytest.mark.parametrize("spec_stop", [False, True])
async def test_a_child_reshared_by_its_user_outlives_the_hosts_stop_only_under_the_spec(
    spec_stop: bool, autojump_clock: trio.abc.Clock
) -> None:
    """The shipped client stops every sharing pane of the cascade set; the spec, inherited ones."""
    switches = Profile.CURRENT.switches().with_overrides({"stop_only_inherited_shares": spec_stop})
    async with open_world(switches) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await spawn(orchestrator, ("worker", LOCAL))
        inherited_session = (await world.describe("worker")).session_id
        await tell(world, "worker", StopSharing())
        await tell(world, "worker", ShareByUser())
        own_session = (await world.describe("worker")).session_id
        assert own_session not in (None, inherited_session)

        await tell(world, "orch", StopSharing())
        info = await world.describe("worker")
        assert info.sharing is spec_stop
        assert info.session_id == own_session


async def test_a_host_shared_again_catches_its_children_up_again(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_world(Profile.CURRENT.switches()) as world:
        orchestrator = await start_orchestrator(world, LOCAL)
        await spawn(orchestrator, ("worker", LOCAL))
        first = (await world.describe("worker")).session_id
        await tell(world, "orch", StopSharing())
        assert not await sharing(world, "worker")
        await tell(world, "orch", ShareByUser())
        again = await world.describe("worker")
        assert again.sharing
        assert again.session_id not in (None, first)


async def test_a_share_stopped_before_it_was_established_stays_stopped(
    autojump_clock: trio.abc.Clock,
) -> None:
    # Each frame takes 0.5 s: the server's SessionInitialized reaches the agent 1 s
    # after the share was asked, when the user has already stopped it.
    conditions = NetworkConditions(latency=Latency(base=0.5))
    async with open_world(Profile.CURRENT.switches(), conditions=conditions) as world:
        orchestrator = await world.start_orchestrator("orch", LOCAL)
        await settle(5)
        with captured_logs() as logs:
            await orchestrator.ref.tell(ShareByUser())
            await trio.sleep(0.6)
            await orchestrator.ref.tell(StopSharing())
            await settle(30)
        assert sent(world, "SessionInitialized", to="orch")  # it did arrive, late
        assert events_named(logs, "share_established") == []
        assert not await sharing(world, "orch")
        assert [r.type for r in world.simulation.trace if r.type == "Reconnect"] == []
        assert world.task_requests("alice", "update_agent_task") == 0


async def test_a_share_that_cannot_resume_gives_up_after_every_try_and_stops_sharing(
    autojump_clock: trio.abc.Clock,
) -> None:
    cut = Partition("orch", "session-server", start=20, end=20 + 2 * GIVE_UP_S)
    conditions = NetworkConditions(partitions=[cut])
    async with open_world(Profile.CURRENT.switches(), conditions=conditions) as world:
        await start_orchestrator(world, REMOTE)
        session_id = (await world.describe("orch")).session_id
        assert session_id is not None
        with captured_logs() as logs:
            await trio.sleep_until(cut.start + GIVE_UP_S - 1)
            assert await sharing(world, "orch"), "still trying to resume"
            await trio.sleep_until(cut.start + GIVE_UP_S + 1)
        assert not await sharing(world, "orch")
        gave_up = events_named(logs, "share_gave_up")
        assert [(e["session_id"], e["attempts"]) for e in gave_up] == [(session_id, ATTEMPTS)]


async def test_a_share_that_cannot_create_its_session_gives_up_and_stops_sharing(
    autojump_clock: trio.abc.Clock,
) -> None:
    cut = Partition("orch", "session-server", start=0, end=3 * GIVE_UP_S)
    conditions = NetworkConditions(partitions=[cut])
    async with open_world(Profile.CURRENT.switches(), conditions=conditions) as world:
        with captured_logs() as logs:
            await start_orchestrator(world, REMOTE)
            assert await sharing(world, "orch"), "still trying to create the session"
            await trio.sleep_until(2 * GIVE_UP_S)
        described = await world.describe("orch")
        assert (described.sharing, described.session_id) == (False, None)
        gave_up = events_named(logs, "share_gave_up")
        assert [(e.get("session_id"), e["attempts"]) for e in gave_up] == [(None, ATTEMPTS)]
        refused = events_named(logs, "share_connect_refused")
        assert len(refused) == 1 + ATTEMPTS
