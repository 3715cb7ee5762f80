"""A running system: both servers, agents and viewers on one simulation, under one profile.

Scenarios and tests build topologies through `World` instead of wiring actors
by hand: it starts the servers with the profile's server-side switches, gives
every agent the same setup, and opens viewer links the way a person would
(the share link of a local agent, the run page of a cloud or driver agent).

Every agent runs as one person, the owner, so every run is hers. Her team is
set up on the task server with the world, before anything runs; a viewer
whose user is in it may view her runs, anyone else holds only the links
shared with them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TextIO

from actors.hosts.agents import AgentInfo, AgentSetup, ChildAgent, Describe, Location, Orchestrator
from actors.rules.credentials import SeededCredentials
from actors.rules.profiles import Switches
from actors.rules.session_store import ServerSwitches
from actors.rules.task_store import TaskGates
from actors.rules.viewer_client import ClientKind
from actors.runtime.conditions import NetworkConditions
from actors.runtime.simulation import Simulation, open_simulation
from actors.runtime.transport import Mode
from actors.servers.session_server import SessionServer
from actors.servers.task_server import TaskServer
from actors.viewers.viewer import (
    HandoffLink,
    Leave,
    Observation,
    Observe,
    OpenBy,
    Viewer,
    ViewerLink,
)
from protocol import TaskToken
from protocol.errors import SharesimError
from protocol.routes import joined_session

#: Who runs every agent of a world, and so owns every run.
OWNER = "alice"
#: The owner's team on the task server.
OWNER_TEAM = "owner-team"
#: The user a viewer acts as when none is named; in the owner's team unless a world says not.
DEFAULT_VIEWER = "bob"


class WorldError(SharesimError):
    """A topology step that cannot be carried out (say, a viewer of a share that is not live)."""


def user_principal(user: str) -> str:
    """The task-server principal a person acts as."""
    return f"user:{user}"


def server_switches(switches: Switches) -> ServerSwitches:
    return ServerSwitches(
        push_source_task_id=switches.push_source_task_id,
        replay_source_task_id_on_rejoin=switches.replay_source_task_id_on_rejoin,
    )


def task_gates(switches: Switches) -> TaskGates:
    return TaskGates(
        link_gate_accepts_claimed=switches.link_gate_accepts_claimed,
        keep_finished_local_session_id=switches.keep_finished_local_session_id,
        accept_first_link_after_finish=switches.accept_first_link_after_finish,
    )


@dataclass
class World:
    simulation: Simulation
    switches: Switches
    sessions: SessionServer
    tasks: TaskServer
    setup: AgentSetup
    orchestrators: dict[str, Orchestrator] = field(default_factory=dict)
    viewers: dict[str, Viewer] = field(default_factory=dict)
    #: The agent whose link each viewer opened (its full actor name), by viewer name.
    opened: dict[str, str] = field(default_factory=dict)

    async def start_orchestrator(
        self, name: str, location: Location, *, title: str = "", first_response_after: float = 1.0
    ) -> Orchestrator:
        agent = Orchestrator(
            name,
            self.setup,
            location=location,
            title=title,
            first_response_after=first_response_after,
        )
        self.orchestrators[name] = agent
        await self.simulation.stage.start(agent)
        return agent

    def agent(self, name: str) -> Orchestrator | ChildAgent:
        """An orchestrator by name, or a child, at any depth, by its bare or full name."""
        if name in self.orchestrators:
            return self.orchestrators[name]
        children = list(self.children())
        for child in children:
            if name in (child.agent_name, child.name):
                return child
        known = list(self.orchestrators) + [child.agent_name for child in children]
        raise WorldError(f"no agent named {name!r}; known agents: {', '.join(known) or 'none'}")

    def children(self) -> Iterator[ChildAgent]:
        """Every running child, parents before their own children."""
        hosts: list[Orchestrator | ChildAgent] = list(self.orchestrators.values())
        while hosts:
            host = hosts.pop(0)
            for record in host.children.values():
                if record.actor is not None:
                    yield record.actor
                    hosts.append(record.actor)

    async def describe(self, name: str) -> AgentInfo:
        return await agent_info(self.agent(name))

    async def open_viewer(
        self,
        name: str,
        target: str,
        *,
        user: str = DEFAULT_VIEWER,
        open_by: OpenBy | None = None,
        client: ClientKind = ClientKind.NATIVE,
    ) -> Viewer:
        """Open `target`'s link: its share link or its run page, nothing more.

        Without `open_by`, a teammate opens a cloud or driver agent's run page;
        anyone else was handed its share link, the only way in they have. Whether
        the view is a parent or a child view is the viewer's to work out.
        """
        agent = self.agent(target)
        host_is_users = self._host_location(agent) is Location.LOCAL
        by_link = host_is_users or not self.in_owners_team(user)
        open_by = open_by or (OpenBy.SHARE_LINK if by_link else OpenBy.RUN)
        info = await self.describe(target)
        if open_by is OpenBy.SHARE_LINK:
            if info.join_route is None or not info.sharing:
                raise WorldError(
                    f"{name} cannot open {target}'s share link: {target} is not sharing"
                )
            link = ViewerLink(open_by, route=info.join_route)
        else:
            if info.task_id is None:
                raise WorldError(f"{name} cannot open {target}'s run page: it has no run yet")
            link = ViewerLink(open_by, task_id=info.task_id)
        return await self._start_viewer(name, name, link, agent, user=user, client=client)

    async def _start_viewer(
        self,
        name: str,
        actor_name: str,
        link: ViewerLink,
        target: Orchestrator | ChildAgent,
        *,
        user: str,
        client: ClientKind,
    ) -> Viewer:
        viewer = Viewer(
            actor_name,
            self.simulation.network,
            link,
            self.switches,
            user=user,
            task_token=self.task_token(user_principal(user)),
            client=client,
        )
        self.viewers[name] = viewer
        self.opened[name] = target.name
        await self.simulation.stage.start(viewer)
        return viewer

    async def open_link(
        self,
        name: str,
        route: str,
        *,
        user: str = DEFAULT_VIEWER,
        client: ClientKind = ClientKind.NATIVE,
    ) -> Viewer:
        """Open a join route someone copied: the viewer opens the session it targets."""
        agent = await self._agent_sharing(route)
        link = ViewerLink(OpenBy.SHARE_LINK, route=route)
        return await self._start_viewer(name, name, link, agent, user=user, client=client)

    async def handoff(self, name: str, client: ClientKind) -> Viewer:
        """Open in desktop (or on the web): another client opens the same target.

        The new client gets the link the old one shows, which opens the same
        session, so it comes to the same scope; the old one closes. Its actor is
        named after the client, so the two never share a name.
        """
        old = self.viewers[name]
        link: ViewerLink = await old.ref.ask(HandoffLink(), sender="world")
        await old.ref.tell(Leave(), sender="world")
        actor_name = f"{name}@{client.value}"
        if actor_name == old.name:
            raise WorldError(f"{name} is already on the {client.value} client")
        target = self.agent(self.opened[name])
        return await self._start_viewer(
            name, actor_name, link, target, user=old.user, client=client
        )

    async def _agent_sharing(self, route: str) -> Orchestrator | ChildAgent:
        session_id = joined_session(route)
        for agent in self._all_agents():
            if (await agent_info(agent)).session_id == session_id:
                return agent
        raise WorldError(f"no agent shares the session {session_id}")

    def _all_agents(self) -> list[Orchestrator | ChildAgent]:
        return [*self.orchestrators.values(), *self.children()]

    def _host_location(self, agent: Orchestrator | ChildAgent) -> Location:
        """Where the agent's host runs: a child local to a cloud driver is remote to the user,
        and a child local to a local child runs where that child runs."""
        while isinstance(agent, ChildAgent) and agent.location is Location.LOCAL:
            host = agent.host
            assert isinstance(host, Orchestrator | ChildAgent)
            agent = host
        return agent.location

    def in_owners_team(self, user: str) -> bool:
        """Whether `user` may view the owner's runs: the owner, or one of her team."""
        return self.tasks.store.team_of(user_principal(user)) == OWNER_TEAM

    async def observe(self, viewer: str) -> Observation:
        observation: Observation = await self.viewers[viewer].ref.ask(Observe(), sender="world")
        return observation

    def task_token(self, principal: str) -> TaskToken:
        """The task server's token for `principal`, as its operator hands it out.

        Taken from the server's store directly, at set-up and outside any
        message flow, so issuing it changes nothing a run's trace records.
        """
        return self.tasks.store.issue_token(principal)

    def task_requests(self, user: str, endpoint: str | None = None) -> int:
        return self.tasks.store.requests_by(user_principal(user), endpoint)


