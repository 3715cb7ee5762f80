"""A viewer: opens a share link or a run page and shows what the product spec promises.

On JoinedSuccessfully the viewer resolves the share's orchestrator task id and,
as a root viewer, discovers the direct children: by polling the task server
(`DiscoveryPoller`) or, in the follow-up design, from one snapshot and a
subscription to the parent's child changes on the task-server link
(`PushDiscovery`). Either feeds the viewer's `ChildRoster`,
which holds everything known about each child; the viewer only does the I/O
discovery returns. Each child with a session gets a hidden pane joined through
the parent, capped at the parent's role. Agent ids in transcripts resolve to
names through the viewer's directory. Everything a scenario checks comes out
of `Observe` as a `ViewerSnapshot`, read off the roster by the `PillBar`.

Nothing tells the viewer whether it opened a parent or a child link: its
`scope` follows from what it shows (`derive_scope`), as in the client.
"""

from __future__ import annotations

import contextlib
import enum
from dataclasses import dataclass, field

import structlog
import trio

from actors.links.task_client import TaskClient
from actors.rules.children import ChildRoster, OpenPane, PaneState
from actors.rules.discovery import (
    ArmTimer,
    CancelTimer,
    DiscoveryEffect,
    DiscoveryPoller,
    Fetch,
    PushDiscovery,
    Subscribe,
    Unsubscribe,
    discovery_task_id,
)
from actors.rules.names import (
    ORCHESTRATOR,
    AgentDirectory,
    name_lookup_waits,
    resolve_reference,
)
from actors.rules.pill_bar import PillBar, Reference, ViewerSnapshot
from actors.rules.profiles import Switches
from actors.rules.view import ViewScope, derive_scope
from actors.rules.viewer_client import (
    ClientKind,
    CopiedLink,
    Surface,
    pane_route,
    shareable_route,
)
from actors.runtime.actor import Actor, Request
from actors.runtime.transport import Network
from actors.viewers.person import (
    ClientObservation,
    CopyLink,
    Person,
    Prompt,
    RequestAccess,
    SelectPill,
    UsePill,
    Views,
)
from actors.viewers.session_view import (
    Ended,
    ExchangeReceived,
    Joined,
    PromptAnswered,
    RoleAnswered,
    SessionView,
    SourceTaskIdPushed,
    ViewFrame,
    ViewLinkEnded,
)
from protocol import AgentExchange, RunRecord, TaskToken, tasks
from protocol.source import SessionSourceType, User, resolve_orchestrator_task_id
from protocol.tasks import TaskCallFailed, TaskPush, TaskRefused

_log = structlog.get_logger("sharesim.viewer")

#: How often the web route re-reads a run that has no session yet.
PENDING_SESSION_POLL_S = 5.0
#: With `reread_run_after_failed_join`: reads of the run, one per `PENDING_SESSION_POLL_S`,
#: before a page whose join was refused gives up and shows unavailable (a share stopped
#: for good leaves its row naming it).
RUN_REREADS = 12


class OpenBy(enum.Enum):
    """How the viewer reaches the session: the share's join route, the run's page on the
    web, or the native client's `/cloud-agent` flow (which opens the run it started)."""

    SHARE_LINK = "share-link"
    RUN = "run"
    CLOUD_AGENT = "cloud-agent"


@dataclass(frozen=True, slots=True)
class ViewerLink:
    """What the viewer opened, as a real link has it: `route` for a share link, `task_id`
    for a run page. Nothing in it says parent or child; the view works that out."""

    open_by: OpenBy
    route: str | None = None
    task_id: str | None = None


@dataclass(frozen=True, slots=True)
class ViewerStats:
    fetches: int
    redundant_fetches: int
    pushes: int


@dataclass(frozen=True, slots=True)
class HandoffLink(Request["ViewerLink"]):
    """Open in desktop: answers the link another client opens to show the same target."""


@dataclass(frozen=True, slots=True)
class Leave:
    """The person closes this client: every view's link is closed and the actor ends."""


@dataclass(frozen=True, slots=True)
class Observation:
    snapshot: ViewerSnapshot
    stats: ViewerStats
    client: ClientObservation | None = None


@dataclass(frozen=True, slots=True)
class Observe(Request[Observation]):
    """Ask for what the viewer sees right now."""


@dataclass(frozen=True, slots=True)
class _RouteFound:
    route: str | None


