"""Random runs of both servers' rules, with invariants checked after every step.

Hypothesis drives `SessionStore` and `TaskStore`, the exact rules the two
server actors apply to every frame, through valid and invalid operations in
random order: sharers create, send, resend, skip, drop, reconnect and end;
viewers join with and without the secret, through parents, drop (losing
frames still in flight), rejoin as themselves or as someone else, and send
sharer messages; grace timers fire, some gone stale; owners and strangers create,
move, link, list and name runs. Every refusal must leave the store exactly as it was.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from structlog.testing import capture_logs

from actors.rules.session_store import (
    CLOSE_NORMAL,
    CLOSE_POLICY,
    Action,
    Close,
    ConnId,
    EventFrame,
    Send,
    StartGrace,
)
from actors.rules.task_store import TaskGates, TaskStore
from protocol import (
    Channel,
    ReconnectToken,
    Role,
    SeatToken,
    SessionSecret,
    UserId,
    decode,
    encode,
    sharer,
    viewer,
)
from protocol.message import Message
from protocol.runs import AgentConfigSnapshot, Execution, RunRecord, RunState
from protocol.tasks import PAGE_LIMIT, TaskErrorKind
from tests.actors.netkit import exchange_event, store_state
from tests.actors.rules.test_session_store import Harness, closes, sent_to
from tests.actors.rules.test_task_store import refusal

USERS = ("alice", "bob", "carol")

#: Sized so every rule this file checks is broken by some run, in about two seconds each.
SESSION_SETTINGS = settings(
    max_examples=200, stateful_step_count=50, deadline=None, derandomize=True, database=None
)
TASK_SETTINGS = settings(SESSION_SETTINGS, max_examples=100, stateful_step_count=40)

# -- sessions ------------------------------------------------------------------------------


@dataclass(eq=False)
class Share:
    """What a sharer knows about its session, and what the server must have stored."""

    created: sharer.SessionInitialized
    owner: str
    lifetime: sharer.Lifetime
    link_role: Role
    conn: ConnId | None
    #: Events the server acknowledged; the next one is numbered this.
    stored: int = 0
    #: The server's grace epoch: a timer from any other epoch is stale.
    epoch: int = 0
    ended: bool = False

    @property
    def session_id(self) -> str:
        return self.created.session_id

    @property
    def forgotten(self) -> bool:
        """An ended ephemeral session is deleted: nothing can reach it any more."""
        return self.ended and self.lifetime is sharer.Lifetime.EPHEMERAL

    def route(self, query: str = "") -> str:
        return f"/sessions/join/{self.session_id}?pwd={self.created.session_secret.reveal()}{query}"


@dataclass(eq=False)
class Seat:
    """A viewer: its seat, its open link if any, and every event number it kept."""

    share: Share
    user: str
    viewer_id: str
    role: Role
    conn: ConnId | None
    token: SeatToken | None
    received: list[int] = field(default_factory=list)
    #: Events that came on `conn`: a drop may lose the latest of these in flight.
    on_conn: int = 0


class SessionRules(RuleBasedStateMachine):
    """Sharers and viewers against one `SessionStore`, each client's view kept beside it."""

    shares = Bundle("shares")
    seats = Bundle("seats")

    def __init__(self) -> None:
        super().__init__()
        self.harness = Harness()
        self.store = self.harness.store
        #: Links open on the client side, and who holds each (None: a join not yet seated).
        self.holders: dict[ConnId, Share | Seat | None] = {}
        #: Links gone on the client side whose end the server has not yet seen.
        self.unseen_ends: set[ConnId] = set()
        self.timers: list[StartGrace] = []
        self.by_session: dict[str, Share] = {}
        self.all_seats: list[Seat] = []

    # -- plumbing ----------------------------------------------------------------------------

    def deliver(self, actions: list[Action]) -> None:
        """Carry out what the server decided, as its actor and the network would."""
        for action in actions:
            if isinstance(action, Send):
                holder = self.holders.get(action.conn)
                if isinstance(holder, Seat) and isinstance(action.message, EventFrame):
                    holder.received.append(action.message.event_no)
                    holder.on_conn += 1
            elif isinstance(action, Close):
                self.lose(action.conn)
            else:
                self.timers.append(action)
                self.by_session[action.session_id].epoch = action.epoch

    def lose(self, conn: ConnId) -> None:
        """The link is gone for its client; the server hears of it in `server_sees_a_link_end`."""
        if conn not in self.holders:
            return
        holder = self.holders.pop(conn)
        if holder is not None and holder.conn == conn:
            holder.conn = None
            if isinstance(holder, Seat):
                holder.on_conn = 0
        self.unseen_ends.add(conn)

    def open(self, resource: str) -> ConnId:
        conn = self.harness.open(resource)
        self.holders[conn] = None
        return conn

    def viewer_says_hello(
        self, route: str, user: str, **payload: object
    ) -> tuple[ConnId, list[Action], dict[str, object]]:
        """Open a join route and send `Initialize`; also returns the state just before it."""
        conn = self.open(route)
        before = store_state(self.store)
        hello = viewer.Initialize(viewer.ViewerInitPayload(UserId(user), **payload))  # type: ignore[arg-type]
        return conn, self.store.received(conn, hello), before

    def join_refused(
        self,
        conn: ConnId,
        actions: list[Action],
        before: dict[str, object],
        reason: viewer.JoinFailureReason,
    ) -> None:
        assert sent_to(actions, conn) == [viewer.FailedToJoin(reason)]
        assert closes(actions) == {conn: (CLOSE_POLICY, f"join refused: {reason.value}")}
        assert store_state(self.store) == before
        self.deliver(actions)

    def seat(self, conn: ConnId, actions: list[Action], share: Share, user: str) -> Seat:
        joined = sent_to(actions, conn)[0]
        assert isinstance(joined, viewer.JoinedSuccessfully), joined
        assert joined.latest_event_no == (share.stored - 1 if share.stored else None)
        seat = Seat(share, user, joined.viewer_id, joined.role, conn, joined.rejoin_token)
        self.holders[conn] = seat
        self.all_seats.append(seat)
        self.deliver(actions)
        return seat

    def live_seats(self, share: Share) -> list[Seat]:
        return [s for s in self.all_seats if s.share is share and s.conn is not None]

    # -- sharers -------------------------------------------------------------------------------

    @rule(
        target=shares,
        owner=st.sampled_from(USERS),
        lifetime=st.sampled_from(sharer.Lifetime),
        link_role=st.sampled_from(Role),
    )
    def share(self, owner: str, lifetime: sharer.Lifetime, link_role: Role) -> Share:
        conn, created = self.harness.share(owner, lifetime=lifetime, link_role=link_role)
        share = Share(created, owner, lifetime, link_role, conn)
        self.holders[conn] = share
        self.by_session[share.session_id] = share
        return share

    @rule(share=shares, count=st.integers(1, 5))
    def sharer_sends_the_next_events(self, share: Share, count: int) -> None:
        if share.conn is None:
            return
        numbers = range(share.stored, share.stored + count)
        actions = self.harness.events(share.conn, *numbers)
        assert sent_to(actions, share.conn) == [sharer.EventsProcessedAck(n) for n in numbers]
        share.stored += count
        self.deliver(actions)

    @rule(share=shares, back=st.integers(0, 4))
    def sharer_resends_an_event(self, share: Share, back: int) -> None:
        if share.conn is None or not share.stored:
            return
        before = store_state(self.store)
        actions = self.harness.events(share.conn, max(0, share.stored - 1 - back))
        assert actions == [Send(share.conn, sharer.EventsProcessedAck(share.stored - 1))]
        assert store_state(self.store) == before

    @rule(share=shares, skip=st.integers(1, 3))
    def sharer_skips_ahead(self, share: Share, skip: int) -> None:
        if share.conn is None:
            return
        before = store_state(self.store)
        actions = self.harness.events(share.conn, share.stored + skip)
        reason = f"event {share.stored + skip} out of order; expected {share.stored}"
        assert actions == [Close(share.conn, CLOSE_POLICY, reason)]
        assert store_state(self.store) == before
        self.deliver(actions)

    @rule(share=shares, noticed=st.booleans())
    def sharer_drops(self, share: Share, noticed: bool) -> None:
        """The sharer's link goes; the server may notice at once or only later."""
        if share.conn is None:
            return
        conn = share.conn
        self.lose(conn)
        if noticed:
            self.unseen_ends.remove(conn)
            self.deliver(self.store.disconnected(conn))

    def reconnect(
        self, share: Share, **forged: object
    ) -> tuple[ConnId, list[Action], dict[str, object]]:
        """Open the resume route and prove (or fail to prove) the session is ours."""
        conn = self.open(f"/sessions/{share.session_id}/resume")
        proof = sharer.ReconnectPayload(
            share.created.session_secret, share.created.reconnect_token, UserId(share.owner)
        )
        proof = dataclasses.replace(proof, **forged)  # type: ignore[arg-type]
        before = store_state(self.store)
        return conn, self.store.received(conn, sharer.Reconnect(proof)), before

    def reconnect_refused(
        self,
        conn: ConnId,
        actions: list[Action],
        before: dict[str, object],
        reason: sharer.ReconnectFailureReason,
    ) -> None:
        assert sent_to(actions, conn) == [sharer.FailedToReconnect(reason)]
        assert closes(actions) == {conn: (CLOSE_POLICY, f"reconnect refused: {reason.value}")}
        assert store_state(self.store) == before
        self.deliver(actions)

    @rule(share=shares)
    def sharer_reconnects(self, share: Share) -> None:
        conn, actions, before = self.reconnect(share)
        if share.ended:
            reason = sharer.ReconnectFailureReason.SESSION_NOT_FOUND
            self.reconnect_refused(conn, actions, before, reason)
            return
        last = share.stored - 1 if share.stored else None
        assert sent_to(actions, conn) == [sharer.SessionReconnected(last)]
        replaced = closes(actions)
        assert all(why == (CLOSE_POLICY, "replaced by a reconnect") for why in replaced.values())
        assert share.conn is None or share.conn in replaced
        share.conn, share.epoch = conn, share.epoch + 1
        self.holders[conn] = share
        self.deliver(actions)

    @rule(share=shares, again=st.booleans())
    def sharer_flaps(self, share: Share, again: bool) -> None:
        """The link drops and the sharer is straight back, leaving a grace timer to go stale.

        Dropping `again` starts a second grace period while the first timer is still due.
        """
        if share.conn is not None:
            self.sharer_drops(share, noticed=True)
            self.sharer_reconnects(share)
            if again:
                self.sharer_drops(share, noticed=True)

    @rule(share=shares, forged=st.sampled_from(["token", "secret", "user"]))
    def impostor_reconnects(self, share: Share, forged: str) -> None:
        """Someone with all but one of the sharer's proofs tries to take the session over."""
        forgeries: dict[str, dict[str, object]] = {
            "token": {"reconnect_token": ReconnectToken("forged")},
            "secret": {"session_secret": SessionSecret("forged")},
            "user": {"user_id": UserId("mallory")},
        }
        conn, actions, before = self.reconnect(share, **forgeries[forged])
        # Every failure answers alike, so a guess tells nothing.
        reason = sharer.ReconnectFailureReason.SESSION_NOT_FOUND
        self.reconnect_refused(conn, actions, before, reason)

    def session_ends(
        self, share: Share, actions: list[Action], reason: viewer.SessionEndedReason
    ) -> None:
        """Every viewer still watching hears why, then its link closes normally."""
        closed = closes(actions)
        for seat in self.live_seats(share):
            assert seat.conn is not None
            assert sent_to(actions, seat.conn) == [viewer.SessionEnded(reason)]
            assert closed[seat.conn][0] == CLOSE_NORMAL
        assert {code for code, _ in closed.values()} <= {CLOSE_NORMAL}
        share.ended = True
        self.deliver(actions)

    @rule(share=shares, reason=st.sampled_from(sharer.SharerEndReason))
    def sharer_ends_the_session(self, share: Share, reason: sharer.SharerEndReason) -> None:
        if share.conn is None:
            return
        conn = share.conn
        actions = self.store.received(conn, sharer.EndSession(reason))
        assert closes(actions)[conn] == (CLOSE_NORMAL, "session ended")
        self.session_ends(share, actions, viewer.SessionEndedReason(reason.value))

    @precondition(lambda self: self.timers)
    @rule()
    def grace_expires(self) -> None:
        """The oldest grace timer fires: all have the same delay, so they end in order."""
        timer = self.timers.pop(0)
        share = self.by_session[timer.session_id]
        before = store_state(self.store)
        actions = self.store.grace_expired(timer.session_id, timer.epoch)
        if share.ended or timer.epoch != share.epoch:
            assert actions == []
            assert store_state(self.store) == before
            return
        self.session_ends(share, actions, viewer.SessionEndedReason.INACTIVITY_LIMIT_REACHED)

    @precondition(lambda self: self.unseen_ends)
    @rule(data=st.data())
    def server_sees_a_link_end(self, data: st.DataObject) -> None:
        conn = data.draw(st.sampled_from(sorted(self.unseen_ends)))
        self.unseen_ends.remove(conn)
        self.deliver(self.store.disconnected(conn))

    # -- viewers -------------------------------------------------------------------------------

    @rule(target=seats, share=shares, user=st.sampled_from(USERS))
    def viewer_joins(self, share: Share, user: str) -> Seat | object:
        conn, actions, before = self.viewer_says_hello(share.route(), user)
        if share.forgotten:
            self.join_refused(conn, actions, before, viewer.JoinFailureReason.SESSION_NOT_FOUND)
            return multiple()
        seat = self.seat(conn, actions, share, user)
        assert seat.role is share.link_role
        return seat

    @rule(
        share=shares,
        user=st.sampled_from(USERS),
        secret=st.sampled_from(["wrong", "none", "unknown session"]),
    )
    def stranger_tries_to_join(self, share: Share, user: str, secret: str) -> None:
        """A join without the link's secret, or to a session that does not exist."""
        pwd = share.created.session_secret.reveal()
        route = {
            "wrong": f"/sessions/join/{share.session_id}?pwd=not-{pwd}",
            "none": f"/sessions/join/{share.session_id}",
            "unknown session": f"/sessions/join/no-such-session?pwd={pwd}",
        }[secret]
        conn, actions, before = self.viewer_says_hello(route, user)
        # A wrong secret answers as an unknown session does, so a guess tells nothing.
        self.join_refused(conn, actions, before, viewer.JoinFailureReason.SESSION_NOT_FOUND)

    @rule(target=seats, share=shares, parent=seats, own=st.booleans(), user=st.sampled_from(USERS))
    def viewer_joins_through_a_parent(
        self, share: Share, parent: Seat, own: bool, user: str
    ) -> Seat | object:
        """A hidden child pane joins via a parent seat: with its token, or naming it without."""
        joiner = parent.user if own else user
        token = parent.token.reveal() if own and parent.token is not None else "not-the-token"
        route = share.route(f"&via={parent.share.session_id}&as={parent.viewer_id}&seat={token}")
        conn, actions, before = self.viewer_says_hello(route, joiner)
        if share.forgotten:
            self.join_refused(conn, actions, before, viewer.JoinFailureReason.SESSION_NOT_FOUND)
            return multiple()
        if parent.share.forgotten or not own or parent.token is None:
            reason = viewer.JoinFailureReason.SESSION_NOT_ACCESSIBLE
            self.join_refused(conn, actions, before, reason)
            return multiple()
        seat = self.seat(conn, actions, share, joiner)
        assert seat.role.rank <= parent.role.rank, (seat.role, parent.role)
        assert seat.role.rank == min(share.link_role.rank, parent.role.rank)
        return seat

    @rule(seat=seats, lost=st.integers(0, 3))
    def viewer_drops(self, seat: Seat, lost: int) -> None:
        """The link goes; the last `lost` events on it were still in flight and never arrive."""
        if seat.conn is None:
            return
        del seat.received[len(seat.received) - min(lost, seat.on_conn) :]
        self.lose(seat.conn)

    @rule(seat=seats)
    def viewer_rejoins(self, seat: Seat) -> None:
        last = seat.received[-1] if seat.received else None
        conn, actions, before = self.viewer_says_hello(
            seat.share.route(),
            seat.user,
            viewer_id=seat.viewer_id,
            last_received_event_no=last,
            rejoin_token=seat.token,
        )
        if seat.share.forgotten:
            self.join_refused(conn, actions, before, viewer.JoinFailureReason.SESSION_NOT_FOUND)
            return
        assert sent_to(actions, conn)[0] == viewer.RejoinedSuccessfully()
        if seat.conn is not None:
            assert closes(actions)[seat.conn] == (CLOSE_POLICY, "replaced by a rejoin")
        seat.conn, seat.on_conn = conn, 0
        self.holders[conn] = seat
        self.deliver(actions)

    @rule(seat=seats, lost=st.integers(0, 3), seen_after=st.booleans())
    def viewer_flaps(self, seat: Seat, lost: int, seen_after: bool) -> None:
        """The link drops and the viewer is back before the server has seen the old one end.

        With `seen_after`, the old link's end reaches the server just after the rejoin.
        """
        old = seat.conn
        if old is None:
            return
        self.viewer_drops(seat, lost)
        self.viewer_rejoins(seat)
        if seen_after:
            self.unseen_ends.remove(old)
            self.deliver(self.store.disconnected(old))

    @rule(seat=seats, other=seats, user=st.sampled_from(USERS), borrowed=seats)
    def viewer_rejoins_as_someone_else(
        self, seat: Seat, other: Seat, user: str, borrowed: Seat
    ) -> None:
        """`user` claims `other`'s seat on `seat`'s session, asking for every event.

        Whoever `user` says they are, without the seat's own token (none, or
        the token of `borrowed`, another seat) the seat stays its viewer's.
        """
        token = None if borrowed is other else borrowed.token
        conn, actions, before = self.viewer_says_hello(
            seat.share.route(), user, viewer_id=other.viewer_id, rejoin_token=token
        )
        reason = viewer.JoinFailureReason.INVALID
        if seat.share.forgotten:
            reason = viewer.JoinFailureReason.SESSION_NOT_FOUND
        self.join_refused(conn, actions, before, reason)

    @rule(
        seat=seats,
        message=st.sampled_from(
            [
                exchange_event(0),
                sharer.EndSession(sharer.SharerEndReason.ENDED_BY_SHARER),
                sharer.UpdateSourceTaskId("t-forged"),
            ]
        ),
    )
    def viewer_sends_a_sharer_message(self, seat: Seat, message: Message) -> None:
        if seat.conn is None:
            return
        frame = decode(Channel.VIEWER_UP, encode(message))  # as the viewer's link decodes it
        before = store_state(self.store)
        actions = self.store.received(seat.conn, frame)
        reason = f"{message.message_type} is a sharer message; a viewer may not send it"
        assert actions == [Close(seat.conn, CLOSE_POLICY, reason)]
        assert store_state(self.store) == before
        self.deliver(actions)

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def every_viewer_has_every_event_once_and_in_order(self) -> None:
        """Across any drops and rejoins: numbers run 0, 1, 2, ... and an open link is current."""
        for seat in self.all_seats:
            assert seat.received == list(range(len(seat.received))), (seat.viewer_id, seat)
            if seat.conn is not None:
                assert len(seat.received) == seat.share.stored, seat


