"""Dropped connections, partitions and stopped servers, in both transport modes."""

from __future__ import annotations

import pytest
import trio

from actors.runtime.conditions import Drop, Latency, NetworkConditions, Partition
from actors.runtime.simulation import Simulation, run_simulation
from actors.runtime.trace import TraceRecord
from actors.runtime.transport import LinkRefused, Mode
from protocol import Ping

from .echo import ECHO, Ended, Net, echo_network, serve_echo

ABNORMAL = 1006
#: When the faults of the two-mode tests strike: well after set-up, which takes
#: no virtual time in either mode.
FAULT_AT = 30.0


def records_of(net: Net, kind: str) -> list[TraceRecord]:
    return [r for r in net.simulation.trace if r.type == kind]


async def test_a_drop_at_a_chosen_time_ends_both_ends_and_is_traced(
    mode: Mode, clock: trio.abc.Clock
) -> None:
    conditions = NetworkConditions(drops=[Drop(at=FAULT_AT, actor="client", server=ECHO)])
    async with echo_network(mode, conditions=conditions) as net:
        link = await net.connect("client")
        bystander = await net.connect("bystander")
        await net.ping(link, b"before")
        assert trio.current_time() < FAULT_AT, "set-up overran the fault"
        client_end = await net.end_of(link)
        server_end = await net.echo.wait_for_end("client")
        await net.ping(bystander, b"after")
    assert (client_end.code, server_end.code) == (ABNORMAL, ABNORMAL)
    assert {type(client_end.code), type(server_end.code)} == {int}, "plain codes log cleanly"
    assert client_end.t == pytest.approx(FAULT_AT)
    assert server_end.t == pytest.approx(FAULT_AT)
    [dropped] = records_of(net, "ConnectionDropped")
    assert (dropped.src, dropped.dst, dropped.channel) == ("client", ECHO, "sharer-up")
    assert dropped.t == pytest.approx(FAULT_AT)
    assert link.closed
    assert net.simulation.network.links_between("client", ECHO) == []


async def test_a_partition_cuts_links_refuses_connects_then_heals(
    mode: Mode, clock: trio.abc.Clock
) -> None:
    partition = Partition("client", ECHO, start=FAULT_AT, end=2 * FAULT_AT)
    during = (partition.start + partition.end) / 2
    async with echo_network(mode, conditions=NetworkConditions(partitions=[partition])) as net:
        link = await net.connect("client")
        bystander = await net.connect("bystander")
        assert trio.current_time() < FAULT_AT, "set-up overran the fault"
        client_end = await net.end_of(link)
        assert client_end.t == pytest.approx(partition.start)
        assert client_end.code == ABNORMAL
        assert (await net.echo.wait_for_end("client")).code == ABNORMAL

        await trio.sleep_until(during)
        with pytest.raises(LinkRefused, match="client: partitioned from echo"):
            await net.connect("client")
        await net.ping(bystander, b"unaffected")

        await trio.sleep_until(partition.end)
        await net.ping(await net.connect("client"), b"healed")
    [cut] = records_of(net, "ConnectionDropped")
    [refused] = records_of(net, "ConnectionRefused")
    assert (cut.src, cut.dst) == (refused.src, refused.dst) == ("client", ECHO)
    assert refused.t == pytest.approx(during)


async def test_when_a_client_stops_its_server_sees_the_link_end_and_later_sends_are_lost(
    mode: Mode, clock: trio.abc.Clock
) -> None:
    async with echo_network(mode) as net:
        async with trio.open_nursery() as client_nursery:
            link = await net.simulation.network.connect("client", ECHO, "/echo", client_nursery)
            link.send(Ping(b"hello"))
            await net.echo.wait_for_pings(1)
            client_nursery.cancel_scope.cancel()
        assert (await net.echo.wait_for_end("client")).code == ABNORMAL
        link.send(Ping(b"too late"))  # lost, as on a dead socket, and no error
        await trio.sleep(1)
    assert [data for _, _, data in net.echo.pings] == [b"hello"]


async def test_a_stopped_server_refuses_connections(mode: Mode, clock: trio.abc.Clock) -> None:
    async with echo_network(mode) as net:
        await net.ping(await net.connect("early"), b"up")
        net.server.cancel()
        await trio.sleep(1)
        with pytest.raises(LinkRefused, match="echo is not listening"):
            await net.connect("late")


async def test_closing_delivers_queued_frames_first(autojump_clock: trio.abc.Clock) -> None:
    async with echo_network(conditions=NetworkConditions(latency=Latency(base=1.0))) as net:
        link = await net.connect("client")
        for n in range(3):
            link.send(Ping(bytes([n])))
        await link.close()
        assert trio.current_time() == pytest.approx(1.0)
        ended = await net.echo.wait_for_end("client")
    assert [data for _, _, data in net.echo.pings] == [b"\0", b"\1", b"\2"]
    assert ended.code == 1000
    assert records_of(net, "ConnectionDropped") == []


async def test_dropping_loses_queued_frames(autojump_clock: trio.abc.Clock) -> None:
    async with echo_network(conditions=NetworkConditions(latency=Latency(base=1.0))) as net:
        link = await net.connect("client")
        for n in range(3):
            link.send(Ping(bytes([n])))
        await link.drop()
        ended = await net.echo.wait_for_end("client")
        await trio.sleep(5)
    assert net.echo.pings == []
    assert ended == Ended(0.0, ABNORMAL)


async def test_a_fault_still_cuts_a_link_that_is_closing(autojump_clock: trio.abc.Clock) -> None:
    conditions = NetworkConditions(
        latency=Latency(base=1.0), drops=[Drop(at=0.5, actor="client", server=ECHO)]
    )
    async with echo_network(conditions=conditions) as net:
        link = await net.connect("client")
        link.send(Ping(b"queued"))
        await link.close()
        assert trio.current_time() == pytest.approx(0.5)
        ended = await net.echo.wait_for_end("client")
    assert net.echo.pings == []
    assert ended == Ended(0.5, ABNORMAL)
    assert len(records_of(net, "ConnectionDropped")) == 1


def test_a_drop_window_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before `at`"):
        Drop(at=5, latest=1)


CLIENTS = [f"client-{n}" for n in range(6)]


def random_drop(seed: int) -> tuple[str, float]:
    """Run six idle clients under one unnamed drop; return its victim and moment."""

    async def main(simulation: Simulation) -> tuple[str, float]:
        async with serve_echo(simulation) as net:
            links = {name: await net.connect(name) for name in CLIENTS}
            await trio.sleep(30)
            [victim] = [name for name, link in links.items() if link.closed]
        [dropped] = records_of(net, "ConnectionDropped")
        assert dropped.src == victim
        return victim, dropped.t

    conditions = NetworkConditions(drops=[Drop(at=5, latest=15)])
    return run_simulation(main, seed=seed, conditions=conditions)


def test_a_random_drop_picks_victim_and_moment_by_seed() -> None:
    picks = {seed: random_drop(seed) for seed in range(1, 5)}
    assert picks == {seed: random_drop(seed) for seed in picks}
    assert all(5 <= moment <= 15 for _, moment in picks.values())
    assert len({victim for victim, _ in picks.values()}) > 1
    assert len({moment for _, moment in picks.values()}) == len(picks)


async def test_a_drop_naming_only_the_actor_spares_its_other_actors(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(drops=[Drop(at=3, actor="client-2")])
    async with echo_network(conditions=conditions) as net:
        links = {name: await net.connect(name) for name in CLIENTS}
        await trio.sleep(10)
    assert [name for name, link in links.items() if link.closed] == ["client-2"]
