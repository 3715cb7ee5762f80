"""The reconnecting link: dial, hand frames over, redial on the backoff schedule, give up, close."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import accumulate

import pytest
import structlog
import trio

from actors.links.reconnecting import Dial, LinkOwner, ReconnectingLink
from actors.runtime.actor import Actor
from actors.runtime.backoff import ATTEMPTS, delays
from actors.runtime.conditions import Drop, Latency, NetworkConditions, Partition
from actors.runtime.transport import Link, Network
from protocol import Ping, Pong
from tests.actors.runtime.transport.echo import ECHO, Net, echo_network

CLIENT = "client"
#: Far past the last try of a redial (about 128 s), so nothing is still due.
LONG_AFTER = 1000.0
#: When a refused client may first reach the server in the tests that never let it.
NEVER = 2 * LONG_AFTER
#: Times of the first dial and of each redial try, in virtual seconds.
TRIES = [0.0, *accumulate(delays())]
NORMAL_CLOSURE = 1000


@dataclass(frozen=True, slots=True)
class Got:
    frame: object


@dataclass(frozen=True, slots=True)
class Lost:
    link: Link


class Client(Actor[Got | Lost]):
    """Keeps one reconnecting link to the echo server, as `Share` and `SessionView` do."""

    def __init__(self, network: Network) -> None:
        super().__init__(CLIENT)
        self.wanted = True
        self.note = b"hello"
        self.frames: list[object] = []
        self.ends: list[Link] = []
        self.gave_up: list[tuple[float, int]] = []
        self.connection = ReconnectingLink(
            LinkOwner(
                actor=self,
                wanted=lambda: self.wanted,
                frame=Got,
                ended=Lost,
                gave_up=self._gave_up,
            ),
            network,
            server=ECHO,
            name="client",
            log=structlog.get_logger("tests.reconnecting"),
        )

    def dial(self) -> Dial:
        """The opening Ping carries `note` as it is when the link is up."""
        return Dial("/echo", lambda: Ping(self.note))

    async def handle(self, message: Got | Lost, sender: str) -> None:
        if isinstance(message, Got):
            self.frames.append(message.frame)
        else:
            self.ends.append(message.link)
            if self.connection.needs_redial(message.link):
                self.connection.redial(self.dial())

    async def _gave_up(self, attempts: int) -> None:
        self.gave_up.append((trio.current_time(), attempts))

    async def close(self) -> None:
        """What an owner does to end its link: stop wanting one, then close."""
        self.wanted = False
        await self.connection.close(Ping(b"bye"))


@asynccontextmanager
async def client_and_echo(
    conditions: NetworkConditions | None = None,
) -> AsyncIterator[tuple[Client, Net]]:
    async with echo_network(conditions=conditions) as net:
        client = Client(net.simulation.network)
        await net.simulation.stage.start(client)
        yield client, net


def pings(net: Net) -> list[tuple[float, bytes]]:
    return [(t, data) for t, peer, data in net.echo.pings if peer == CLIENT]


def ping_times(net: Net) -> list[float]:
    return [t for t, _ in pings(net)]


def ping_data(net: Net) -> list[bytes]:
    return [data for _, data in pings(net)]


def refusals(net: Net) -> list[float]:
    return [r.t for r in net.simulation.trace if r.type == "ConnectionRefused"]


def live_link(net: Net) -> Link:
    [link] = net.simulation.network.links_between(CLIENT, ECHO)
    return link


async def test_a_dial_sends_the_opening_frame_and_hands_every_reply_to_the_owner(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with client_and_echo() as (client, net):
        await client.connection.open(client.dial())
        assert client.connection.is_open
        client.connection.send(Ping(b"more"))
        await trio.sleep_until(10)
        assert pings(net) == [(0.0, b"hello"), (0.0, b"more")]
        assert client.frames == [Pong(b"hello"), Pong(b"more")]
        assert client.ends == []


async def test_a_dropped_link_is_redialled_after_one_backoff_delay(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(drops=[Drop(at=10, actor=CLIENT, server=ECHO)])
    async with client_and_echo(conditions) as (client, net):
        await client.connection.open(client.dial())
        await trio.sleep_until(5)
        first = live_link(net)
        await trio.sleep_until(LONG_AFTER)
        assert client.ends == [first]
        assert ping_times(net) == pytest.approx([0.0, 10 + TRIES[1]])
        assert ping_data(net) == [b"hello", b"hello"]
        assert client.frames == [Pong(b"hello"), Pong(b"hello")]
        assert client.connection.is_open
        assert client.gave_up == []


async def test_refused_dials_follow_the_backoff_schedule_until_the_server_is_reachable(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(partitions=[Partition(CLIENT, ECHO, start=0, end=5)])
    async with client_and_echo(conditions) as (client, net):
        await client.connection.open(client.dial())
        assert not client.connection.is_open
        await trio.sleep_until(TRIES[1] + 0.1)
        client.note = b"changed while away"
        await trio.sleep_until(LONG_AFTER)
        assert refusals(net) == pytest.approx(TRIES[:4])
        assert TRIES[3] < 5 <= TRIES[4]
        # The opening frame is built once the link is up, from the owner's state then.
        assert ping_times(net) == pytest.approx([TRIES[4]])
        assert ping_data(net) == [b"changed while away"]
        assert client.gave_up == []


async def test_a_server_never_reached_is_tried_on_every_step_of_the_schedule_then_given_up(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(partitions=[Partition(CLIENT, ECHO, start=0, end=NEVER)])
    async with client_and_echo(conditions) as (client, net):
        await client.connection.open(client.dial())
        await trio.sleep_until(LONG_AFTER)
        assert len(TRIES) == 1 + ATTEMPTS
        assert refusals(net) == pytest.approx(TRIES)
        [(gave_up_at, attempts)] = client.gave_up
        assert gave_up_at == pytest.approx(TRIES[-1])
        assert attempts == ATTEMPTS
        assert pings(net) == []


async def test_closing_while_refused_dials_are_retried_ends_the_retries_without_giving_up(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(partitions=[Partition(CLIENT, ECHO, start=0, end=NEVER)])
    async with client_and_echo(conditions) as (client, net):
        await client.connection.open(client.dial())
        await trio.sleep_until((TRIES[1] + TRIES[2]) / 2)
        await client.close()
        await trio.sleep_until(LONG_AFTER)
        assert refusals(net) == pytest.approx(TRIES[:2])
        assert client.gave_up == []
        assert pings(net) == []


async def test_closing_while_a_dropped_link_waits_to_be_redialled_dials_no_more(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(drops=[Drop(at=10, actor=CLIENT, server=ECHO)])
    async with client_and_echo(conditions) as (client, net):
        await client.connection.open(client.dial())
        await trio.sleep_until(10 + TRIES[1] / 2)
        assert len(client.ends) == 1
        await client.close()  # the link is already down: there is nothing to say goodbye on
        await trio.sleep_until(LONG_AFTER)
        assert pings(net) == [(0.0, b"hello")]
        assert client.gave_up == []
        assert not client.connection.is_open


async def test_a_dial_no_longer_wanted_once_connected_sends_nothing_and_closes(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with client_and_echo() as (client, net):
        client.spawn(client.connection.open, client.dial())  # as a share opens
        client.wanted = False  # stopped before the dial has connected
        await trio.sleep_until(LONG_AFTER)
        assert pings(net) == []
        assert not client.connection.is_open
        assert net.simulation.network.links_between(CLIENT, ECHO) == []
        assert client.ends == []
        assert client.gave_up == []


async def test_only_the_end_of_the_live_wanted_link_asks_for_a_redial(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(drops=[Drop(at=10, actor=CLIENT, server=ECHO)])
    async with client_and_echo(conditions) as (client, net):
        await client.connection.open(client.dial())
        await trio.sleep_until(5)
        first = live_link(net)
        await trio.sleep_until(20)
        second = live_link(net)
        assert second is not first
        assert not client.connection.needs_redial(first)
        assert client.connection.needs_redial(second)
        client.wanted = False
        assert not client.connection.needs_redial(second)


async def test_close_says_goodbye_after_the_queued_frames_and_ends_the_link_cleanly(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(latency=Latency(base=1.0))
    async with client_and_echo(conditions) as (client, net):
        await client.connection.open(client.dial())
        client.connection.send(Ping(b"queued"))
        await client.close()
        assert trio.current_time() >= 1.0  # close waited for the queued frames to leave
        assert not client.connection.is_open
        client.connection.send(Ping(b"after close"))
        await trio.sleep_until(LONG_AFTER)
        assert ping_data(net) == [b"hello", b"queued", b"bye"]
        assert net.echo.ended[CLIENT].code == NORMAL_CLOSURE
        assert len(client.ends) == 1  # told of the end, and wanting no link, did not redial
        assert client.gave_up == []


async def test_a_close_whose_wait_is_cancelled_still_sends_the_queued_frames_and_closes(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(latency=Latency(base=1.0))
    async with client_and_echo(conditions) as (client, net):
        await client.connection.open(client.dial())
        client.connection.send(Ping(b"queued"))
        with trio.move_on_after(0.5) as waited:
            await client.close()
        assert waited.cancelled_caught
        assert not client.connection.is_open
        await trio.sleep_until(LONG_AFTER)
        assert ping_data(net) == [b"hello", b"queued", b"bye"]
        assert net.echo.ended[CLIENT].code == NORMAL_CLOSURE


@asynccontextmanager
async def cancellable_client(
    conditions: NetworkConditions,
) -> AsyncIterator[tuple[Client, Net, trio.CancelScope]]:
    """A client running in a nursery of its own, so a test can cancel just the client."""
    async with echo_network(conditions=conditions) as net, trio.open_nursery() as nursery:
        client = Client(net.simulation.network)
        await nursery.start(client.run)
        yield client, net, nursery.cancel_scope


async def test_cancelling_the_actor_mid_redial_ends_the_retries_without_giving_up(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(partitions=[Partition(CLIENT, ECHO, start=0, end=NEVER)])
    async with cancellable_client(conditions) as (client, net, scope):
        await client.connection.open(client.dial())
        await trio.sleep_until((TRIES[1] + TRIES[2]) / 2)
        scope.cancel()
        await trio.sleep_until(LONG_AFTER)
        assert refusals(net) == pytest.approx(TRIES[:2])
        assert client.gave_up == []


async def test_cancelling_the_actor_drops_the_frames_still_queued_and_the_socket(
    autojump_clock: trio.abc.Clock,
) -> None:
    conditions = NetworkConditions(latency=Latency(base=1.0))
    async with cancellable_client(conditions) as (client, net, scope):
        await client.connection.open(client.dial())
        client.connection.send(Ping(b"queued"))
        await trio.sleep_until(0.5)
        scope.cancel()
        await trio.sleep_until(LONG_AFTER)
        assert pings(net) == []
        assert CLIENT in net.echo.ended  # the server saw the connection go
        assert client.ends == []  # the reader was cancelled while waiting: no report
