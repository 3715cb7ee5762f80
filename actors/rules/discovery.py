"""A root viewer's child discovery: the polling state machine and its push alternative.

The poller mirrors the merged client's model, including its defects (no error
backoff, kicks only in the slow phase, the kick-guard race), because the
simulation exists to measure them; `fetch_error_backoff` gives the backoff the
polling spec asks for instead. Both hand the child rows they accept to the
viewer's `ChildRoster`, the one place children are kept. Time and I/O stay
outside: every input returns the effects the owning actor must carry out.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from actors.rules.children import ChildRoster, OpenPane
from actors.rules.profiles import Switches
from protocol.runs import RunRecord
from protocol.source import AmbientAgent, SessionSourceType, resolve_orchestrator_task_id

#: Poll cadence while any child is working, or before any child is known.
STATUS_POLL_INTERVAL_S: Final = 5.0
#: Poll cadence once every known child is terminal; it never stops on its own.
STATUS_POLL_INTERVAL_IDLE_S: Final = 30.0
#: With `fetch_error_backoff`, the waits of the client's later event driver: after
#: a fetch that got no answer, 1, 2 and 5 s, then 10 s for as long as that goes on;
ERROR_BACKOFF_S: Final = (1.0, 2.0, 5.0, 10.0)
#: after a refused one, 30 s;
REFUSAL_BACKOFF_S: Final = 30.0
#: and after this many refusals since the last answer, it gives up for good.
REFUSALS_BEFORE_GIVING_UP: Final = 3


def discovery_task_id(
    source_type: SessionSourceType, source_task_id: str | None, switches: Switches
) -> str | None:
    """The task a root viewer discovers children of after joining, or None for no discovery.

    Before the change only ambient shares were discovered, and only through the variant.
    """
    if switches.discover_user_shares:
        return resolve_orchestrator_task_id(source_type, source_task_id)
    if isinstance(source_type, AmbientAgent):
        return source_type.task_id
    return None


@dataclass(frozen=True, slots=True)
class Fetch:
    """List the parent's direct children; the answer must quote `generation`."""

    generation: int


@dataclass(frozen=True, slots=True)
class ArmTimer:
    """Start the single poll timer; no timer is pending when this is emitted."""

    delay_s: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Cancel the pending poll timer."""


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Follow the parent's direct children from `since` (from the start when None)."""

    since: int | None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """Stop following the parent's children."""


#: The I/O discovery asks of its viewer; child rows themselves go to the `ChildRoster`.
DiscoveryEffect = Fetch | ArmTimer | CancelTimer | OpenPane | Subscribe | Unsubscribe


