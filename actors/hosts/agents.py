"""Agents: orchestrators and their children, on a user's client or in the cloud.

An agent is a conversation on a host. A *local* agent runs on the host of its
orchestrator (the user's client, or a cloud driver for a remote orchestrator)
and is shared only when the user shares it or when it inherits its host's
share. A *remote* agent runs in the cloud and is always shared, automatically,
as `AmbientAgent {task_id}`; its cloud worker links the session to its run.

The rules (how a share is stamped, who inherits it, whether to report a
session link) live in `actors.rules`; these actors apply them and do the I/O.

An agent never waits for a remote reply inside `handle`: as in the client,
every task-server call (creating a run, a state change, a session-link report)
and every share connection runs as an operation of its own in the actor's
nursery, and its outcome comes back as a message. So a share click, a spawn,
the first response, the catch-up and the link reports interleave. What an
operation read before it started is a snapshot: a new local child inherits the
host's share as it was when `run_agents` asked for the child's row.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
import trio

from actors.hosts.share import (
    AnswerRoleRequests,
    Share,
    ShareEstablished,
    ShareFrame,
    ShareLinkEnded,
    ShareLost,
    ShareStatus,
)
from actors.links.task_client import TaskCallAbandoned, TaskClient
from actors.rules.cascade import (
    CascadeLedger,
    LocalChild,
    PaneShareState,
    ShareKind,
    ShareSource,
    share_source,
    stops_with_host,
    upgrade_sidecar,
)
from actors.rules.profiles import Switches
from actors.rules.session_link import SessionLinkReporter
from actors.runtime.actor import Actor, Request
from actors.runtime.stage import Stage
from actors.runtime.transport import Network
from protocol import AgentExchange, RunRecord, RunState, TaskToken, sharer, tasks
from protocol.roles import Role
from protocol.runs import AgentConfigSnapshot, Execution
from protocol.tasks import TaskCallFailed, TaskRefused, TaskRequest

_log = structlog.get_logger("sharesim.agents")


class Location(enum.Enum):
    """Where an agent runs, relative to the host of the agent that spawned it."""

    LOCAL = "local"
    REMOTE = "remote"

    @property
    def execution(self) -> Execution:
        return Execution.LOCAL if self is Location.LOCAL else Execution.CLOUD


# -- commands (from scenarios and tests) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShareByUser:
    """The user shares this (local) agent's session from a share entrypoint.

    `link_role` is what the share modal grants anyone who opens the link.
    """

    link_role: Role = Role.READER


@dataclass(frozen=True, slots=True)
class StopSharing:
    """The user stops sharing; shares inherited from this one stop with it."""


@dataclass(frozen=True, slots=True)
class AppendExchange:
    """The agent produces an exchange that may mention other agents by task id."""

    text: str
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SpawnChild:
    """`run_agents`: start a direct child of the agent told, local to its host or remote
    in the cloud. Any agent may be told: a child orchestrates its own children."""

    name: str
    location: Location
    title: str = ""
    launch_fails: bool = False


@dataclass(frozen=True, slots=True)
class Finish:
    """The agent's run ends in `state` (SUCCEEDED, FAILED, ...)."""

    state: RunState = RunState.SUCCEEDED


@dataclass(frozen=True, slots=True)
class AgentInfo:
    name: str
    task_id: str | None
    session_id: str | None
    join_route: str | None
    sharing: bool
    children: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Describe(Request[AgentInfo]):
    """Ask an agent what it is: its ids, its share, its children."""


# -- internal messages -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FirstResponse:
    pass


#: What a task-server call came back with: the reply, or why there was none.
TaskOutcome = tasks.TaskReply | TaskCallFailed


@dataclass(frozen=True, slots=True)
class _StreamInit:
    """The orchestrator's own run was created (or could not be): its first response."""

    outcome: TaskOutcome


@dataclass(frozen=True, slots=True)
class _ChildRunCreated:
    """A child's row came back. `host_source` is the host's share as read when the
    spawn asked for the row (None: not sharing then), whatever it is now."""

    spawn: SpawnChild
    host_source: ShareSource | None
    outcome: TaskOutcome


@dataclass(frozen=True, slots=True)
class _Transitioned:
    """A state change of this agent's run was answered."""

    state: RunState
    outcome: TaskOutcome