async def agent_info(agent: Orchestrator | ChildAgent) -> AgentInfo:
    info: AgentInfo = await agent.ref.ask(Describe(), sender="world")
    return info


@asynccontextmanager
async def open_world(
    switches: Switches,
    *,
    seed: int = 0,
    mode: Mode = Mode.MEMORY,
    conditions: NetworkConditions | None = None,
    trace_sink: TextIO | None = None,
    log_context: dict[str, object] | None = None,
    teammates: Iterable[str] = (DEFAULT_VIEWER,),
) -> AsyncIterator[World]:
    """Start both servers under `switches`; every actor stops when the block ends.

    `teammates` are the users in the owner's team; any other viewer is a stranger.
    """
    async with open_simulation(
        seed=seed, mode=mode, conditions=conditions, trace_sink=trace_sink, log_context=log_context
    ) as simulation:
        # Seeded, so a run replays exactly; `serve` uses the OS's randomness instead.
        credentials = SeededCredentials(simulation.random.stream)
        sessions = SessionServer(
            simulation.network, credentials, switches=server_switches(switches)
        )
        tasks = TaskServer(simulation.network, gates=task_gates(switches), credentials=credentials)
        await simulation.stage.start(sessions)
        await simulation.stage.start(tasks)
        owner = user_principal(OWNER)
        tasks.store.add_team(OWNER_TEAM, [owner, *(user_principal(u) for u in teammates)])
        token = tasks.store.issue_token(owner)
        setup = AgentSetup(simulation.network, simulation.stage, switches, token, user=OWNER)
        yield World(simulation, switches, sessions, tasks, setup)
