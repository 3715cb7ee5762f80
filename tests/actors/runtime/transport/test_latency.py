"""Latency: seeded delays in virtual time that never reorder frames on one link."""

from __future__ import annotations

import random
import statistics

import pytest
import trio

from actors.runtime.conditions import Latency, NetworkConditions, Spread
from actors.runtime.determinism import SeededRandom
from protocol import Ping

from .echo import echo_network


async def test_a_fixed_latency_delays_each_way_by_exactly_that(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with echo_network(conditions=NetworkConditions(latency=Latency(base=0.25))) as net:
        link = await net.connect("client")
        await trio.sleep_until(10)
        await net.ping(link, b"x")
        assert trio.current_time() == pytest.approx(10.5)
    [ping, pong] = [r for r in net.simulation.trace if r.type in {"Ping", "Pong"}]
    assert (ping.type, pong.type) == ("Ping", "Pong")
    assert (ping.t, pong.t) == pytest.approx((10.25, 10.5))


@pytest.mark.parametrize("spread", list(Spread))
async def test_jitter_follows_the_seeded_draws_and_keeps_send_order(
    autojump_clock: trio.abc.Clock, spread: Spread
) -> None:
    latency = Latency(base=0.5, jitter=1.0, spread=spread)
    count = 30
    async with echo_network(conditions=NetworkConditions(latency=latency)) as net:
        net.echo.pongs = False
        link = await net.connect("client")
        await trio.sleep_until(10)
        for n in range(count):
            link.send(Ping(bytes([n])))
        await net.echo.wait_for_pings(count)
    # The frames leave together, so frame n arrives with the slowest of the first n draws.
    draws = SeededRandom(0).stream("latency")
    expected, slowest = [], 0.0
    for _ in range(count):
        slowest = max(slowest, latency.sample(draws))
        expected.append(10 + slowest)
    assert [data for _, _, data in net.echo.pings] == [bytes([n]) for n in range(count)]
    assert [t for t, _, _ in net.echo.pings] == pytest.approx(expected)
    assert len(set(expected)) > 1, "the jitter must spread the arrivals"


def test_exponential_jitter_has_the_configured_mean_and_an_open_tail() -> None:
    latency = Latency(base=0.1, jitter=0.2, spread=Spread.EXPONENTIAL)
    rng = random.Random(7)
    samples = [latency.sample(rng) for _ in range(5000)]
    assert min(samples) >= 0.1
    assert statistics.fmean(samples) == pytest.approx(0.3, rel=0.05)
    assert max(samples) > 0.1 + 0.2 * 3, "unlike uniform jitter, the tail goes past base + jitter"
    again = random.Random(7)
    assert samples == [latency.sample(again) for _ in range(5000)]


def test_latency_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        Latency(base=-1)