class DiscoveryPoller:
    """The polling model of one root viewer pane, as a sans-I/O state machine.

    `timer_handle_present` models the client's `polling_handle`: it stays set
    after the timer fires until the response reschedules, which is the window
    in which a kick dispatches a second fetch and makes the first one redundant.
    Accepted rows go to `children`, the viewer's roster, which in turn sets the cadence.
    """

    def __init__(self, parent_task_id: str, switches: Switches, children: ChildRoster) -> None:
        self._parent_task_id = parent_task_id
        self._switches = switches
        self._children = children
        self._generation = 0
        self._outstanding: set[int] = set()
        self._handle_present = False
        self._timer_pending = False
        self._idle = False
        self._started = False
        self._stopped = False
        self._gave_up = False
        self._errors = 0
        self._refusals = 0
        self._fetches = 0
        self._redundant_fetches = 0
        #: With `poll_after_speech_during_fetch`: the orchestrator spoke while a fetch
        #: was in flight, so an empty answer to it may be older than what was said.
        self._spoke_during_fetch = False

    @property
    def parent_task_id(self) -> str:
        return self._parent_task_id

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def idle(self) -> bool:
        """Stopped after an empty result; only an orchestrator exchange wakes it."""
        return self._idle

    @property
    def timer_handle_present(self) -> bool:
        return self._handle_present

    @property
    def timer_pending(self) -> bool:
        return self._timer_pending

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def gave_up(self) -> bool:
        """Stopped for good after repeated refusals (only with `fetch_error_backoff`)."""
        return self._gave_up

    @property
    def fetches(self) -> int:
        """Fetches dispatched, each one request to the task server."""
        return self._fetches

    @property
    def redundant_fetches(self) -> int:
        """Responses thrown away as stale: requests that bought nothing."""
        return self._redundant_fetches

    @property
    def in_flight(self) -> frozenset[int]:
        """Generations dispatched and not answered yet."""
        return frozenset(self._outstanding)

    def start(self) -> tuple[DiscoveryEffect, ...]:
        """Fetch at once; later fetches are all scheduled from responses."""
        if self._started or self._stopped:
            return ()
        self._started = True
        return self._dispatch()

    def timer_fired(self) -> tuple[DiscoveryEffect, ...]:
        """The poll timer went off; a timer that was cancelled meanwhile is ignored."""
        if not self._timer_pending or self._stopped:
            return ()
        self._timer_pending = False
        return self._dispatch()

    def fetch_succeeded(
        self, generation: int, runs: Iterable[RunRecord], *, has_parent_conversation: bool = True
    ) -> tuple[DiscoveryEffect, ...]:
        """Merge the children; an empty result idles the poller when the design allows it.

        Without an active parent conversation new children are skipped, so an
        answer that lists only new ones leaves the roster empty and idles the
        poller until the orchestrator's next exchange, as in the client. A
        dropped answer (stale, or after `stop`) still refreshes known children.
        """
        rows = _children_of(self._parent_task_id, runs)
        if not self._accept(generation):
            self._children.refresh(rows)
            return ()
        opened = self._children.merge(rows, has_parent_conversation=has_parent_conversation)
        self._idle = not self._children and self._switches.stop_polling_when_empty
        self._errors = self._refusals = 0
        if self._idle and self._spoke_during_fetch:
            self._idle = self._spoke_during_fetch = False
            return (*opened, *self._dispatch())
        self._spoke_during_fetch = False
        return (*opened, *self._schedule_next_poll())

    def fetch_failed(
        self, generation: int, *, refused: bool = False
    ) -> tuple[DiscoveryEffect, ...]:
        """A fetch that got no answer, or (`refused`) an error reply.

        The shipped client only reschedules, at the same cadence, whatever the
        error: there is no backoff, so a viewer refused its listings asks again
        every 5 s for as long as it stays open. With `fetch_error_backoff` the
        wait grows instead, and repeated refusals end the polling.
        """
        if not self._accept(generation):
            return ()
        if not self._switches.fetch_error_backoff:
            return self._schedule_next_poll()
        if not refused:
            self._errors += 1
            return self._arm(ERROR_BACKOFF_S[min(self._errors, len(ERROR_BACKOFF_S)) - 1])
        self._refusals += 1
        if self._refusals < REFUSALS_BEFORE_GIVING_UP:
            return self._arm(REFUSAL_BACKOFF_S)
        self._gave_up = True
        return self.stop()

    def exchange_appended(self, conversation: str) -> tuple[DiscoveryEffect, ...]:
        """An exchange landed on `conversation` (the orchestrator's or a child's task id)."""
        if not self._started or self._stopped:
            return ()
        on_orchestrator = conversation == self._parent_task_id
        if on_orchestrator and self._outstanding and self._switches.poll_after_speech_during_fetch:
            self._spoke_during_fetch = True
        if self._idle:
            if not on_orchestrator:
                return ()
            self._idle = False
            return self._dispatch()
        if not self._children.all_terminal or not self._handle_present:
            return ()
        if not on_orchestrator and conversation not in self._children:
            return ()
        return (*self._abort_timer(), *self._dispatch())

    def stop(self) -> tuple[DiscoveryEffect, ...]:
        """Tear down (session ended, viewer removed, reconnect failed): late answers are dropped."""
        if self._stopped:
            return ()
        self._stopped = True
        return self._abort_timer()

    def next_delay_s(self) -> float:
        """The cadence a reschedule would use now."""
        if self._children.all_terminal:
            return STATUS_POLL_INTERVAL_IDLE_S
        return STATUS_POLL_INTERVAL_S

    def _dispatch(self) -> tuple[DiscoveryEffect, ...]:
        self._generation += 1
        self._fetches += 1
        self._outstanding.add(self._generation)
        return (Fetch(self._generation),)

    def _accept(self, generation: int) -> bool:
        if generation not in self._outstanding:
            raise ValueError(
                f"no fetch with generation {generation} is in flight for {self._parent_task_id}"
            )
        self._outstanding.discard(generation)
        if self._stopped:
            return False
        if generation != self._generation:
            self._redundant_fetches += 1
            return False
        return True

    def _abort_timer(self) -> tuple[DiscoveryEffect, ...]:
        self._handle_present = False
        if not self._timer_pending:
            return ()
        self._timer_pending = False
        return (CancelTimer(),)

    def _schedule_next_poll(self) -> tuple[DiscoveryEffect, ...]:
        # Every path that dispatches the current fetch has already stopped the
        # timer, so there is nothing pending to cancel here.
        if self._idle:
            self._handle_present = False
            return ()
        return self._arm(self.next_delay_s())

    def _arm(self, delay_s: float) -> tuple[DiscoveryEffect, ...]:
        self._handle_present = True
        self._timer_pending = True
        return (ArmTimer(delay_s),)