def test_session_rules_hold_whatever_sharers_and_viewers_do() -> None:
    with capture_logs():
        run_state_machine_as_test(SessionRules, settings=SESSION_SETTINGS)


# -- tasks -----------------------------------------------------------------------------------


@dataclass(eq=False)
class Run:
    """What the rules say a run should be, kept beside the store's row."""

    task_id: str
    owner: str
    execution: Execution
    parent: Run | None
    state: RunState = RunState.QUEUED
    session_id: str | None = None


def may_move(execution: Execution, current: RunState, new: RunState) -> bool:
    """The lifecycle as the docs state it, written apart from the server's own table.

    A run steps QUEUED, CLAIMED (and RUNNING in the cloud) one step at a
    time, may end from any of those, never leaves an end state, and may
    always stay where it is.
    """
    if new is current:
        return True
    if current.is_terminal:
        return False
    if new.is_terminal:
        return True
    steps = [RunState.QUEUED, RunState.CLAIMED]
    if execution is Execution.CLOUD:
        steps.append(RunState.RUNNING)
    return new in steps and steps.index(new) == steps.index(current) + 1


STATES = st.sampled_from(RunState)
EXECUTIONS = st.sampled_from(Execution)
KEYS = st.sampled_from([None, "", "k1", "k2"])
#: Which of the two principals that do not own a run acts on it.
STRANGER = st.integers(0, 1)
#: Each user's team, if any: one per user, in `USERS` order.
TEAMS = st.lists(st.sampled_from([None, "red", "blue"]), min_size=len(USERS), max_size=len(USERS))


