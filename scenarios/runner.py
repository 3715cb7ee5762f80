"""Running a scenario: build the world, play the timeline, check every expectation.

Everything happens in virtual time on one seeded simulation, so a run is a
function of (scenario, profile, seed, switches, fault plan) and replays
exactly. A step that cannot be carried out (a viewer opening a share that is
not live) fails the run with a reason; it does not crash it. A step its actor
cannot take when it comes (a `finish` before the run exists, an exchange
mentioning an agent not yet created) does nothing, as the person or agent
would, and is logged.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

import structlog
import trio

from actors.hosts.agents import (
    AppendExchange,
    ChildAgent,
    Finish,
    Location,
    Orchestrator,
    ShareByUser,
    SpawnChild,
    StopSharing,
)
from actors.hosts.share import AnswerRoleRequests
from actors.rules.profiles import Profile
from actors.runtime.actor import ActorCrashed
from actors.runtime.conditions import Partition
from actors.runtime.simulation import run_seeded
from actors.runtime.trace import Trace, TraceRecord
from actors.runtime.transport import Mode
from actors.viewers.person import CopyLink, Prompt, RequestAccess, SelectPill, UsePill
from actors.world import World, WorldError, open_world
from protocol import RunState
from scenarios.designs import Design
from scenarios.expectations import Comparison, Mismatch, compare, observed_values
from scenarios.fault_plan import FaultPlan
from scenarios.faults import FaultKind, faults_over_by, format_faults, kinds_of, plan_faults
from scenarios.invariants import InvariantMonitor, Violation
from scenarios.recording import Recording, ViewerSampler
from scenarios.schema import (
    VIEWER_STEPS,
    Expectation,
    RunEnding,
    Scenario,
    Step,
    StepKind,
    ViewerSpec,
)

_log = structlog.get_logger("sharesim.runner")

_SERVERS = ("session-server", "task-server")
_FINAL_STATE = {
    RunEnding.SUCCEEDED: RunState.SUCCEEDED,
    RunEnding.FAILED: RunState.FAILED,
    RunEnding.ERROR: RunState.ERROR,
    RunEnding.CANCELLED: RunState.CANCELLED,
    RunEnding.BLOCKED: RunState.BLOCKED,
}
#: How many trace records around a failure a report shows.
TRACE_SLICE = 12
#: How many of the decisions leading to a failure a report shows.
DECISION_SLICE = 16
#: Under faults, how often a step that cannot be carried out yet is tried again.
STEP_RETRY_S = 1.0
#: The timeline entries that wait for what they need under faults: spawns (of a child
#: whose parent's run is late), steps and joins (checks keep their time: a late viewer is
#: what they are there to see).
_WAITING_STEPS = frozenset({1, 2, 3})


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed expectation (with mismatches) or a step that could not be carried out.

    For an expectation, `decisions` are the logged decisions that led to what
    the viewer showed (its own, and those of every agent and server), and
    `faults` the faults injected before it, so a report can say why.
    """

    what: str
    at: float
    mismatches: tuple[Mismatch, ...] = ()
    trace: tuple[TraceRecord, ...] = ()
    decisions: tuple[Mapping[str, object], ...] = ()
    faults: tuple[TraceRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class SkippedStep:
    """A step whose actor could not take it when it came (a `finish` before the run
    exists, a `share` while sharing): the person or agent does nothing, as they would."""

    at: float
    step: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.at:g} s: {self.step}{where} did nothing: {self.reason}"


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    """One expectation as checked: every comparison it made, held or not."""

    viewer: str
    at: float
    line: int | None
    comparisons: tuple[Comparison, ...]

    @property
    def held(self) -> bool:
        return all(c.held for c in self.comparisons)


def _what_it_opens(viewer: ViewerSpec) -> str:
    """`opens`, or for a viewer given a copied link, whose copy it is."""
    if viewer.link_from is not None:
        return f"the link {viewer.link_from} copied"
    return viewer.opens


