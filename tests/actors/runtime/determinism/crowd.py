"""A busy run for determinism checks: sharers stream events to viewers that join at random.

Viewers join on whole seconds, so several often connect at the same virtual
instant: which of them the server numbers first, and which latency draw each
frame gets, then depend on the order Trio runs ready tasks.
"""

from __future__ import annotations

import trio

from actors.rules.credentials import SeededCredentials
from actors.runtime import Actor, Stage
from actors.runtime.conditions import Latency, NetworkConditions
from actors.runtime.simulation import Simulation, run_simulation
from actors.runtime.trace import Trace
from actors.runtime.transport import Link
from actors.servers.session_server import SessionServer
from protocol import AgentExchange, OrderedTerminalEvent, UserId, sharer, viewer
from protocol.source import User

SERVER = "session-server"
SHARERS = 3
VIEWERS = 20
EVENTS = 25
LATENCY = Latency(base=0.01, jitter=0.05)


class Streamer(Actor[object]):
    """Creates a session, then sends numbered events at seeded random intervals."""

    role = "sharer"

    def __init__(self, name: str, simulation: Simulation) -> None:
        super().__init__(name)
        self._network = simulation.network
        self._rng = simulation.random.stream(name)
        self.created: sharer.SessionInitialized | None = None
        self.ready = trio.Event()
        self.acked = trio.Event()
        self._link: Link | None = None

    async def on_start(self) -> None:
        self._link = await self._network.connect(
            self.name, SERVER, "/sessions/create", self.nursery
        )
        self.spawn(_forward, self, self._link)
        payload = sharer.InitPayload(
            UserId(self.name), source_type=User(), source_task_id=f"task-{self.name}"
        )
        self._link.send(sharer.Initialize(payload))

    async def handle(self, message: object, sender: str) -> None:
        if isinstance(message, sharer.SessionInitialized):
            self.created = message
            self.ready.set()
            self.spawn(self._stream)
        elif (
            isinstance(message, sharer.EventsProcessedAck)
            and message.latest_processed_event_no == EVENTS - 1
        ):
            self.acked.set()

    async def _stream(self) -> None:
        assert self._link is not None
        for n in range(EVENTS):
            await trio.sleep(self._rng.expovariate(2.0))
            exchange = AgentExchange(f"task-{self.name}", n, f"{self.name} says {n}")
            self._link.send(OrderedTerminalEvent(n, exchange.to_event()))


class Watcher(Actor[object]):
    """Joins one session and reads until it has seen the last event."""

    role = "viewer"

    def __init__(self, name: str, simulation: Simulation, created: sharer.SessionInitialized):
        super().__init__(name)
        self._network = simulation.network
        self._route = f"/sessions/join/{created.session_id}?pwd={created.session_secret.reveal()}"
        self.done = trio.Event()

    async def on_start(self) -> None:
        link = await self._network.connect(self.name, SERVER, self._route, self.nursery)
        self.spawn(_forward, self, link)
        link.send(viewer.Initialize(viewer.ViewerInitPayload(UserId(self.name))))

    async def handle(self, message: object, sender: str) -> None:
        if isinstance(message, OrderedTerminalEvent) and message.event_no == EVENTS - 1:
            self.done.set()


async def _forward(actor: Actor[object], link: Link) -> None:
    """Hand every frame of a link to its actor, in order."""
    async for message in link:
        await actor.tell_self(message)


async def crowd(simulation: Simulation) -> Trace:
    """Start the server and sharers, let viewers join at seeded times, run to the end."""
    stage = simulation.stage
    await stage.start(
        SessionServer(simulation.network, SeededCredentials(simulation.random.stream))
    )
    streamers = [Streamer(f"sharer-{n}", simulation) for n in range(SHARERS)]
    for streamer in streamers:
        await stage.start(streamer)
    for streamer in streamers:
        await streamer.ready.wait()
    plan = simulation.random.stream("joins")
    watchers: list[Watcher] = []
    async with trio.open_nursery() as nursery:
        for n in range(VIEWERS):
            host = plan.choice(streamers)
            assert host.created is not None
            watchers.append(Watcher(f"viewer-{n}", simulation, host.created))
            nursery.start_soon(_join_at, stage, watchers[-1], plan.randrange(0, 8))
    for streamer in streamers:
        await streamer.acked.wait()
    for watcher in watchers:
        await watcher.done.wait()
    return simulation.trace


async def _join_at(stage: Stage, watcher: Watcher, second: int) -> None:
    await trio.sleep_until(second)
    await stage.start(watcher)


def run_crowd(seed: int) -> Trace:
    """One complete run, seeded throughout: the scheduler, the network and the plan."""
    return run_simulation(crowd, seed=seed, conditions=NetworkConditions(latency=LATENCY))