@dataclass(frozen=True, slots=True)
class _FetchDone:
    """A children listing came back: its rows, or None and whether it was refused."""

    generation: int
    runs: tuple[RunRecord, ...] | None
    refused: bool = False


@dataclass(frozen=True, slots=True)
class _SubscribeDone:
    ok: bool
    refused: bool = False


@dataclass(frozen=True, slots=True)
class _Pushed:
    change: tasks.ChildRunChanged


@dataclass(frozen=True, slots=True)
class _TasksLinkLost:
    pass


@dataclass(frozen=True, slots=True)
class _TimerFired:
    token: int


@dataclass(frozen=True, slots=True)
class _NamesFound:
    names: tuple[tasks.AgentName, ...]


@dataclass
class _NameLookups:
    """A child link's name lookups: the run they are about, and the ids already asked for."""

    task_id: str | None = None
    in_flight: bool = False
    asked: set[str] = field(default_factory=set)


@dataclass
class _Discovery:
    poller: DiscoveryPoller | None = None
    push: PushDiscovery | None = None
    timer_token: int = 0
    timer: trio.CancelScope | None = None


#: Everything a viewer handles: its views' frames and ends, its own helpers' results, `Observe`.
ViewerMessage = (
    ViewFrame
    | ViewLinkEnded
    | _RouteFound
    | _FetchDone
    | _SubscribeDone
    | _Pushed
    | _TasksLinkLost
    | _TimerFired
    | _NamesFound
    | Observe
    | SelectPill
    | UsePill
    | Prompt
    | RequestAccess
    | CopyLink
    | HandoffLink
    | Leave
)