class Verdict(enum.Enum):
    """What a run says about its scenario under its design."""

    PASS = "pass"
    FAIL = "fail"
    #: Nothing was checked and nothing broke.
    NO_CHECKS = "no checks"
    #: The file marks this profile's outcome as depending on the interleaving: one seed's
    #: expectations decide nothing, `sharesim explore` does. Broken invariants and steps
    #: that could not be carried out still fail it.
    RACE = "race"
    #: The file marks this profile as a known hole: its expectations state what the design
    #: should do and this profile does not. `run` reports it; explore and findings see it
    #: fail. Broken invariants and steps that could not be carried out still fail it.
    HOLE = "known hole"


@dataclass
class RunResult:
    scenario: Scenario
    profile: Profile
    seed: int
    failures: list[Failure] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    end_time: float = 0.0
    messages: int = 0
    task_requests: int = 0
    checked: int = 0
    #: What each checked viewer showed, as `ViewerSnapshot.to_dict()`, keyed `viewer@time`.
    observations: dict[str, dict[str, object]] = field(default_factory=dict)
    trace: Trace | None = None
    #: The switches that differed from the profile's own values.
    overrides: dict[str, bool] = field(default_factory=dict)
    #: The switches the scenario file set for this run (see `Design.pinned`).
    pinned: dict[str, bool] = field(default_factory=dict)
    #: The file's settings that `--set` replaced, with the file's values.
    overruled: dict[str, bool] = field(default_factory=dict)
    #: What the command line's `--set` asked for: with the file, it rebuilds the design.
    settings: dict[str, bool] = field(default_factory=dict)
    #: Whether someone chose this seed (`--seed`): a race is then judged by this interleaving,
    #: as a replay of a seed `explore` found must be; otherwise one seed decides nothing.
    seed_chosen: bool = False
    #: Steps the actor could not take when they came, modelled as doing nothing.
    skipped: list[SkippedStep] = field(default_factory=list)
    faults: frozenset[FaultKind] = frozenset()
    #: Every fault of the run, with its times and targets (`--fault-plan` replays it).
    fault_plan: FaultPlan = field(default_factory=FaultPlan)
    expectations: list[ExpectationResult] = field(default_factory=list)
    #: What every viewer showed when the run ended, keyed by viewer.
    views: dict[str, dict[str, object]] = field(default_factory=dict)
    #: The same, keyed and shaped like a scenario file's checks (`sharesim run --show`).
    shown: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether everything held in this very run (this seed)."""
        return not self.failures and not self.violations

    @property
    def race(self) -> bool:
        """Whether the scenario marks this profile's outcome as depending on the interleaving."""
        return self.profile in self.scenario.races

    @property
    def verdict(self) -> Verdict:
        if self.violations or any(not f.mismatches for f in self.failures):
            return Verdict.FAIL
        if self.race and not self.seed_chosen:
            return Verdict.RACE
        if self.failures and self.profile in self.scenario.holes:
            return Verdict.HOLE
        if self.failures:
            return Verdict.FAIL
        return Verdict.PASS if self.checked else Verdict.NO_CHECKS

    @property
    def failed(self) -> bool:
        """Whether this run makes a command exit 1."""
        return self.verdict is Verdict.FAIL


Action = Callable[[], Awaitable[None]]