@dataclass(frozen=True, slots=True)
class _LinkReported:
    """A session-link report (`update_agent_task`) was answered."""

    session_id: str
    outcome: TaskOutcome


@dataclass(frozen=True, slots=True)
class InheritShare:
    """Host to local child: share with this source (creation cascade or catch-up)."""

    source: ShareSource


@dataclass(frozen=True, slots=True)
class StopInheritedShare:
    """Host to a child of its cascade set: the host's share stopped (see `stops_with_host`)."""


@dataclass
class AgentSetup:
    """What every agent needs from the simulation it runs in."""

    network: Network
    stage: Stage
    switches: Switches
    #: The task server's token for this user, obtained when the simulation was set up.
    task_token: TaskToken
    user: str = "alice"


@dataclass
class _ChildRecord:
    name: str
    location: Location
    actor: ChildAgent | None = None

    @property
    def share_state(self) -> PaneShareState:
        """As the host's pane group sees the child's pane (same process, so it can look)."""
        if self.location is Location.REMOTE:
            return PaneShareState.VIEWING  # the host views the cloud child's share
        if self.actor is not None and self.actor.live_share is not None:
            return PaneShareState.SHARING
        return PaneShareState.NOT_SHARED


#: What every agent handles, whatever its place in the orchestration: any agent may
#: orchestrate children of its own (`SpawnChild`).
AgentMessage = (
    ShareFrame
    | ShareLinkEnded
    | _Transitioned
    | _LinkReported
    | AppendExchange
    | Describe
    | AnswerRoleRequests
    | SpawnChild
    | _ChildRunCreated
)

#: The commands one kind of agent adds (see `Orchestrator` and `ChildAgent`).
C = TypeVar("C")

#: An update of an agent's own run waiting its turn: what `call_task` takes.
_RunUpdate = tuple[
    Callable[[int], TaskRequest],
    Callable[[TaskOutcome], Any],
    str,
    Callable[[], bool] | None,
]