class TaskRules(RuleBasedStateMachine):
    """Owners, teammates and strangers against one `TaskStore`.

    Who may view a run is written here apart from the store: its owner (a
    child's is its parent's) and the owner's team. Anyone else is told the run
    does not exist; a teammate may read but is refused any change.
    """

    runs = Bundle("runs")

    def __init__(self) -> None:
        super().__init__()
        self.store = TaskStore()
        self.all_runs: dict[str, Run] = {}
        self.children: dict[str, list[Run]] = {}
        self.team: dict[str, str | None] = {}
        #: The run each accepted create with an idempotency key made, by (principal, key).
        self.keyed: dict[tuple[str, str], Run] = {}
        self.numbers = itertools.count(1)
        #: The state each run was in when its session link was written.
        self.linked_while: dict[str, RunState] = {}

    @initialize(accepts_claimed=st.booleans(), keeps_local=st.booleans(), teams=TEAMS)
    def set_up(self, accepts_claimed: bool, keeps_local: bool, teams: list[str | None]) -> None:
        """The operator's choices: the gates, and who is in which team."""
        self.store = TaskStore(TaskGates(accepts_claimed, keeps_local))
        self.team = dict(zip(USERS, teams, strict=True))
        for name in sorted({t for t in teams if t is not None}):
            self.store.add_team(name, [u for u in USERS if self.team[u] == name])

    # -- plumbing ----------------------------------------------------------------------------

    def can_view(self, principal: str, run: Run) -> bool:
        team = self.team.get(run.owner)
        return principal == run.owner or (team is not None and self.team.get(principal) == team)

    def not_owners_refusal(self, principal: str, run: Run) -> TaskErrorKind:
        """A teammate may not change the run; to anyone else it is not there."""
        return TaskErrorKind.FORBIDDEN if self.can_view(principal, run) else TaskErrorKind.NOT_FOUND

    @staticmethod
    def stranger(run: Run, pick: int) -> str:
        return [u for u in USERS if u != run.owner][pick]

    def refused(self, call: Callable[[], object], kind: TaskErrorKind) -> None:
        before = store_state(self.store)
        assert refusal(call).kind is kind
        assert store_state(self.store) == before

    def create(
        self, principal: str, parent: Run | None, execution: Execution, key: str | None
    ) -> RunRecord:
        """What the task server does with a `CreateRun`: a known key returns its first row."""
        earlier = self.store.created_for(principal, key)
        if earlier is not None:
            return earlier
        return self.store.create_run(
            principal,
            f"t-{next(self.numbers)}",
            title=f"run {principal}",
            execution=execution,
            parent_run_id=parent.task_id if parent else None,
            agent_config_snapshot=AgentConfigSnapshot(f"agent of {principal}"),
            now=0.0,
            idempotency_key=key,
        )

    def attempt_create(
        self,
        principal: str,
        parent: Run | None,
        execution: Execution,
        key: str | None,
        refused_as: TaskErrorKind | None = None,
    ) -> Run | object:
        """Create, expecting the first row back for a known key, else a refusal or a new run."""
        create = partial(self.create, principal, parent, execution, key)
        if key is not None and (principal, key) in self.keyed:
            before = store_state(self.store)
            assert create().task_id == self.keyed[(principal, key)].task_id
            assert store_state(self.store) == before
            return multiple()
        if refused_as is not None:
            self.refused(create, refused_as)
            return multiple()
        record = create()
        assert record.task_id not in self.all_runs, "a create must mint a new run"
        assert record.parent_run_id == (parent.task_id if parent else None)
        run = Run(record.task_id, parent.owner if parent else principal, execution, parent)
        self.all_runs[run.task_id] = run
        if parent is not None:
            self.children.setdefault(parent.task_id, []).append(run)
        if key is not None:
            self.keyed[(principal, key)] = run
        return run

    # -- writes ------------------------------------------------------------------------------

    @rule(
        target=runs,
        principal=st.sampled_from(USERS),
        execution=EXECUTIONS,
        key=KEYS,
        children=st.lists(EXECUTIONS, max_size=3),
    )
    def create_run(
        self, principal: str, execution: Execution, key: str | None, children: list[Execution]
    ) -> object:
        """A run of one's own, with the children an orchestrator starts straight away."""
        run = self.attempt_create(principal, None, execution, key)
        if not isinstance(run, Run):
            return run
        made = [self.attempt_create(principal, run, e, None) for e in children]
        return multiple(run, *(child for child in made if isinstance(child, Run)))

    @rule(
        target=runs, parent=runs, executions=st.lists(EXECUTIONS, min_size=1, max_size=3), key=KEYS
    )
    def owner_creates_children(
        self, parent: Run, executions: list[Execution], key: str | None
    ) -> object:
        """A few children at once, so runs have siblings; a child's run may parent runs too,
        owned by the owner at the top (a repeated key returns the first)."""
        made = [self.attempt_create(parent.owner, parent, e, key) for e in executions]
        return multiple(*(run for run in made if isinstance(run, Run)))

    @rule(target=runs, parent=runs, pick=STRANGER, execution=EXECUTIONS, key=KEYS)
    def stranger_creates_child(
        self, parent: Run, pick: int, execution: Execution, key: str | None
    ) -> object:
        principal = self.stranger(parent, pick)
        refusal = self.not_owners_refusal(principal, parent)
        return self.attempt_create(principal, parent, execution, key, refusal)

    @rule(run=runs, state=STATES)
    def owner_moves_run(self, run: Run, state: RunState) -> None:
        move = partial(self.store.transition, run.owner, run.task_id, state, now=1.0)
        if not may_move(run.execution, run.state, state):
            self.refused(move, TaskErrorKind.INVALID)
            return
        assert move().state is state
        run.state = state

    @rule(run=runs)
    def owner_advances_run(self, run: Run) -> None:
        """The next step of QUEUED, CLAIMED, RUNNING, which a LOCAL run may not take last."""
        steps = [RunState.QUEUED, RunState.CLAIMED, RunState.RUNNING]
        if run.state in steps[:-1]:
            self.owner_moves_run(run, steps[steps.index(run.state) + 1])

    @rule(run=runs, pick=STRANGER, state=STATES)
    def stranger_moves_run(self, run: Run, pick: int, state: RunState) -> None:
        principal = self.stranger(run, pick)
        move = partial(self.store.transition, principal, run.task_id, state, now=1.0)
        self.refused(move, self.not_owners_refusal(principal, run))

    @rule(run=runs, state=st.none() | STATES)
    def owner_writes_session_link(self, run: Run, state: RunState | None) -> None:
        """The owner records the run's session, with or without a move in the same update."""
        session_id = f"s-{next(self.numbers)}"
        link = partial(
            self.store.update_agent_task,
            run.owner,
            run.task_id,
            state=state,
            session_id=session_id,
            now=2.0,
        )
        open_states = {RunState.RUNNING}
        if self.store.gates.link_gate_accepts_claimed:
            open_states.add(RunState.CLAIMED)
        if run.state not in open_states:
            self.refused(link, TaskErrorKind.REJECTED_BY_GATE)
        elif state is not None and not may_move(run.execution, run.state, state):
            self.refused(link, TaskErrorKind.INVALID)
        else:
            link()
            self.linked_while[run.task_id] = run.state
            run.state, run.session_id = state or run.state, session_id

    @rule(run=runs, pick=STRANGER)
    def stranger_writes_session_link(self, run: Run, pick: int) -> None:
        principal = self.stranger(run, pick)
        link = partial(
            self.store.update_agent_task, principal, run.task_id, session_id="s-forged", now=2.0
        )
        self.refused(link, self.not_owners_refusal(principal, run))

    @rule(run=runs)
    def agent_starts(self, run: Run) -> None:
        """What an agent does first: take its row as far as it goes, then link its session."""
        self.owner_advances_run(run)
        if run.execution is Execution.CLOUD:
            self.owner_advances_run(run)
        self.owner_writes_session_link(run, None)

    # -- reads -------------------------------------------------------------------------------

    @rule(principal=st.sampled_from(USERS), run=runs, limit=st.integers(1, 3))
    def list_children(self, principal: str, run: Run, limit: int) -> None:
        listing = partial(self.store.list_children, principal, run.task_id, limit=limit)
        if not self.can_view(principal, run):
            self.refused(listing, TaskErrorKind.NOT_FOUND)
            return
        before = store_state(self.store)
        listed: list[RunRecord] = []
        page, cursor = listing()
        while True:
            assert len(page) <= limit
            assert all(r.parent_run_id == run.task_id for r in page), page
            listed += page
            if cursor is None:
                break
            page, cursor = self.store.list_children(
                principal, run.task_id, limit=limit, cursor=cursor
            )
        expected = [c.task_id for c in self.children.get(run.task_id, [])]
        assert [r.task_id for r in listed] == expected
        assert store_state(self.store) == before

    @rule(principal=st.sampled_from(USERS), run=runs)
    def get_run(self, principal: str, run: Run) -> None:
        get = partial(self.store.get_run, principal, run.task_id)
        if not self.can_view(principal, run):
            self.refused(get, TaskErrorKind.NOT_FOUND)
            return
        record = get()
        assert (record.task_id, record.state) == (run.task_id, run.state)
        assert record.session_id in (None, run.session_id)

    @rule(principal=st.sampled_from(USERS), run=runs)
    def agent_names(self, principal: str, run: Run) -> None:
        names = partial(self.store.agent_names, principal, run.task_id)
        if not self.can_view(principal, run):
            self.refused(names, TaskErrorKind.NOT_FOUND)
            return
        head = run.parent or run
        group = {head.task_id, *(c.task_id for c in self.children.get(head.task_id, []))}
        found = names()
        assert set(found) == group - {run.task_id}
        sessions = {r.session_id for r in self.all_runs.values() if r.session_id}
        assert not any(s in name for s in sessions for name in found.values())

    @rule(principal=st.sampled_from(USERS), run=runs)
    def reads_the_whole_group(self, principal: str, run: Run) -> None:
        """Anyone tries every run of a run's group: all of it is visible, or none of it."""
        head = run.parent or run
        group = [head, *self.children.get(head.task_id, [])]
        assert len({self.can_view(principal, member) for member in group}) == 1
        for member in group:
            self.get_run(principal, member)
            self.list_children(principal, member, PAGE_LIMIT)
            self.agent_names(principal, member)

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def session_links_were_written_only_while_claimed_or_running(self) -> None:
        allowed = {RunState.CLAIMED, RunState.RUNNING}
        assert set(self.linked_while.values()) <= allowed
        linked = {r.task_id for r in self.store.rows() if r.session_id is not None}
        assert linked == set(self.linked_while)


def test_task_rules_hold_whatever_owners_and_strangers_do() -> None:
    run_state_machine_as_test(TaskRules, settings=TASK_SETTINGS)