class Viewer(Actor[ViewerMessage]):
    """See the module docstring."""

    role = "viewer"

    def __init__(
        self,
        name: str,
        network: Network,
        link: ViewerLink,
        switches: Switches,
        *,
        user: str,
        task_token: TaskToken,
        client: ClientKind = ClientKind.NATIVE,
    ) -> None:
        super().__init__(name)
        self.client = client
        self.person = Person(name, client)
        self.network = network
        self.link = link
        self.switches = switches
        self.user = user
        self._task_token = task_token
        self.root: SessionView | None = None
        self.root_state = PaneState.LOADING
        #: The hidden child panes' connections; what each pane shows lives in `children`.
        self.panes: dict[str, SessionView] = {}
        self.directory = AgentDirectory(
            assigns_run_ids=switches.index_child_run_ids,
            backfills_parent_agent_ids=switches.backfill_parent_agent_id,
        )
        self.children = ChildRoster(
            self.directory, order_by_creation=self.switches.order_pills_by_creation
        )
        self.pill_bar = PillBar(self.children)
        self.discovery = _Discovery()
        self.names = _NameLookups()
        #: Whether the root conversation has shown up (its first exchange arrived): the
        #: client registers children only under an active parent conversation.
        self.parent_conversation = False
        self._tasks: TaskClient | None = None

    @property
    def tasks(self) -> TaskClient:
        if self._tasks is None:
            self._tasks = TaskClient(
                self.name,
                self._task_token,
                self.network,
                self.nursery,
                on_push=self._task_push,
                on_lost=self._task_link_lost,
            )
        return self._tasks

    async def _task_push(self, change: TaskPush) -> None:
        await self.tell_self(_Pushed(change))

    async def _task_link_lost(self) -> None:
        await self.tell_self(_TasksLinkLost())

    def log_context(self) -> dict[str, object]:
        return {**super().log_context(), "client": self.client.value}

    @property
    def scope(self) -> ViewScope:
        """Parent or child, from what the view shows (`derive_scope`); nothing tells it."""
        return derive_scope(
            shows_own_children=self.pill_bar.visible, has_parent=_has_parent(self.root)
        )

    async def on_start(self) -> None:
        if self.link.open_by is not OpenBy.SHARE_LINK:
            self.spawn(self._find_route)
        else:
            await self._open_root(self.link.route)

    # -- opening -------------------------------------------------------------------

    async def _find_route(self, refused_route: str | None = None) -> None:
        """The web route: read the run until it has a session (other than `refused_route`,
        the one whose join was just refused), showing loading meanwhile."""
        task_id = self.link.task_id
        assert task_id is not None
        reads = 0
        while refused_route is None or reads < RUN_REREADS:
            reads += 1
            try:
                reply = await self.tasks.call(lambda rid: tasks.GetRun(rid, task_id))
            except TaskCallFailed as failed:
                if isinstance(failed, TaskRefused) and failed.kind in (
                    tasks.TaskErrorKind.FORBIDDEN,
                    tasks.TaskErrorKind.NOT_FOUND,
                ):
                    await self.tell_self(_RouteFound(None))
                    return
            else:
                assert isinstance(reply, tasks.RunReply)
                if reply.run.session_link not in (None, refused_route):
                    await self.tell_self(_RouteFound(reply.run.session_link))
                    return
            await trio.sleep(PENDING_SESSION_POLL_S)
        _log.info("run_read_given_up", decision=True, reads=reads)
        await self.tell_self(_RouteFound(None))

    async def _open_root(self, route: str | None) -> None:
        if route is None:
            self.root_state = PaneState.UNAVAILABLE
            return
        self.root = SessionView(self, self.network, "root", route, self.user)
        await self.root.open()

    # -- messages --------------------------------------------------------------------

    async def handle(self, message: ViewerMessage, sender: str) -> None:
        if isinstance(message, ViewFrame):
            await self._view_frame(message.view, message.message)
        elif isinstance(message, ViewLinkEnded):
            message.view.link_ended(message.link)
        elif isinstance(message, _RouteFound):
            await self._open_root(message.route)
        elif isinstance(message, _FetchDone):
            self._fetch_done(message)
        elif isinstance(message, _TimerFired):
            if message.token == self.discovery.timer_token:
                self.discovery.timer = None
                self._timer_fired()
        elif isinstance(message, _SubscribeDone | _Pushed | _TasksLinkLost):
            self._stream_event(message)
        elif isinstance(message, _NamesFound):
            for entry in message.names:
                self.directory.register_name_only(entry.task_id, entry.name)
            self.names.in_flight = False
            self._look_up_unknown_mentions()
        elif isinstance(message, SelectPill | UsePill | Prompt | RequestAccess):
            children = frozenset(child.task_id for child in self.children)
            self.person.act(message, self._views(), children, self.scope)
        elif isinstance(message, CopyLink):
            self.answer(message, self._copy_link())
        elif isinstance(message, HandoffLink):
            self.answer(message, self._handoff_link())
        elif isinstance(message, Leave):
            await self._leave()
        else:
            self.answer(message, self.observe())

    async def _view_frame(self, view: SessionView, message: object) -> None:
        outcome = view.handle_frame(message)
        is_root = view is self.root
        if isinstance(outcome, Joined):
            if is_root:
                self._joined_root(outcome)
            else:
                self.children.pane_joined(view.key)
        elif isinstance(outcome, ExchangeReceived):
            self._exchange(view, is_root)
        elif isinstance(outcome, SourceTaskIdPushed):
            if is_root:
                _log.info(
                    "source_task_id_pushed", decision=True, source_task_id=outcome.source_task_id
                )
                self._root_run_known(outcome.source_task_id)
                self._start_discovery(self._source_type(), outcome.source_task_id)
        elif isinstance(outcome, PromptAnswered):
            self.person.prompt_answered(outcome)
        elif isinstance(outcome, RoleAnswered):
            self.person.role_answered(self._views().key_of(view), outcome)
        elif isinstance(outcome, Ended):
            _log.info("view_ended", decision=True, view=view.key, reason=outcome.reason)
            if not is_root and view.joined is None:
                self.children.pane_join_failed(view.key)
            if is_root and self._read_run_again(view):
                return
            if is_root:
                self.root_state = view.state
                self._stop_polling()

    def _read_run_again(self, view: SessionView) -> bool:
        """With `reread_run_after_failed_join`: a run page whose join was refused reads the
        run again for another session (its row may name a share stopped since)."""
        if (
            not self.switches.reread_run_after_failed_join
            or self.link.open_by is OpenBy.SHARE_LINK
            or view.joined is not None
        ):
            return False
        _log.info("run_read_again", decision=True, reason="the join was refused")
        self.spawn(self._find_route, view.route)
        return True

    def _source_type(self) -> SessionSourceType:
        joined = self.root.joined if self.root else None
        return joined.detailed_source_type if joined else User()

    def _joined_root(self, outcome: Joined) -> None:
        joined = outcome.message
        self.root_state = PaneState.LOADED
        structlog.contextvars.bind_contextvars(viewer_id=joined.viewer_id)
        _log.info(
            "joined",
            decision=True,
            source_type=repr(joined.detailed_source_type),
            source_task_id=joined.source_task_id,
            granted_role=joined.role.value,
        )
        self._root_run_known(
            resolve_orchestrator_task_id(joined.detailed_source_type, joined.source_task_id)
        )
        self._start_discovery(joined.detailed_source_type, joined.source_task_id)

    def _root_run_known(self, task_id: str | None) -> None:
        """The share told the viewer its conversation's run id (labelled by `_name_root`)."""
        if task_id is None or task_id == self.directory.root_run_id:
            return
        self.directory.register_root(task_id)

    def _name_root(self) -> None:
        """A parent view shows its own conversation as the bar's first pill does; a child
        view has no name for it. Done before each read, since the scope can change."""
        self.directory.name_root(ORCHESTRATOR if self.scope is ViewScope.PARENT else None)

    def _start_discovery(self, source_type: SessionSourceType, source_task_id: str | None) -> None:
        """Build discovery once, for a resolvable orchestrator task id."""
        if self.discovery.poller is not None or self.discovery.push is not None:
            return
        task_id = discovery_task_id(source_type, source_task_id, self.switches)
        if task_id is None:
            _log.info("no_discovery", decision=True, reason="no orchestrator task id")
            return
        if self.switches.push_child_discovery:
            self.discovery.push = PushDiscovery(
                task_id,
                self.children,
                keeps_skipped_children=self.switches.register_skipped_children,
            )
            self._do(self.discovery.push.start())
        else:
            self.discovery.poller = DiscoveryPoller(task_id, self.switches, self.children)
            self._do(self.discovery.poller.start())
        self._look_up_group_names()

    def _look_up_group_names(self) -> None:
        """With `sibling_name_resolution`, a view whose conversation has a parent asks once
        for the names of its orchestration group (B4): as soon as it knows both its run
        and, from the conversation's first exchange, that it has a parent."""
        discovery = self.discovery.poller or self.discovery.push
        if not self.switches.sibling_name_resolution or discovery is None:
            return
        if self.names.task_id is not None or not _has_parent(self.root):
            return
        task_id = discovery.parent_task_id
        self.names.task_id, self.names.in_flight = task_id, True
        self.spawn(self._find_names, task_id)

    async def _find_names(self, task_id: str) -> None:
        waits = name_lookup_waits(retries=self.switches.retry_name_lookup)
        while True:
            try:
                reply = await self.tasks.call(lambda rid: tasks.GetAgentNames(rid, task_id))
            except TaskCallFailed as failed:
                wait = None if isinstance(failed, TaskRefused) else next(waits, None)
                if wait is None:
                    _log.info("names_unavailable", decision=True, reason=failed.reason)
                    await self.tell_self(_NamesFound(()))
                    return
                await trio.sleep(wait)
                continue
            assert isinstance(reply, tasks.AgentNames)
            await self.tell_self(_NamesFound(reply.names))
            return

    def _look_up_unknown_mentions(self) -> None:
        """With `look_up_unknown_mentions`, ask for names again when a transcript mentions
        an agent the last answer did not name (a sibling that came later); once per id."""
        lookups = self.names
        if not self.switches.look_up_unknown_mentions or lookups.task_id is None:
            return
        if lookups.in_flight:
            return
        self._name_root()
        unknown = {
            agent_id
            for transcript in self._transcripts()
            for exchange in transcript
            for agent_id in exchange.mentions
            if self.directory.lookup(agent_id) is None and agent_id not in lookups.asked
        }
        if not unknown:
            return
        _log.info("names_asked_again", decision=True, unknown=sorted(unknown))
        lookups.asked |= unknown
        lookups.in_flight = True
        self.spawn(self._find_names, lookups.task_id)

    def _exchange(self, view: SessionView, is_root: bool) -> None:
        if is_root:
            self._look_up_group_names()
        self._look_up_unknown_mentions()
        if is_root and not self.parent_conversation:
            self.parent_conversation = True
            if self.discovery.push is not None:
                self._do(self.discovery.push.parent_conversation_arrived())
        poller = self.discovery.poller
        if poller is None:
            return
        conversation = poller.parent_task_id if is_root else view.key
        self._do(poller.exchange_appended(conversation))

    # -- discovery effects -----------------------------------------------------------

    def _do(self, effects: tuple[DiscoveryEffect, ...]) -> None:
        """Carry out the I/O discovery asked for; the roster already holds what changed."""
        for effect in effects:
            if isinstance(effect, Fetch):
                self.spawn(self._fetch, self._discovery_parent(), effect.generation)
            elif isinstance(effect, Subscribe):
                self.spawn(self._subscribe, self._discovery_parent(), effect.since)
            elif isinstance(effect, Unsubscribe):
                self.spawn(self._unsubscribe, self._discovery_parent())
            elif isinstance(effect, ArmTimer):
                self._arm_timer(effect.delay_s)
            elif isinstance(effect, CancelTimer):
                self._cancel_timer()
            else:
                self._open_pane(effect)

    async def _fetch(self, parent_task_id: str, generation: int) -> None:
        try:
            reply = await self.tasks.call(lambda rid: tasks.ListRuns(rid, parent_task_id))
        except TaskCallFailed as failed:
            _log.info("fetch_failed", decision=True, generation=generation, reason=failed.reason)
            refused = isinstance(failed, TaskRefused)
            await self.tell_self(_FetchDone(generation, None, refused=refused))
            return
        assert isinstance(reply, tasks.RunsListed)
        await self.tell_self(_FetchDone(generation, reply.runs))

    def _fetch_done(self, done: _FetchDone) -> None:
        poller, push = self.discovery.poller, self.discovery.push
        if done.runs is None:
            if poller is not None:
                had_given_up = poller.gave_up
                self._do(poller.fetch_failed(done.generation, refused=done.refused))
                if poller.gave_up and not had_given_up:
                    _log.info("discovery_gave_up", parent_task_id=poller.parent_task_id)
            elif push is not None:
                self._do(push.fetch_failed(done.generation, refused=done.refused))
                self._log_if_gave_up()
            return
        if not self.parent_conversation and done.runs:
            _log.info("children_skipped", decision=True, reason="no active parent conversation")
        if poller is not None:
            self._do(
                poller.fetch_succeeded(
                    done.generation, done.runs, has_parent_conversation=self.parent_conversation
                )
            )
        elif push is not None:
            self._do(
                push.fetch_succeeded(
                    done.generation, done.runs, has_parent_conversation=self.parent_conversation
                )
            )

    def _discovery_parent(self) -> str:
        discovery = self.discovery.poller or self.discovery.push
        assert discovery is not None
        return discovery.parent_task_id

    def _timer_fired(self) -> None:
        if self.discovery.poller is not None:
            self._do(self.discovery.poller.timer_fired())
        elif self.discovery.push is not None:
            self._do(self.discovery.push.timer_fired())

    # -- the follow-up's child stream --------------------------------------------------

    async def _subscribe(self, parent_task_id: str, since: int | None) -> None:
        try:
            await self.tasks.call(lambda rid: tasks.SubscribeChildren(rid, parent_task_id, since))
        except TaskCallFailed as failed:
            _log.info("subscribe_failed", decision=True, since=since, reason=failed.reason)
            refused = isinstance(failed, TaskRefused)
            await self.tell_self(_SubscribeDone(ok=False, refused=refused))
            return
        await self.tell_self(_SubscribeDone(ok=True))

    async def _unsubscribe(self, parent_task_id: str) -> None:
        """Best effort: a lost link has dropped the subscription anyway."""
        with contextlib.suppress(TaskCallFailed):
            await self.tasks.call(lambda rid: tasks.UnsubscribeChildren(rid, parent_task_id))

    def _stream_event(self, event: _SubscribeDone | _Pushed | _TasksLinkLost) -> None:
        push = self.discovery.push
        if push is None:
            return
        if isinstance(event, _Pushed):
            change = event.change
            if change.parent_run_id == push.parent_task_id:
                self._do(
                    push.pushed(
                        change.sequence,
                        change.run,
                        has_parent_conversation=self.parent_conversation,
                    )
                )
        elif isinstance(event, _TasksLinkLost):
            self._do(push.link_lost())
        elif event.ok:
            self._do(push.subscribed())
        else:
            self._do(push.subscribe_failed(refused=event.refused))
            self._log_if_gave_up()

    def _log_if_gave_up(self) -> None:
        if self.discovery.push is not None and self.discovery.push.gave_up:
            _log.warning(
                "child_stream_gave_up", decision=True, parent=self.discovery.push.parent_task_id
            )

    def _arm_timer(self, delay: float) -> None:
        self._cancel_timer()
        self.discovery.timer_token += 1
        scope = trio.CancelScope()
        self.discovery.timer = scope
        self.spawn(self._timer, scope, delay, self.discovery.timer_token)

    async def _timer(self, scope: trio.CancelScope, delay: float, token: int) -> None:
        with scope:
            await trio.sleep(delay)
            await self.tell_self(_TimerFired(token))

    def _cancel_timer(self) -> None:
        if self.discovery.timer is not None:
            self.discovery.timer.cancel()
            self.discovery.timer = None
        self.discovery.timer_token += 1

    def _stop_polling(self) -> None:
        """The root session ended: discovery is dropped, the pill bar keeps what it knows."""
        if self.discovery.poller is not None:
            self._do(self.discovery.poller.stop())
        if self.discovery.push is not None:
            self._do(self.discovery.push.stop())
        self._cancel_timer()

    def _open_pane(self, effect: OpenPane) -> None:
        """Open the hidden pane that joins a child's session through the parent share."""
        task_id, route = effect.task_id, effect.session_link
        if route is None:
            _log.info("pane_not_joinable", decision=True, child=task_id)
            return
        root = self.root
        seat = (
            (root.session_id, root.viewer_id, root.rejoin_token.reveal())
            if root is not None and root.viewer_id is not None and root.rejoin_token is not None
            else None
        )
        route = pane_route(route, seat, cap_at_parent=self.switches.cap_child_role_at_parent)
        pane = SessionView(self, self.network, task_id, route, self.user, surface=Surface.HIDDEN)
        self.panes[task_id] = pane
        self.spawn(pane.open)

    # -- what the person does --------------------------------------------------------

    def _views(self) -> Views:
        return Views(self.root, self.panes, self._root_run_id())

    def _root_run_id(self) -> str | None:
        joined = self.root.joined if self.root else None
        if joined is None:
            return None
        return resolve_orchestrator_task_id(joined.detailed_source_type, joined.source_task_id)

    def _handoff_link(self) -> ViewerLink:
        """The same target for another client: the joined share's own link when there is one.

        The new client opens the same session, so it comes to the same scope itself.
        """
        if self.root is None:
            return self.link
        return ViewerLink(OpenBy.SHARE_LINK, route=shareable_route(self.root.route))

    def _copy_link(self) -> CopiedLink | None:
        """The share action of the active pill's view, in the scope that view has: a child
        pane never lists children of its own, so its link is a child's."""
        selected = self.person.selected
        if selected is None:
            return self.person.copy_link(self._views(), None, self.scope)
        child = self.children.get(selected)
        link = child.row.session_link if child is not None else None
        pane = self.panes.get(selected)
        scope = derive_scope(shows_own_children=False, has_parent=_has_parent(pane))
        return self.person.copy_link(self._views(), link, scope)

    async def _leave(self) -> None:
        self._stop_polling()
        for view in [*([self.root] if self.root is not None else []), *self.panes.values()]:
            await view.close()
        self.nursery.cancel_scope.cancel()

    # -- observation -----------------------------------------------------------------

    def observe(self) -> Observation:
        self._name_root()
        scope = self.scope
        seen: dict[str, None] = {}
        for transcript in self._transcripts():
            for exchange in transcript:
                for agent_id in exchange.mentions:
                    seen.setdefault(agent_id)
        references = [
            Reference(
                agent_id,
                resolve_reference(agent_id, self.directory, scope=scope),
            )
            for agent_id in seen
        ]
        root_state = self.root.state if self.root is not None else self.root_state
        snapshot = self.pill_bar.snapshot(
            viewer=self.name, scope=scope, root=root_state, references=references
        )
        poller, push = self.discovery.poller, self.discovery.push
        stats = ViewerStats(
            fetches=poller.fetches if poller else push.fetches if push else 0,
            redundant_fetches=poller.redundant_fetches if poller else 0,
            pushes=push.pushes if push else 0,
        )
        return Observation(snapshot, stats, self.person.observation(self._views(), scope))

    def _transcripts(self) -> list[list[AgentExchange]]:
        views = [self.root] if self.root is not None else []
        views += list(self.panes.values())
        return [v.transcript for v in views]


def _has_parent(view: SessionView | None) -> bool | None:
    """Whether the conversation a view shows names a parent; None until an exchange says."""
    if view is None or not view.transcript:
        return None
    return view.transcript[0].parent_agent_id is not None