class _Play:
    """One run of one scenario: the timeline as (time, order, action) entries."""

    def __init__(
        self, scenario: Scenario, profile: Profile, world: World, result: RunResult
    ) -> None:
        self.scenario = scenario
        self.profile = profile
        self.world = world
        self.result = result
        self.conditions = world.simulation.network.conditions
        #: Under faults, the steps and joins waiting their turn, in script order, each
        #: with the time the script gave it.
        self._waiting: list[tuple[float, str, Action]] = []

    def timeline(self) -> list[tuple[float, int, str, Action]]:
        scenario = self.scenario
        entries: list[tuple[float, int, str, Action]] = [
            (0.0, 0, "start orchestrator", self._start)
        ]
        entries += [
            (c.spawn_at, 1, f"spawn {c.name}", self._spawner(c.name)) for c in scenario.children
        ]
        entries += [
            (s.at, 2, f"{s.kind.value} {s.actor}", self._stepper(s)) for s in scenario.steps
        ]
        entries += [
            (v.join_at, 3, f"{v.name} opens {_what_it_opens(v)}", self._joiner(v.name))
            for v in scenario.viewers
        ]
        entries += [
            (self._due(e), 4, f"check {e.viewer}", self._checker(e))
            for e in scenario.expectations_for(self.profile)
            if not (e.without_faults and self.conditions.faulty)
        ]
        return sorted(entries, key=lambda entry: (entry[0], entry[1]))

    def _due(self, expectation: Expectation) -> float:
        """When a check is made: at its time (or the run's end), or, under faults, no
        earlier than `after_faults` seconds after the last planned fault can act."""
        due = expectation.at if expectation.at is not None else self.scenario.duration
        if expectation.after_faults is not None and self.conditions.faulty:
            faults_end = faults_over_by(self.scenario.duration)
            due = max(due, faults_end + expectation.after_faults)
        return due

    async def play(self) -> None:
        async with trio.open_nursery() as waiting:
            for at, order, label, action in self.timeline():
                await trio.sleep_until(at)
                _log.debug("timeline", step=label)
                if order in _WAITING_STEPS and self.conditions.faulty:
                    await self._now_or_in_turn(waiting, at, label, action)
                    continue
                try:
                    await action()
                except WorldError as error:
                    self.result.failures.append(Failure(f"{label}: {error}", at))
            await trio.sleep_until(self.scenario.duration)

    async def _now_or_in_turn(
        self, waiting: trio.Nursery, at: float, label: str, action: Action
    ) -> None:
        """Under faults, a step that needs what an earlier one made (a parent to spawn
        under, a share to open, an agent to mention, a run that has started, a view with
        a link to copy, a pill to click) is carried out once that exists: a person opens
        a link when it reaches them, not before. The script keeps its order and its
        spacing, so every later step and join waits its turn behind one that is
        waiting and comes as long after it as the script says."""
        if self._waiting:
            self._waiting.append((at, label, action))
            return
        try:
            await action()
        except WorldError as error:
            _log.info("step_waits", decision=True, step=label, reason=str(error))
            self._waiting.append((at, label, action))
            waiting.start_soon(self._in_turn, error)

    async def _in_turn(self, error: WorldError) -> None:
        """Carry out the waiting steps in order, trying the first every second; what is
        still waiting when the run ends fails."""
        queue = self._waiting
        while queue:
            at, label, _ = queue[0]
            if trio.current_time() + STEP_RETRY_S > self.scenario.duration:
                now = trio.current_time()
                self.result.failures.append(Failure(f"{label}: {error}", now))
                self.result.failures += [
                    Failure(f"{later}: still waiting behind {label}", now)
                    for _, later, _ in queue[1:]
                ]
                queue.clear()
                return
            await trio.sleep(STEP_RETRY_S)
            while queue:
                at, label, action = queue[0]
                try:
                    await action()
                except WorldError as again:
                    error = again
                    break
                queue.pop(0)
                if queue:  # the next one comes as long after this one as the script says
                    await trio.sleep(queue[0][0] - at)

    async def _start(self) -> None:
        spec = self.scenario.orchestrator
        await self.world.start_orchestrator(
            spec.name,
            spec.location,
            title=spec.title,
            first_response_after=spec.first_response_after,
        )

    def _spawner(self, name: str) -> Action:
        child = next(c for c in self.scenario.children if c.name == name)

        async def spawn() -> None:
            parent = child.parent or self.scenario.orchestrator.name
            host = self._maybe_agent(parent)
            if host is None:
                reason = f"its parent {parent} does not exist yet: its run has not been created"
                if self.conditions.faulty:
                    raise WorldError(reason)  # under faults it waits its turn (see `play`)
                _log.info("spawn_skipped", decision=True, child=child.name, reason=reason)
                self.result.skipped.append(
                    SkippedStep(trio.current_time(), f"spawn {child.name}", reason, None)
                )
                return
            await host.ref.tell(
                SpawnChild(child.name, child.location, child.title, child.launch_fails),
                sender="scenario",
            )

        return spawn

    def _joiner(self, name: str) -> Action:
        spec = next(v for v in self.scenario.viewers if v.name == name)

        async def join() -> None:
            if spec.link_from is not None:
                await self._open_copied_link(spec)
                return
            await self.world.open_viewer(
                spec.name,
                spec.opens,
                user=spec.user,
                open_by=spec.open_by,
                client=spec.client,
            )

        return join

    def _stepper(self, step: Step) -> Action:
        async def act() -> None:
            unable = self._cannot_take(step)
            if unable is not None:
                self._skip(step, unable, waits=self._not_there_yet(step))
                return
            if step.kind in (StepKind.DISCONNECT, StepKind.RECONNECT):
                await self._connectivity(step)
                return
            if step.kind in VIEWER_STEPS:
                await self._viewer_step(step)
                return
            if step.kind is StepKind.ANSWER_ROLE:
                answer = AnswerRoleRequests(step.client.approve)
                await self.world.agent(step.actor).ref.tell(answer, sender="scenario")
                return
            agent = self.world.agent(step.actor)
            message: object
            if step.kind is StepKind.SHARE:
                message = ShareByUser(link_role=step.client.role)
            elif step.kind is StepKind.STOP_SHARING:
                message = StopSharing()
            elif step.kind is StepKind.FINISH:
                self._started_before_finishing(step.actor, agent)
                message = Finish(_FINAL_STATE[step.outcome])
            else:
                message = AppendExchange(step.text, tuple(self._task_id(m) for m in step.mentions))
            await agent.ref.tell(message, sender="scenario")

        return act

    def _started_before_finishing(self, name: str, agent: Orchestrator | ChildAgent) -> None:
        """Under faults, a cloud agent finishes only once it has started (claimed, its share
        up): a worker does its work after that, so a finish the faults would put first has
        to wait. A local agent works at once, claimed or not, so its finish never waits."""
        if not self.conditions.faulty or agent.location is not Location.REMOTE:
            return
        if isinstance(agent, ChildAgent) and agent.launch_fails:
            return
        if not agent.claimed:
            raise WorldError(f"{name}'s run has not been claimed yet, so it cannot finish")
        if agent.share is None or agent.share.session_id is None:
            raise WorldError(f"{name} has not started in the cloud yet, so it cannot finish")

    # -- what a person does in a viewer ------------------------------------------------

    async def _viewer_step(self, step: Step) -> None:
        if step.kind is StepKind.HANDOFF:
            await self.world.handoff(step.actor, step.client.to)
            return
        viewer = self.world.viewers[step.actor].ref
        if step.kind is StepKind.SELECT and self.conditions.faulty:
            await self._pill_shown(step)
        if step.kind is StepKind.COPY_LINK:
            if await viewer.ask(CopyLink(), sender="scenario") is None:
                self._skip(step, f"{step.actor}'s view has no link to copy yet", waits=True)
            return
        await viewer.tell(self._person_message(step), sender="scenario")

    async def _pill_shown(self, step: Step) -> None:
        """Under faults a person clicks a child's pill once it is on the bar: until then
        the step waits its turn (see `play`)."""
        assert step.client.pill is not None
        task_id = self._pill_task_id(step.client.pill)
        if task_id is None:
            return
        shown = (await self.world.observe(step.actor)).snapshot.pills
        if all(pill.task_id != task_id for pill in shown):
            raise WorldError(f"{step.actor} shows no {step.client.pill} pill yet")

    def _person_message(self, step: Step) -> SelectPill | UsePill | Prompt | RequestAccess:
        details = step.client
        if step.kind is StepKind.SELECT:
            assert details.pill is not None
            return SelectPill(self._pill_task_id(details.pill))
        if step.kind is StepKind.PILL_ACTION:
            assert details.pill is not None
            return UsePill(details.action, self._task_id(details.pill))
        if step.kind is StepKind.PROMPT:
            target = self._task_id(details.target) if details.target is not None else None
            return Prompt(step.text, target)
        return RequestAccess(details.role)

    def _pill_task_id(self, agent_name: str) -> str | None:
        """The orchestrator's pill is the view's own session; a child's pill is its run."""
        if agent_name == self.scenario.orchestrator.name:
            return None
        return self._task_id(agent_name)

    async def _open_copied_link(self, spec: ViewerSpec) -> None:
        assert spec.link_from is not None
        source = self.world.viewers.get(spec.link_from)
        observation = await self.world.observe(spec.link_from) if source else None
        copied = observation.client.copied if observation and observation.client else None
        if copied is None:
            raise WorldError(f"{spec.link_from} has copied no link for {spec.name} to open")
        await self.world.open_link(spec.name, copied.route, user=spec.user, client=spec.client)

    def _cannot_take(self, step: Step) -> str | None:
        """Why the actor cannot take `step` now, or None when it can.

        What a file's timeline rules out is refused when the file is read; what is left
        depends on timing (a run not created yet, a share a child inherited meanwhile).
        """
        if step.kind in (StepKind.DISCONNECT, StepKind.RECONNECT):
            if step.actor in self.world.viewers or self._maybe_agent(step.actor) is not None:
                return None
            return f"{step.actor} is not there yet"
        if step.kind in VIEWER_STEPS:
            if step.actor in self.world.viewers:
                return None
            return f"{step.actor} has not opened its link yet"
        agent = self._maybe_agent(step.actor)
        if agent is None:
            return f"{step.actor} does not exist yet: its run has not been created"
        if step.kind is StepKind.FINISH and agent.task_id is None:
            return f"{step.actor} has no run yet (its first response has not come), so none ends"
        sharing = agent.describe().sharing
        if step.kind is StepKind.SHARE and sharing:
            return f"{step.actor} is already sharing"
        if step.kind is StepKind.STOP_SHARING and not sharing:
            return f"{step.actor} is not sharing"
        if step.kind is StepKind.ANSWER_ROLE and not (agent.share and agent.share.role_requests):
            return f"{step.actor} has no role request waiting for an answer"
        unknown = [m for m in step.mentions if self._maybe_task_id(m) is None]
        if unknown:
            return f"{', '.join(unknown)} has no run yet, so it cannot be mentioned"
        return None

    def _not_there_yet(self, step: Step) -> bool:
        """Whether the step needs an agent, a run or a viewer that faults may only delay."""
        if step.kind in (StepKind.DISCONNECT, StepKind.RECONNECT):
            return step.actor not in self.world.viewers and self._maybe_agent(step.actor) is None
        if step.kind in VIEWER_STEPS:
            return step.actor not in self.world.viewers
        agent = self._maybe_agent(step.actor)
        if agent is None or (step.kind is StepKind.FINISH and agent.task_id is None):
            return True
        return any(self._maybe_task_id(m) is None for m in step.mentions)

    def _skip(self, step: Step, reason: str, *, waits: bool) -> None:
        """A step its actor cannot take now did nothing; under faults, one that `waits` for
        what faults may only delay raises instead, and waits its turn (see `play`)."""
        if waits and self.conditions.faulty:
            raise WorldError(reason)
        now = trio.current_time()
        label = f"{step.kind.value} {step.actor}"
        _log.info("step_skipped", decision=True, step=label, reason=reason, line=step.line)
        self.result.skipped.append(SkippedStep(now, label, reason, step.line))

    def _maybe_agent(self, name: str) -> Orchestrator | ChildAgent | None:
        try:
            return self.world.agent(name)
        except WorldError:
            return None

    def _task_id(self, agent_name: str) -> str:
        task_id = self.world.agent(agent_name).task_id
        assert task_id is not None, "_cannot_take checked every mention"
        return task_id

    async def _connectivity(self, step: Step) -> None:
        """Disconnect: cut the actor off from both servers until it is reconnected."""
        actor = self._actor_name(step.actor)
        now = trio.current_time()
        kept = [
            p for p in self.conditions.partitions if not (p.actor == actor and p.end == math.inf)
        ]
        trace = self.world.simulation.trace
        if step.kind is StepKind.DISCONNECT:
            kept += [Partition(actor, server, now, math.inf) for server in _SERVERS]
            self.conditions.partitions = tuple(kept)
            for server in _SERVERS:
                _log.info("fault", kind="partition", actor=actor, server=server, until="reconnect")
                trace.fault(now, actor, server, "PartitionStarted", until="reconnect")
                for link in self.world.simulation.network.links_between(actor, server):
                    await link.drop()
        else:
            ended = [
                Partition(p.actor, p.server, p.start, now)
                for p in self.conditions.partitions
                if p.actor == actor and p.end == math.inf and now > p.start
            ]
            self.conditions.partitions = tuple(kept + ended)
            for partition in ended:
                _log.info("fault_ended", kind="partition", actor=actor, server=partition.server)
                trace.fault(now, actor, partition.server, "PartitionEnded")

    def _actor_name(self, name: str) -> str:
        if name in self.world.viewers:
            return self.world.viewers[name].name
        return self.world.agent(name).name

    def _checker(self, expectation: Expectation) -> Action:
        async def run_check() -> None:
            if expectation.viewer not in self.world.viewers:
                raise WorldError(f"{expectation.viewer} has not opened its link yet")
            observation = await self.world.observe(expectation.viewer)
            user = next(v.user for v in self.scenario.viewers if v.name == expectation.viewer)
            task_ids = self._task_ids()
            comparisons = compare(
                expectation,
                observation,
                task_ids=task_ids,
                task_requests=self.world.task_requests(user),
            )
            mismatches = [
                Mismatch(c.key, c.expected, c.observed) for c in comparisons if not c.held
            ]
            now = trio.current_time()
            self.result.expectations.append(
                ExpectationResult(expectation.viewer, now, expectation.line, tuple(comparisons))
            )
            self.result.checked += 1
            self.result.observations[f"{expectation.viewer}@{now:g}"] = (
                observation.snapshot.to_dict()
            )
            if mismatches:
                trace = self.world.simulation.trace
                actor = self.world.viewers[expectation.viewer].name
                where = f" (line {expectation.line})" if expectation.line else ""
                self.result.failures.append(
                    Failure(
                        f"{expectation.viewer} at {now:g} s{where}",
                        now,
                        tuple(mismatches),
                        tuple(trace.involving([actor])[-TRACE_SLICE:]),
                        self._decisions_behind(expectation.viewer),
                        tuple(trace.fault_records()),
                    )
                )

        return run_check

    def note_final_views(self) -> None:
        """What every viewer shows now, read directly as the invariants do (asking the
        viewers would add steps to the schedule and change the run)."""
        task_ids = self._task_ids()
        for name, viewer in self.world.viewers.items():
            observation = viewer.observe()
            user = next(v.user for v in self.scenario.viewers if v.name == name)
            self.result.views[name] = observation.snapshot.to_dict()
            self.result.shown[name] = observed_values(
                observation, task_ids=task_ids, task_requests=self.world.task_requests(user)
            )

    def _task_ids(self) -> dict[str, str]:
        return {
            name: task_id
            for name in self.scenario.agent_names()
            if (task_id := self._maybe_task_id(name)) is not None
        }

    def _decisions_behind(self, viewer: str) -> tuple[Mapping[str, object], ...]:
        """The viewer's decisions and those of every agent and server, latest last."""
        others = set(self.world.viewers) - {viewer}
        chain = [d for d in self.world.simulation.trace.decisions if d.get("actor") not in others]
        return tuple(chain[-DECISION_SLICE:])

    def _maybe_task_id(self, name: str) -> str | None:
        try:
            return self.world.agent(name).task_id
        except WorldError:
            return None