class Agent(Actor[AgentMessage | C]):
    """What orchestrators and children share: a task row, a transcript, maybe a share."""

    role = "agent"

    def __init__(self, name: str, setup: AgentSetup, *, location: Location, title: str) -> None:
        super().__init__(name)
        self.setup = setup
        self.location = location
        self.title = title or name
        self.task_id: str | None = None
        self.transcript: list[AgentExchange] = []
        self.share: Share | None = None
        #: The state a `Finish` asked for: a cloud worker that is ending starts nothing new.
        self.final_state: RunState | None = None
        self.links = SessionLinkReporter(setup.switches)
        #: This agent's direct children, by task id: any agent may orchestrate.
        self.children: dict[str, _ChildRecord] = {}
        self.ledger = CascadeLedger()
        self._tasks: TaskClient | None = None
        #: Whether the run's claim has been answered: the link gate opens then.
        self._claimed = False
        #: With `report_link_again_after_claim`: the gate refused a link before the claim.
        self._link_refused_before_claim = False
        self._links_sent: dict[str, str] = {}
        #: With `create_children_in_spawn_order`: spawns waiting for an earlier child's row.
        self._spawns_waiting: deque[SpawnChild] = deque()
        self._creating_child = False
        #: With `serialize_run_updates`: updates of this agent's run waiting for the one
        #: in flight to be answered, as (build, then, what, wanted).
        self._run_updates: deque[_RunUpdate] = deque()
        self._updating_run = False

    @property
    def switches(self) -> Switches:
        return self.setup.switches

    @property
    def tasks(self) -> TaskClient:
        if self._tasks is None:
            self._tasks = TaskClient(
                self.name, self.setup.task_token, self.setup.network, self.nursery
            )
        return self._tasks

    def log_context(self) -> dict[str, object]:
        return {**super().log_context(), "location": self.location.value}

    @property
    def claimed(self) -> bool:
        """Whether the task server has answered this agent's claim: its run has started."""
        return self._claimed

    @property
    def parent_agent_id(self) -> str | None:
        """The run of the agent that spawned this one; an orchestrator has none."""
        return None

    @property
    def live_share(self) -> Share | None:
        """This agent's share while it is up (not ended), else None."""
        share = self.share
        return share if share is not None and share.status is not ShareStatus.ENDED else None

    # -- task rows -------------------------------------------------------------------

    async def call_task(
        self,
        build: Callable[[int], TaskRequest],
        then: Callable[[TaskOutcome], AgentMessage | C],
        *,
        what: str,
        wanted: Callable[[], bool] | None = None,
        own_run: bool = False,
    ) -> None:
        """Send a task-server request now and wait for its reply in an operation of its
        own; `then(outcome)` is the message that brings the reply back to this actor, so
        the mailbox never waits for it. Requests leave in the order the agent made them,
        as on the client's one connection; their replies come when they come. A request
        that fails is tried again while `wanted` (when given) says it still is. With
        `serialize_run_updates`, an update of the agent's `own_run` waits until the one
        before it is answered.
        """
        queued = own_run and self.switches.serialize_run_updates
        if queued:
            if self._updating_run:
                self._run_updates.append((build, then, what, wanted))
                return
            self._updating_run = True
        sent = await self.tasks.send(build)

        async def operation() -> None:
            outcome: TaskOutcome
            try:
                outcome = await self.tasks.call_retrying(build, sent=sent, wanted=wanted)
            except TaskCallFailed as failed:
                outcome = failed
            if queued:
                await self._next_run_update()
            await self.tell_self(then(outcome))

        self.spawn(operation, name=f"{self.name}:{what}")

    async def _next_run_update(self) -> None:
        """The run's last update was answered: the next one queued goes now."""
        self._updating_run = False
        if self._run_updates:
            build, then, what, wanted = self._run_updates.popleft()
            await self.call_task(build, then, what=what, wanted=wanted, own_run=True)

    async def transition(self, state: RunState) -> None:
        """Move this agent's run to `state`; `_Transitioned` brings the answer back."""
        assert self.task_id is not None
        task_id = self.task_id
        await self.call_task(
            lambda rid: tasks.TransitionRun(rid, task_id, state),
            lambda outcome: _Transitioned(state, outcome),
            what=f"transition-{state.value}",
            own_run=True,
        )

    async def transitioned(self, state: RunState, outcome: TaskOutcome) -> RunRecord | None:
        """The run's state change was answered (or failed: a cloud worker goes on anyway)."""
        run: RunRecord | None = None
        if isinstance(outcome, TaskCallFailed):
            _log.warning(
                "transition_failed", task_id=self.task_id, state=state.value, reason=outcome.reason
            )
        else:
            assert isinstance(outcome, tasks.RunReply)
            run = outcome.run
            if state is RunState.CLAIMED:
                self._claimed = True
                await self._report_refused_link_again()
        await self.continue_in_cloud(state)
        return run

    async def _report_refused_link_again(self) -> None:
        """The claim is in: a link the gate refused while the run was still queued goes again.

        Reports and the claim leave in order, but a partition has each retried on its own
        schedule, so the report can reach the server first. What goes again is the link
        of the share that is up now: refusals come back in any order, and the one that
        came last may be of a share stopped since.
        """
        refused, self._link_refused_before_claim = self._link_refused_before_claim, False
        live = self.live_share.session_id if self.live_share is not None else None
        if refused and live and live in self._links_sent:
            _log.info("session_link_reported_again", decision=True, session_id=live)
            await self.write_link(live, self._links_sent[live])

    async def continue_in_cloud(self, state: RunState) -> None:
        """A cloud worker's start: claimed, then running, then its session is shared."""
        if self.location is not Location.REMOTE or self.final_state is not None:
            return
        if state is RunState.CLAIMED:
            await self.transition(RunState.RUNNING)
        elif state is RunState.RUNNING:
            self.start_share(ShareKind.AMBIENT, lifetime=sharer.Lifetime.LINGERING)

    async def link_session(
        self, session_id: str, join_route: str, *, is_remote_child: bool
    ) -> None:
        """Report the share's session on this agent's row, if the rules say so."""
        decision = self.links.share_established(
            task_id=self.task_id,
            session_id=session_id,
            is_viewer=False,
            is_remote_child=is_remote_child,
        )
        if not decision.report:
            _log.info(
                "session_link_skipped",
                decision=True,
                reason=decision.reason.value,
                session_id=session_id,
            )
            return
        await self.write_link(session_id, join_route)

    async def write_link(self, session_id: str, join_route: str) -> None:
        """`update_agent_task` with the session; `_LinkReported` brings the answer back."""
        assert self.task_id is not None
        task_id = self.task_id
        self._links_sent[session_id] = join_route
        await self.call_task(
            lambda rid: tasks.UpdateAgentTask(
                rid, task_id, session_id=session_id, session_link=join_route
            ),
            lambda outcome: _LinkReported(session_id, outcome),
            what="link-session",
            own_run=True,
            wanted=(
                (lambda: self._sharing(session_id))
                if self.switches.abandon_link_reports_of_ended_shares
                else None
            ),
        )

    def _sharing(self, session_id: str) -> bool:
        """Whether `session_id` is the session of this agent's share, and it is up."""
        share = self.live_share
        return share is not None and share.session_id == session_id

    def link_reported(self, session_id: str, outcome: TaskOutcome) -> RunRecord | None:
        if isinstance(outcome, TaskCallAbandoned):
            _log.info(
                "session_link_abandoned",
                decision=True,
                session_id=session_id,
                reason="its share ended before the report got through",
            )
            return None
        if isinstance(outcome, TaskCallFailed):
            _log.warning(
                "session_link_refused", decision=True, task_id=self.task_id, reason=outcome.reason
            )
            if (
                self.switches.report_link_again_after_claim
                and not self._claimed
                and isinstance(outcome, TaskRefused)
                and outcome.kind is tasks.TaskErrorKind.REJECTED_BY_GATE
            ):
                self._link_refused_before_claim = True
            return None
        assert isinstance(outcome, tasks.AgentTaskUpdated)
        _log.info("session_linked", decision=True, task_id=self.task_id, session_id=session_id)
        return outcome.run

    # -- sharing -----------------------------------------------------------------------

    def start_share(
        self, kind: ShareKind, *, lifetime: sharer.Lifetime, link_role: Role = Role.READER
    ) -> None:
        if self.live_share is not None:
            _log.info("share_skipped", decision=True, reason="already sharing")
            return
        source = share_source(kind, self.task_id, self.switches)
        self.open_share(source, lifetime=lifetime, link_role=link_role)

    def open_share(
        self, source: ShareSource, *, lifetime: sharer.Lifetime, link_role: Role = Role.READER
    ) -> None:
        self.share = Share(
            self,
            self.setup.network,
            source,
            user=self.setup.user,
            lifetime=lifetime,
            link_role=link_role,
            resends_source_task_id=self.switches.resend_source_task_id_on_resume,
        )
        for exchange in self.transcript:
            self.share.append(exchange.to_event())  # history streams to viewers first
        self.share.open()
        _log.info(
            "share_requested",
            decision=True,
            source=repr(source.source_type),
            source_task_id=source.source_task_id,
        )

    def stop_share(self) -> None:
        if self.share is not None:
            self.share.stop()
            _log.info("share_stopped", session_id=self.share.session_id)

    def append_exchange(self, text: str, mentions: tuple[str, ...]) -> None:
        exchange = AgentExchange(
            self.task_id, len(self.transcript), text, mentions, self.parent_agent_id
        )
        self.transcript.append(exchange)
        if self.share is not None:
            self.share.append(exchange.to_event())

    async def share_established(self, event: ShareEstablished) -> None:
        """Report the link and catch the children up: two independent reactions, as in
        the client, so the catch-up does not wait for the report's reply."""
        if self.location is Location.REMOTE:
            await self.write_link(event.session_id, event.join_route)  # the cloud worker links it
        else:
            await self.link_session(event.session_id, event.join_route, is_remote_child=False)
        await self.catch_up_children(event)

    # -- orchestrating children ------------------------------------------------------------

    def spawn_deferred(self, spawn: SpawnChild) -> bool:
        """Whether a spawn asked for before this agent has a run waits for one."""
        return False

    async def spawn_child(self, spawn: SpawnChild) -> None:
        """`run_agents`: read the host's share, then ask for the child's row.

        The share source is read now, before the row is asked for, and that reading is
        what the child inherits when the row comes back (client notes 4.4): a share
        established meanwhile, with its one-shot catch-up, does not reach the child.
        """
        if self.task_id is None:
            if not self.spawn_deferred(spawn):
                _log.warning(
                    "spawn_refused", decision=True, child=spawn.name, reason="no run id to parent"
                )
            return
        if self.refuses_spawns():
            _log.warning("spawn_refused", decision=True, child=spawn.name, reason="never ran")
            return
        if self.switches.create_children_in_spawn_order:
            if self._creating_child:
                self._spawns_waiting.append(spawn)
                _log.info(
                    "spawn_waits", decision=True, child=spawn.name, reason="an earlier row is due"
                )
                return
            self._creating_child = True
        host_share = self._live_share_source()
        parent = self.task_id
        await self.call_task(
            lambda rid: tasks.CreateRun(
                rid,
                spawn.title or spawn.name,
                spawn.location.execution,
                parent_run_id=parent,
                agent_config_snapshot=AgentConfigSnapshot(spawn.name),
                idempotency_key=f"{self.name}/{spawn.name}",
            ),
            lambda outcome: _ChildRunCreated(spawn, host_share, outcome),
            what=f"spawn-{spawn.name}",
        )

    def _live_share_source(self) -> ShareSource | None:
        """What a new local child inherits from the host now: its share, unless it ended."""
        share = self.live_share
        return share.source if share is not None else None

    def refuses_spawns(self) -> bool:
        """Whether this agent never ran, so it orchestrates nothing."""
        return False

    async def _child_run_created(self, created: _ChildRunCreated) -> None:
        await self._take_child_run(created)
        self._creating_child = False
        while self._spawns_waiting and not self._creating_child:
            await self.spawn_child(self._spawns_waiting.popleft())

    async def _take_child_run(self, created: _ChildRunCreated) -> None:
        spawn = created.spawn
        if isinstance(created.outcome, TaskCallFailed):
            _log.error("spawn_failed", child=spawn.name, reason=created.outcome.reason)
            return
        assert isinstance(created.outcome, tasks.RunReply)
        run = created.outcome.run
        record = _ChildRecord(spawn.name, spawn.location)
        self.children[run.task_id] = record
        child = ChildAgent(
            spawn.name,
            self.setup,
            location=spawn.location,
            title=spawn.title,
            task_id=run.task_id,
            host=self,
            launch_fails=spawn.launch_fails,
        )
        record.actor = child
        await self.setup.stage.start(child)
        _log.info(
            "child_spawned",
            child=spawn.name,
            child_task_id=run.task_id,
            location=spawn.location.value,
        )
        if spawn.location is Location.LOCAL and not spawn.launch_fails:
            host_source = created.host_source
            if self.switches.reread_host_share_on_child_created:
                host_source = self._live_share_source()
            source = self.ledger.share_new_child(host_source, run.task_id, self.switches)
            if source is not None:
                await self._tell_child(run.task_id, InheritShare(source))
        self.append_exchange(f"run_agents started {spawn.name}", (run.task_id,))

    async def catch_up_children(self, event: ShareEstablished) -> None:
        """The one-shot catch-up over this agent's direct children; a child that starts
        sharing runs its own over its children when its share is established."""
        assert self.share is not None
        catch_up = self.ledger.catch_up(
            self.share.source, event.session_id, self._local_children(), self.switches
        )
        for item in catch_up:
            _log.info("catch_up_share", decision=True, child=item.task_id)
            await self._tell_child(item.task_id, InheritShare(item.source))

    def _local_children(self) -> list[LocalChild]:
        return [
            LocalChild(
                parent_task_id=self.task_id or "",
                task_id=task_id,
                pane_alive=record.actor is not None and not record.actor.launch_fails,
                share_state=record.share_state,
            )
            for task_id, record in self.children.items()
        ]

    async def stop_sharing(self) -> None:
        """Stop this agent's share, and with it the shares its children inherited; each
        of them that stops does the same for its own children."""
        self.stop_share()
        if self.task_id is not None:
            for task_id in self.ledger.stop(self.task_id):
                await self._tell_child(task_id, StopInheritedShare())

    async def _tell_child(self, task_id: str, message: ChildCommand) -> None:
        record = self.children.get(task_id)
        if record is not None and record.actor is not None:
            await record.actor.ref.tell(message, sender=self.name)

    # -- messages ------------------------------------------------------------------------

    async def handle(self, message: AgentMessage | C, sender: str) -> None:
        if isinstance(message, ShareFrame):
            if message.share is self.share:
                outcome = message.share.handle_frame(message.message)
                if isinstance(outcome, ShareEstablished):
                    _log.info("share_established", session_id=outcome.session_id)
                    await self.share_established(outcome)
                elif isinstance(outcome, ShareLost):
                    _log.warning("share_lost", decision=True, reason=outcome.reason)
        elif isinstance(message, ShareLinkEnded):
            message.share.link_ended(message.link)
        elif isinstance(message, _Transitioned):
            await self.transitioned(message.state, message.outcome)
        elif isinstance(message, _LinkReported):
            self.link_reported(message.session_id, message.outcome)
        elif isinstance(message, AppendExchange):
            self.append_exchange(message.text, message.mentions)
        elif isinstance(message, Describe):
            self.answer(message, self.describe())
        elif isinstance(message, AnswerRoleRequests):
            if self.share is not None:
                self.share.answer_role_requests(message.approve)
        elif isinstance(message, SpawnChild):
            await self.spawn_child(message)
        elif isinstance(message, _ChildRunCreated):
            await self._child_run_created(message)
        else:
            await self.handle_command(message, sender)

    async def handle_command(self, message: C, sender: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not handle {type(message).__name__}")

    def describe(self) -> AgentInfo:
        share = self.share
        live = self.live_share is not None
        return AgentInfo(
            name=self.name,
            task_id=self.task_id,
            session_id=share.session_id if share else None,
            join_route=share.join_route if share else None,
            sharing=live,
            children=tuple(self.children),
        )


#: The orchestrator's own commands.
OrchestratorCommand = _FirstResponse | _StreamInit | ShareByUser | StopSharing | Finish


class Orchestrator(Agent[OrchestratorCommand]):
    """The top-level agent; the host its local children live on."""

    role = "orchestrator"

    def __init__(
        self,
        name: str,
        setup: AgentSetup,
        *,
        location: Location,
        title: str = "",
        first_response_after: float = 1.0,
    ) -> None:
        super().__init__(name, setup, location=location, title=title)
        self.first_response_after = first_response_after
        #: `run_agents` calls asked for before the first response: a tool call comes in a
        #: response after its StreamInit, so they run once it lands (None once it has).
        self._before_stream_init: list[SpawnChild] | None = []

    async def on_start(self) -> None:
        if self.location is Location.REMOTE:
            self.spawn(self._start_in_cloud)
        else:
            self.spawn(self._respond_later)

    async def _respond_later(self) -> None:
        await trio.sleep(self.first_response_after)
        await self.tell_self(_FirstResponse())

    async def _start_in_cloud(self) -> None:
        await self.tell_self(_FirstResponse())

    async def handle_command(self, message: OrchestratorCommand, sender: str) -> None:
        if isinstance(message, _FirstResponse):
            await self._first_response()
        elif isinstance(message, _StreamInit):
            await self._stream_init(message.outcome)
        elif isinstance(message, ShareByUser):
            self.start_share(
                ShareKind.USER, lifetime=sharer.Lifetime.EPHEMERAL, link_role=message.link_role
            )
        elif isinstance(message, StopSharing):
            await self.stop_sharing()
        else:
            self.final_state = message.state
            await self.transition(message.state)

    async def _first_response(self) -> None:
        """The first request is answered by a run: `_StreamInit` brings its id back."""
        execution = self.location.execution
        key = f"{self.name}/run"
        await self.call_task(
            lambda rid: tasks.CreateRun(rid, self.title, execution, idempotency_key=key),
            _StreamInit,
            what="first-response",
        )

    async def _stream_init(self, outcome: TaskOutcome) -> None:
        """StreamInit: the conversation gets its run id; a cloud run is claimed and shared."""
        deferred, self._before_stream_init = self._before_stream_init or [], None
        if isinstance(outcome, TaskCallFailed):
            _log.error("first_response_failed", decision=True, reason=outcome.reason)
            for spawn in deferred:
                await self.spawn_child(spawn)  # refused: there is no run to be a parent
            return
        assert isinstance(outcome, tasks.RunReply)
        self.task_id = outcome.run.task_id
        structlog.contextvars.bind_contextvars(task_id=self.task_id)
        _log.info("first_response", decision=True, task_id=self.task_id)
        await self.transition(RunState.CLAIMED)  # a cloud run goes on in `transitioned`
        if self.location is Location.LOCAL and self.share is not None:
            upgraded = upgrade_sidecar(self.share.source, self.task_id, self.switches)
            if upgraded is not None:
                _log.info(
                    "sidecar_upgraded",
                    decision=True,
                    task_id=self.task_id,
                    pushed=self.switches.push_source_task_id,
                )
                if self.switches.push_source_task_id:
                    self.share.push_source_task_id(self.task_id)
                else:
                    self.share.source = upgraded  # only the sharer's copy changes
        self.append_exchange("first response", ())
        for spawn in deferred:
            await self.spawn_child(spawn)

    def spawn_deferred(self, spawn: SpawnChild) -> bool:
        """Before its first response the orchestrator has no run: a tool call comes in a
        response after its StreamInit, so the spawn waits for it."""
        if self._before_stream_init is None:
            return False
        _log.info("spawn_deferred", decision=True, child=spawn.name, reason="no first response yet")
        self._before_stream_init.append(spawn)
        return True


#: A child agent's own commands.
ChildCommand = (
    _FirstResponse | InheritShare | StopInheritedShare | ShareByUser | StopSharing | Finish
)
#: Everything a child agent handles: what `ChildAgent.ref` accepts.
ChildMessage = AgentMessage | ChildCommand


class ChildAgent(Agent[ChildCommand]):
    """A child of an orchestrator or of another child; it may orchestrate its own
    children, for which it is the host exactly as the orchestrator is for its own."""

    role = "child"

    def __init__(
        self,
        name: str,
        setup: AgentSetup,
        *,
        location: Location,
        title: str,
        task_id: str,
        host: Agent[Any],
        launch_fails: bool = False,
    ) -> None:
        super().__init__(f"{host.name}/{name}", setup, location=location, title=title)
        self.agent_name = name
        self.task_id = task_id
        self.host = host
        self.launch_fails = launch_fails
        self._inherited: Share | None = None

    def log_context(self) -> dict[str, object]:
        return {**super().log_context(), "task_id": self.task_id}

    @property
    def parent_agent_id(self) -> str | None:
        return self.host.task_id

    async def on_start(self) -> None:
        self.spawn(self._launch)

    async def _launch(self) -> None:
        await self.tell_self(_FirstResponse())

    async def handle_command(self, message: ChildCommand, sender: str) -> None:
        if isinstance(message, _FirstResponse):
            await self._claim()
        elif isinstance(message, InheritShare):
            self._inherit(message.source)
        elif isinstance(message, StopInheritedShare):
            await self._host_stopped()
        elif isinstance(message, ShareByUser):
            self.start_share(
                ShareKind.USER, lifetime=sharer.Lifetime.EPHEMERAL, link_role=message.link_role
            )
        elif isinstance(message, StopSharing):
            await self.stop_sharing()
        else:
            self.final_state = message.state
            await self.transition(message.state)

    def _inherit(self, source: ShareSource) -> None:
        """Share as the host asks, unless already sharing on its own.

        Only a share opened here counts as inherited: under the spec's stop cascade
        (`stop_only_inherited_shares`) it is the only one the host's stop may end.
        """
        if (live := self.live_share) is not None:
            _log.info(
                "inherit_skipped",
                decision=True,
                reason="already sharing",
                session_id=live.session_id,
            )
            return
        self.open_share(source, lifetime=sharer.Lifetime.EPHEMERAL)
        self._inherited = self.share

    async def _host_stopped(self) -> None:
        share = self.share
        sharing = self.live_share is not None
        inherited = share is not None and share is self._inherited
        if stops_with_host(sharing=sharing, inherited=inherited, switches=self.switches):
            await self.stop_sharing()  # the stop goes on down to its own inherited children

    def refuses_spawns(self) -> bool:
        return self.launch_fails

    async def _claim(self) -> None:
        if self.launch_fails:
            _log.warning("launch_failed", decision=True, child=self.agent_name)
            await self.transition(RunState.FAILED)
            return
        await self.transition(RunState.CLAIMED)  # a cloud child goes on in `transitioned`

    async def transitioned(self, state: RunState, outcome: TaskOutcome) -> RunRecord | None:
        run = await super().transitioned(state, outcome)
        if state is self.final_state and self.location is Location.REMOTE:
            self.stop_share()  # the cloud sandbox shuts down; its session lingers
        return run