#: Reconnect delays of the event stream after a transient failure, then the last one again.
STREAM_RETRY_S: Final = (1.0, 2.0, 5.0, 10.0)
#: Delay after a refusal (no access, unknown parent); the stream gives up after a few.
STREAM_REFUSED_RETRY_S: Final = 30.0
STREAM_MAX_REFUSALS: Final = 3
#: Transient failures in a row are retried for at most this long, then the stream gives up.
STREAM_MAX_RETRY_S: Final = 30 * 60.0


class _Phase(enum.Enum):
    SEEDING = "seeding"
    SUBSCRIBING = "subscribing"
    LIVE = "live"
    WAITING = "waiting"
    STOPPED = "stopped"
    GAVE_UP = "gave_up"


class PushDiscovery:
    """The follow-up design: one snapshot, then a stream of child changes from the task server.

    As the follow-up spec (orch-viewer-polling) proposes it: one `ListRuns`
    seeds the roster and the cursor (the highest `last_event_sequence` among
    the children), then a subscription delivers every later change of a
    direct child, each with its sequence; a change at or below the cursor
    was already applied and is dropped. After a lost link the viewer
    subscribes again from its cursor and the server replays what it missed.
    Failures back off as the client's event-stream driver does: 1, 2, 5, then
    10 s for transient ones, up to 30 minutes in a row; 30 s after a refusal,
    giving up after three. (The driver also recycles a stream every 14
    minutes because Cloud Run cuts long streams; the simulated server cuts
    none, so that is left out.)

    As in the spec, the stream knows a child once the snapshot listed it or a
    change first named it (its "ChildSpawned"); only then may the viewer
    register it, and only under its parent conversation, as with polling.
    Every later change of a known child is a status change, applied only to a
    pill the viewer has: a child skipped at that moment is lost for good,
    unless `keeps_skipped_children` (`register_skipped_children`) keeps its
    newest row until `parent_conversation_arrived` registers it.
    """

    def __init__(
        self, parent_task_id: str, children: ChildRoster, *, keeps_skipped_children: bool = False
    ) -> None:
        self._parent_task_id = parent_task_id
        self._children = children
        self._keeps_skipped = keeps_skipped_children
        #: Children skipped for want of a parent conversation, by task id, with their newest
        #: rows, in the order the stream announced them (kept only with the switch).
        self._skipped: dict[str, RunRecord] = {}
        self._phase = _Phase.SEEDING
        self._started = False
        self._cursor: int | None = None
        #: Children the stream has announced (the streamer's known-child set).
        self._known: set[str] = set()
        self._generation = 0
        self._then_seed = True
        self._timer_pending = False
        self._fetches = 0
        self._pushes = 0
        self._failures = 0
        self._failing_for = 0.0
        self._refusals = 0

    @property
    def parent_task_id(self) -> str:
        return self._parent_task_id

    @property
    def cursor(self) -> int | None:
        """The highest sequence applied (or seeded), what a resubscription starts after."""
        return self._cursor

    @property
    def live(self) -> bool:
        return self._phase is _Phase.LIVE

    @property
    def gave_up(self) -> bool:
        return self._phase is _Phase.GAVE_UP

    @property
    def timer_pending(self) -> bool:
        return self._timer_pending

    @property
    def fetches(self) -> int:
        """Snapshot fetches dispatched, each one request to the task server."""
        return self._fetches

    @property
    def pushes(self) -> int:
        """Pushed changes applied, the counterpart of the poller's `fetches`."""
        return self._pushes

    def start(self) -> tuple[DiscoveryEffect, ...]:
        """Fetch the seed snapshot at once."""
        if self._started or self._phase is _Phase.STOPPED:
            return ()
        self._started = True
        return self._seed()

    def fetch_succeeded(
        self, generation: int, runs: Iterable[RunRecord], *, has_parent_conversation: bool = True
    ) -> tuple[DiscoveryEffect, ...]:
        """Seed the roster and the cursor from the snapshot, then subscribe after the cursor."""
        if self._phase is not _Phase.SEEDING or generation != self._generation:
            return ()
        rows = _children_of(self._parent_task_id, runs)
        opened = self._merge(rows, has_parent_conversation=has_parent_conversation)
        for row in rows:
            self._known.add(row.task_id)
            self._advance(row.last_event_sequence)
        self._failures, self._failing_for = 0, 0.0
        self._phase = _Phase.SUBSCRIBING
        return (*opened, Subscribe(self._cursor))

    def fetch_failed(self, generation: int, *, refused: bool) -> tuple[DiscoveryEffect, ...]:
        if self._phase is not _Phase.SEEDING or generation != self._generation:
            return ()
        return self._retry(seed=True, refused=refused)

    def subscribed(self) -> tuple[DiscoveryEffect, ...]:
        """The server took the subscription: live until the link drops."""
        if self._phase is not _Phase.SUBSCRIBING:
            return ()
        self._phase = _Phase.LIVE
        self._failures, self._failing_for, self._refusals = 0, 0.0, 0
        return ()

    def subscribe_failed(self, *, refused: bool) -> tuple[DiscoveryEffect, ...]:
        if self._phase is not _Phase.SUBSCRIBING:
            return ()
        return self._retry(seed=False, refused=refused)

    def pushed(
        self, sequence: int, run: RunRecord, *, has_parent_conversation: bool = True
    ) -> tuple[DiscoveryEffect, ...]:
        """Apply one pushed change, unless it is one the cursor already covers."""
        if self._phase is _Phase.STOPPED:
            return ()
        if self._cursor is not None and sequence <= self._cursor:
            return ()
        self._pushes += 1
        self._cursor = sequence
        if run.task_id == self._parent_task_id:
            return ()
        spawned = self._announce(run)
        if not spawned and run.task_id in self._skipped:
            self._skipped[run.task_id] = run
            return ()
        if not spawned and run.task_id not in self._children:
            return ()  # a status change for a pill this viewer never made
        return self._merge((run,), has_parent_conversation=has_parent_conversation and spawned)

    def parent_conversation_arrived(self) -> tuple[DiscoveryEffect, ...]:
        """The viewer's parent conversation showed up: register the children kept for it."""
        if self._phase is _Phase.STOPPED or not self._skipped:
            return ()
        rows, self._skipped = list(self._skipped.values()), {}
        return self._children.merge(rows)

    def _merge(
        self, rows: list[RunRecord] | tuple[RunRecord, ...], *, has_parent_conversation: bool
    ) -> tuple[OpenPane, ...]:
        """Hand rows to the roster, keeping (with the switch) the new ones it skips."""
        if self._keeps_skipped and not has_parent_conversation:
            for row in rows:
                if row.task_id not in self._children:
                    self._skipped[row.task_id] = row
        return self._children.merge(rows, has_parent_conversation=has_parent_conversation)

    def link_lost(self) -> tuple[DiscoveryEffect, ...]:
        """The link carrying the stream dropped: subscribe again from the cursor, after a wait.

        A subscription still being asked for fails on its own and is retried from there.
        """
        if self._phase is not _Phase.LIVE:
            return ()
        return self._retry(seed=False, refused=False)

    def timer_fired(self) -> tuple[DiscoveryEffect, ...]:
        """A retry is due."""
        if not self._timer_pending or self._phase is not _Phase.WAITING:
            return ()
        self._timer_pending = False
        if self._then_seed:
            return self._seed()
        self._phase = _Phase.SUBSCRIBING
        return (Subscribe(self._cursor),)

    def stop(self) -> tuple[DiscoveryEffect, ...]:
        """Tear down; the pill bar keeps what it knows, later changes are dropped."""
        if self._phase is _Phase.STOPPED:
            return ()
        following = self._phase in (_Phase.SUBSCRIBING, _Phase.LIVE)
        self._phase = _Phase.STOPPED
        return (*self._cancel_timer(), *((Unsubscribe(),) if following else ()))

    def _seed(self) -> tuple[DiscoveryEffect, ...]:
        self._phase = _Phase.SEEDING
        self._generation += 1
        self._fetches += 1
        return (Fetch(self._generation),)

    def _announce(self, run: RunRecord) -> bool:
        """Whether `run` is new to the stream (its spawn); it is known from now on."""
        if run.task_id in self._known:
            return False
        self._known.add(run.task_id)
        return True

    def _advance(self, sequence: int | None) -> None:
        if sequence is not None and (self._cursor is None or sequence > self._cursor):
            self._cursor = sequence

    def _retry(self, *, seed: bool, refused: bool) -> tuple[DiscoveryEffect, ...]:
        if refused:
            self._refusals += 1
            if self._refusals >= STREAM_MAX_REFUSALS:
                self._phase = _Phase.GAVE_UP
                return ()
            delay = STREAM_REFUSED_RETRY_S
        else:
            delay = STREAM_RETRY_S[min(self._failures, len(STREAM_RETRY_S) - 1)]
            self._failures += 1
            if self._failing_for + delay > STREAM_MAX_RETRY_S:
                self._phase = _Phase.GAVE_UP
                return ()
            self._failing_for += delay
        self._phase = _Phase.WAITING
        self._then_seed = seed
        self._timer_pending = True
        return (ArmTimer(delay),)

    def _cancel_timer(self) -> tuple[DiscoveryEffect, ...]:
        if not self._timer_pending:
            return ()
        self._timer_pending = False
        return (CancelTimer(),)


def _children_of(parent_task_id: str, runs: Iterable[RunRecord]) -> list[RunRecord]:
    """The rows of an answer without the parent's own, which is no child of itself."""
    return [run for run in runs if run.task_id != parent_task_id]