async def play_scenario(
    scenario: Scenario,
    profile: Profile,
    *,
    seed: int = 0,
    mode: Mode = Mode.MEMORY,
    settings: Mapping[str, bool] | None = None,
    faults: frozenset[FaultKind] = frozenset(),
    fault_plan: FaultPlan | None = None,
    trace_sink: TextIO | None = None,
    frames_sink: TextIO | None = None,
    recording: Recording | None = None,
) -> RunResult:
    """Run one scenario inside the current Trio run, checking invariants throughout.

    The switches are the profile's, then those the file pins, then `settings` (the command
    line's `--set`), each winning over the one before. The faults are `fault_plan` when
    given, else those the seed plans for the kinds in `faults`.
    `frames_sink` gets every received frame whole, in the form `sharesim decode` reads.
    With a `recording`, the viewers, the partitions and the log are kept for a report.
    """
    design = Design.of(profile, scenario.pinned(profile), settings or {})
    plan = fault_plan if fault_plan is not None else plan_faults(faults, seed, scenario)
    result = _result(scenario, design, seed, plan)
    structlog.contextvars.bind_contextvars(scenario=scenario.name, profile=profile.value)
    if result.overrides:
        structlog.contextvars.bind_contextvars(overrides=result.overrides)
    if result.pinned:
        structlog.contextvars.bind_contextvars(pinned=result.pinned)
    async with open_world(
        design.switches,
        seed=seed,
        mode=mode,
        conditions=plan.conditions(),
        trace_sink=trace_sink,
        log_context={"scenario": scenario.name},
        teammates=scenario.teammates(),
    ) as world:
        monitor = InvariantMonitor(world)
        world.simulation.trace.observers.append(monitor.after_delivery)
        world.simulation.trace.frames = frames_sink
        play = _Play(scenario, profile, world, result)
        if recording is None:
            await play.play()
        else:
            await _recorded(play, recording, result.faults)
        play.note_final_views()
        result.violations = monitor.violations
        result.end_time = trio.current_time()
        result.messages = world.simulation.trace.messages
        result.task_requests = sum(world.tasks.store.requests.values())
        result.trace = world.simulation.trace
    return result


async def _recorded(play: _Play, recording: Recording, faults: frozenset[FaultKind]) -> None:
    """Play with the viewers sampled, then note the partitions the run had."""
    world = play.world
    defaults = play.profile.switches().to_dict()
    recording.faults = format_faults(faults)
    recording.overrides = {
        name: value for name, value in world.switches.to_dict().items() if defaults[name] != value
    }
    recording.trace_position = world.simulation.trace.__len__
    sampler = ViewerSampler(world.viewers, recording)
    trio.lowlevel.add_instrument(sampler)
    try:
        await play.play()
    finally:
        trio.lowlevel.remove_instrument(sampler)
        recording.partitions = tuple(play.conditions.partitions)


def _result(scenario: Scenario, design: Design, seed: int, plan: FaultPlan) -> RunResult:
    return RunResult(
        scenario,
        design.profile,
        seed,
        faults=kinds_of(plan),
        fault_plan=plan,
        overrides=design.overrides,
        pinned=design.pinned,
        overruled=design.overruled,
        settings=design.settings,
    )


def run_scenario(
    scenario: Scenario,
    profile: Profile,
    *,
    seed: int = 0,
    mode: Mode = Mode.MEMORY,
    settings: Mapping[str, bool] | None = None,
    faults: frozenset[FaultKind] = frozenset(),
    fault_plan: FaultPlan | None = None,
    trace_sink: TextIO | None = None,
    frames_sink: TextIO | None = None,
    recording: Recording | None = None,
) -> RunResult:
    """Run one scenario in a fresh, seeded Trio run (faults as for `play_scenario`)."""
    plan = fault_plan if fault_plan is not None else plan_faults(faults, seed, scenario)

    async def play() -> RunResult:
        return await play_scenario(
            scenario,
            profile,
            seed=seed,
            mode=mode,
            settings=settings,
            fault_plan=plan,
            trace_sink=trace_sink,
            frames_sink=frames_sink,
            recording=recording,
        )

    try:
        return run_seeded(play, seed=seed)
    except ActorCrashed as crash:
        result = _result(
            scenario, Design.of(profile, scenario.pinned(profile), settings or {}), seed, plan
        )
        result.failures.append(Failure(f"simulation error: {crash}", 0.0))
        return result
