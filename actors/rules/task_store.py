"""The task server's rules: `ai_tasks` rows, their lifecycle, gates and access.

Pure state, no I/O: the task server actor decodes a request, calls one method
here and encodes the result. Every refusal is a `TaskRefused` carrying the
error kind the wire reports and a sentence saying what was wrong.

A principal is whoever holds the token the store issued to it: a client
names no principal, it shows its token, and the store says whose it is.

Access is by ownership, as on the real server: every run has an owner, a
child run belongs to its parent's owner, and a run may be viewed by its owner
and by the owner's team. Teams are set up by the server's operator; nothing a
client sends changes who may view what. Holding a session's link opens the
session, never its runs: a stranger learns nothing of them, not even that
they exist, because an unknown run and a hidden one are refused alike.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, parse_qsl, urlsplit

from actors.rules.credentials import Credentials, SystemCredentials
from actors.rules.field_sizes import oversized_field
from actors.rules.names import display_name
from protocol.routes import join_path
from protocol.runs import AgentConfigSnapshot, Execution, RunRecord, RunState
from protocol.secrets import TaskToken
from protocol.tasks import PAGE_LIMIT, CreateRun, TaskErrorKind, TaskRefused, UpdateAgentTask

#: A cursor is an offset into a run's children; no run has a billion of them.
_CURSOR_DIGITS = 9
#: Bytes of randomness in a task token.
_TOKEN_BYTES = 16
#: Longest principal name a token is issued for.
MAX_PRINCIPAL_CHARS = 100

_TERMINAL = frozenset(s for s in RunState if s.is_terminal)
#: States that mean a worker or a client took the run up: its `started_at` is set on entry.
_STARTED = frozenset({RunState.CLAIMED, RunState.RUNNING})

#: Allowed moves per execution. Cloud runs are claimed by a worker, then run;
#: local runs are claimed by the client and end without ever being RUNNING.
_TRANSITIONS: dict[Execution, dict[RunState, frozenset[RunState]]] = {
    Execution.CLOUD: {
        RunState.QUEUED: frozenset({RunState.CLAIMED}) | _TERMINAL,
        RunState.CLAIMED: frozenset({RunState.RUNNING}) | _TERMINAL,
        RunState.RUNNING: _TERMINAL,
    },
    Execution.LOCAL: {
        RunState.QUEUED: frozenset({RunState.CLAIMED}) | _TERMINAL,
        RunState.CLAIMED: _TERMINAL,
    },
}


@dataclass(frozen=True, slots=True)
class TaskGates:
    """The server-side switches that profiles flip to reproduce older behaviour."""

    #: Accept a session link while CLAIMED as well as RUNNING (local runs never run).
    link_gate_accepts_claimed: bool = True
    #: Keep a finished LOCAL run's session id visible (it has no cloud transcript).
    keep_finished_local_session_id: bool = True
    #: Accept the first session link of a run that started and has finished (see
    #: `Switches.accept_first_link_after_finish`); a link is never rewritten after the end.
    accept_first_link_after_finish: bool = False


@dataclass(frozen=True, slots=True)
class TaskLimits:
    """How much the task server keeps from its clients.

    The defaults fit a laptop for a day: 20,000 runs, each string in a request
    at most 1,024 characters (a title, a status line), so rows hold at most a
    few hundred megabytes however clients fill them. Past the cap a create is
    refused rather than a finished row dropped: a finished row is still what
    its owner and team read (its session, its place among its parent's
    children, the run an idempotency key names), so forgetting one would
    change answers silently. Since rows stay, one principal could fill the
    cap for everyone: `max_principal_runs` gives each a share of it.
    """

    max_runs: int = 20_000
    max_field_chars: int = 1024
    #: Runs one principal owns (its children's included); None: only `max_runs` bounds it.
    max_principal_runs: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_runs", "max_field_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_principal_runs is not None and self.max_principal_runs < 1:
            raise ValueError(
                f"max_principal_runs must be at least 1, got {self.max_principal_runs}"
            )


@dataclass
class _Row:
    record: RunRecord
    owner: str
    ran: bool = False


@dataclass
class TaskStore:
    """Every run, who may see it, and how often each principal asked for what."""

    gates: TaskGates = field(default_factory=TaskGates)
    credentials: Credentials = field(default_factory=SystemCredentials)
    limits: TaskLimits = field(default_factory=TaskLimits)
    _rows: dict[str, _Row] = field(default_factory=dict)
    _children: dict[str, list[str]] = field(default_factory=dict)
    #: Runs each principal owns, as `max_principal_runs` counts them.
    _owned: Counter[str] = field(default_factory=Counter)
    #: Members by team, and each member's team: a principal is in one team at most.
    _teams: dict[str, frozenset[str]] = field(default_factory=dict)
    _team_of: dict[str, str] = field(default_factory=dict)
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    _created: dict[tuple[str, str], str] = field(default_factory=dict)
    _tokens: dict[str, TaskToken] = field(default_factory=dict)
    #: Principals by the SHA-256 of their token: a lookup compares digests, not tokens.
    _principals: dict[bytes, str] = field(default_factory=dict)
    #: The event sequence of the latest change of any row; every change takes the next one.
    _sequence: int = 0
    #: Child rows changed by the request being served, for the server to push; see
    #: `take_child_changes`, which empties it after every request.
    _child_changes: list[RunRecord] = field(default_factory=list)

    # -- identity ------------------------------------------------------------

    def issue_token(self, principal: str) -> TaskToken:
        """The token that speaks for `principal`, issued on first asking."""
        check_principal(principal)
        token = self._tokens.get(principal)
        if token is None:
            token = TaskToken(self.credentials.secret("task-tokens", _TOKEN_BYTES))
            self._tokens[principal] = token
            self._principals[_digest(token.reveal())] = principal
        return token

    def authenticate(self, token: str | None) -> str | None:
        """Whose token this is, or None for a token this store never issued."""
        if not token:
            return None
        return self._principals.get(_digest(token))

    def tokens(self) -> dict[str, TaskToken]:
        """Every token issued, by principal (for a server's operator, never for a log)."""
        return dict(self._tokens)

    # -- accounting --------------------------------------------------------

    def count(self, principal: str, endpoint: str) -> None:
        self.requests[(principal, endpoint)] += 1

    def requests_by(self, principal: str, endpoint: str | None = None) -> int:
        return sum(
            n
            for (who, what), n in self.requests.items()
            if who == principal and endpoint in (None, what)
        )

    # -- access ------------------------------------------------------------

    def add_team(self, team: str, members: Iterable[str]) -> None:
        """Make `members` one team: each may view every run any of them owns.

        Set up by the server's operator (a scenario's world, `serve --team`)
        before clients act. A principal is in one team at most, so a run's
        owner has one team, and a second team naming it is refused.
        """
        check_principal(team, what="team name")
        if team in self._teams:
            raise ValueError(f"team {team} is defined twice")
        people = tuple(dict.fromkeys(members))
        if not people:
            raise ValueError(f"team {team} has no members")
        for person in people:
            check_principal(person)
            if person in self._team_of:
                raise ValueError(
                    f"{person} is in team {self._team_of[person]} already; "
                    f"a principal is in one team at most, so it cannot join {team}"
                )
        self._teams[team] = frozenset(people)
        for person in people:
            self._team_of[person] = team

    def team_of(self, principal: str) -> str | None:
        return self._team_of.get(principal)

    def can_view(self, principal: str, task_id: str) -> bool:
        """Whether `principal` owns the run or is in its owner's team."""
        row = self._rows.get(task_id)
        return row is not None and self._may_view(principal, row)

    def _may_view(self, principal: str, row: _Row) -> bool:
        if principal == row.owner:
            return True
        team = self._team_of.get(row.owner)
        return team is not None and self._team_of.get(principal) == team

    def _require_view(self, principal: str, task_id: str) -> _Row:
        """The run, for who may view it; to anyone else it does not exist."""
        row = self._rows.get(task_id)
        if row is None or not self._may_view(principal, row):
            hidden = None if row is None else f"{principal} may not view run {task_id}"
            raise TaskRefused(TaskErrorKind.NOT_FOUND, f"no run {task_id}", detail=hidden)
        return row

    def _require_owner(self, principal: str, task_id: str) -> _Row:
        """The run, for its owner; a teammate is refused, to a stranger it is not there."""
        row = self._require_view(principal, task_id)
        if principal != row.owner:
            raise TaskRefused(TaskErrorKind.FORBIDDEN, f"{principal} does not own run {task_id}")
        return row

    # -- rows --------------------------------------------------------------

    def check_request(self, request: object) -> None:
        """Refuse a request that writes a string longer than the store keeps, saying which.

        Only requests that write a row are measured: the strings of the others
        (a cursor, a task id to look up) are read and dropped.
        """
        if not isinstance(request, CreateRun | UpdateAgentTask):
            return
        oversized = oversized_field(request, self.limits.max_field_chars)
        if oversized is not None:
            field_path, chars = oversized
            name = field_path.partition(".")[2] or field_path
            raise TaskRefused(
                TaskErrorKind.INVALID,
                f"{name} is {chars} characters; the task server accepts at most "
                f"{self.limits.max_field_chars}",
            )

    def create_run(
        self,
        principal: str,
        task_id: str,
        *,
        title: str,
        execution: Execution,
        parent_run_id: str | None,
        agent_config_snapshot: AgentConfigSnapshot | None,
        now: float,
        idempotency_key: str | None = None,
    ) -> RunRecord:
        """Insert a QUEUED row; a child belongs to its parent's owner, as on the real server.

        The idempotency key is remembered only once the row exists: a refused
        create must leave nothing behind for a retry to find.
        """
        if task_id in self._rows:
            raise TaskRefused(TaskErrorKind.INVALID, f"run {task_id} already exists")
        if len(self._rows) >= self.limits.max_runs:
            raise TaskRefused(
                TaskErrorKind.INVALID,
                f"the task server holds its limit of {self.limits.max_runs} runs; "
                "no more can be created",
            )
        owner = principal
        if parent_run_id is not None:
            # A child's run may parent runs of its own: ownership passes down the chain.
            owner = self._require_owner(principal, parent_run_id).owner
        share = self.limits.max_principal_runs
        if share is not None and self._owned[owner] >= share:
            raise TaskRefused(
                TaskErrorKind.INVALID,
                f"{owner} owns its limit of {share} runs; no more can be created",
            )
        record = RunRecord(
            task_id=task_id,
            title=title,
            state=RunState.QUEUED,
            execution=execution,
            parent_run_id=parent_run_id,
            agent_config_snapshot=agent_config_snapshot,
            created_at=now,
            updated_at=now,
        )
        row = _Row(record, owner)
        self._rows[task_id] = row
        self._owned[owner] += 1
        if parent_run_id is not None:
            self._children.setdefault(parent_run_id, []).append(task_id)
        self._commit(row, record, created=True)
        if idempotency_key is not None:
            self._created[(principal, idempotency_key)] = task_id
        return row.record

    def created_for(self, principal: str, idempotency_key: str | None) -> RunRecord | None:
        """The row an earlier create with this key made, so a retry does not mint another.

        A create without a key always mints: it never matches any earlier one.
        """
        task_id = (
            None if idempotency_key is None else self._created.get((principal, idempotency_key))
        )
        return None if task_id is None else self.visible(self._rows[task_id])

    def transition(self, principal: str, task_id: str, state: RunState, *, now: float) -> RunRecord:
        """Move a run through its lifecycle; an impossible move is refused, not ignored."""
        row = self._require_owner(principal, task_id)
        self._move(row, state)
        self._commit(
            row,
            dataclasses.replace(
                row.record,
                state=state,
                started_at=_started_at(row.record, state, now),
                updated_at=now,
            ),
        )
        return self.visible(row)

    def _move(self, row: _Row, state: RunState) -> None:
        current = row.record.state
        if state == current:
            return
        allowed = _TRANSITIONS[row.record.execution].get(current, frozenset())
        if state not in allowed:
            raise TaskRefused(
                TaskErrorKind.INVALID,
                f"run {row.record.task_id} ({row.record.execution.value}) cannot go from "
                f"{current.value} to {state.value}",
            )
        if state is RunState.RUNNING:
            row.ran = True

    def update_agent_task(
        self,
        principal: str,
        task_id: str,
        *,
        state: RunState | None = None,
        session_id: str | None = None,
        session_link: str | None = None,
        conversation_id: str | None = None,
        status_message: str | None = None,
        now: float,
    ) -> RunRecord:
        """Apply an update from the run's owner; any write of its session must pass the gate.

        A link must open the run's own session: the one named in the same update,
        or else the one the run already has.
        """
        row = self._require_owner(principal, task_id)
        record = row.record
        if session_id is not None or session_link is not None:
            self._check_link_gate(record)
        if session_link is not None:
            _check_link(task_id, session_link, session_id or record.session_id)
        if state is not None:
            self._move(row, state)
        self._commit(
            row,
            dataclasses.replace(
                record,
                state=state or record.state,
                started_at=_started_at(record, state or record.state, now),
                session_id=session_id or record.session_id,
                session_link=session_link or record.session_link,
                conversation_id=conversation_id or record.conversation_id,
                status_message=status_message or record.status_message,
                updated_at=now,
            ),
        )
        return self.visible(row)

    def _commit(self, row: _Row, record: RunRecord, *, created: bool = False) -> None:
        """Store a row's new record; a real change takes the next event sequence.

        A change of a child row is kept for the server to push to subscribers
        of its parent. Rewriting a row with what it already holds is no change.
        """
        if not created and _unchanged(row.record, record):
            row.record = record
            return
        self._sequence += 1
        row.record = dataclasses.replace(record, last_event_sequence=self._sequence)
        if record.parent_run_id is not None:
            self._child_changes.append(self.visible(row))

    def take_child_changes(self) -> list[RunRecord]:
        """The child rows changed since the last call, oldest change first, as readers see them."""
        changes, self._child_changes = self._child_changes, []
        return changes

    def _check_link_gate(self, record: RunRecord) -> None:
        open_states = {RunState.RUNNING}
        if self.gates.link_gate_accepts_claimed:
            open_states.add(RunState.CLAIMED)
        late_first_link = (
            self.gates.accept_first_link_after_finish
            and record.state.is_terminal
            and record.started_at is not None
            and record.session_id is None
        )
        if record.state not in open_states and not late_first_link:
            accepted = " or ".join(sorted(s.value for s in open_states))
            raise TaskRefused(
                TaskErrorKind.REJECTED_BY_GATE,
                f"session link for run {record.task_id} rejected: it is {record.state.value}, "
                f"links are accepted only while {accepted}",
            )

    # -- reads ---------------------------------------------------------------

    def get_run(self, principal: str, task_id: str) -> RunRecord:
        return self.visible(self._require_view(principal, task_id))

    def list_children(
        self,
        principal: str,
        parent_run_id: str,
        *,
        limit: int = PAGE_LIMIT,
        cursor: str | None = None,
    ) -> tuple[list[RunRecord], str | None]:
        """Direct children of a run, oldest first, `limit` at a time (at most PAGE_LIMIT)."""
        self._require_view(principal, parent_run_id)
        if not 1 <= limit <= PAGE_LIMIT:
            raise TaskRefused(TaskErrorKind.INVALID, f"limit must be 1..{PAGE_LIMIT}, got {limit}")
        start = _decode_cursor(cursor)
        ids = self._children.get(parent_run_id, [])
        page = ids[start : start + limit]
        next_cursor = str(start + limit) if start + limit < len(ids) else None
        return [self.visible(self._rows[i]) for i in page], next_cursor

    def children_since(
        self, principal: str, parent_run_id: str, since: int | None
    ) -> list[RunRecord]:
        """Direct children whose latest change is above `since` (all when None), oldest first.

        This is a subscription's replay: a row stands for every change it has
        had, since each change carries the whole row.
        """
        self._require_view(principal, parent_run_id)
        rows = [self._rows[i] for i in self._children.get(parent_run_id, [])]
        changed = [
            row for row in rows if since is None or (row.record.last_event_sequence or 0) > since
        ]
        changed.sort(key=lambda row: row.record.last_event_sequence or 0)
        return [self.visible(row) for row in changed]

    def agent_names(self, principal: str, task_id: str) -> dict[str, str]:
        """Names of the run's orchestration group (parent and siblings), and nothing else.

        Names are orchestration metadata both sides may see; session ids are not,
        so a child link learns who its siblings are called but cannot reach them.
        """
        row = self._require_view(principal, task_id)
        parent_id = row.record.parent_run_id or task_id
        group = [parent_id, *self._children.get(parent_id, [])]
        return {i: display_name(self._rows[i].record) for i in group if i != task_id}

    def visible(self, row: _Row) -> RunRecord:
        """The row as a reader sees it, after the stale-link guard."""
        record = row.record
        if record.session_id is None or not record.state.is_terminal:
            return record
        if record.execution is Execution.LOCAL and self.gates.keep_finished_local_session_id:
            return record
        if record.execution is Execution.CLOUD and row.ran:
            return record
        return dataclasses.replace(record, session_id=None, session_link=None)

    def rows(self) -> Iterable[RunRecord]:
        return (row.record for row in self._rows.values())


def check_principal(principal: str, *, what: str = "principal") -> None:
    """A principal (or a team) is a short printable name without spaces; say what is wrong."""
    if not 0 < len(principal) <= MAX_PRINCIPAL_CHARS:
        raise ValueError(
            f"{what} must be 1..{MAX_PRINCIPAL_CHARS} characters, got {len(principal)}"
        )
    if not principal.isprintable() or any(c.isspace() for c in principal):
        raise ValueError(f"{what} must be printable with no spaces, got {principal!r}")


def _unchanged(before: RunRecord, after: RunRecord) -> bool:
    """Whether `after` says nothing new: only its update time and sequence may differ."""
    return (
        dataclasses.replace(
            after, updated_at=before.updated_at, last_event_sequence=before.last_event_sequence
        )
        == before
    )


def _started_at(record: RunRecord, state: RunState, now: float) -> float | None:
    """`started_at` after a move to `state`: set on the first claim, then kept."""
    if record.started_at is None and state in _STARTED:
        return now
    return record.started_at


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


#: Schemes a session link may have: none (a path), or the web's own. A reader opens the
#: link, so `javascript:` or `data:` would run or show whatever the writer put there.
_LINK_SCHEMES = frozenset({"", "http", "https"})


def _check_link(task_id: str, link: str, session_id: str | None) -> None:
    """A session link is the join route of the run's session, and nothing else.

    It is a path (`/sessions/join/ID?pwd=SECRET`) or an http(s) URL with a
    host and that path; its query is the `pwd` alone, with no fragment, so
    what a reader opens is exactly the session's join route.
    """
    try:
        parts = urlsplit(link)
    except ValueError:  # e.g. an unclosed IPv6 host
        parts = None
    if parts is not None and parts.scheme not in _LINK_SCHEMES:
        shown = parts.scheme if len(parts.scheme) <= 20 else parts.scheme[:17] + "..."
        raise TaskRefused(
            TaskErrorKind.INVALID,
            f"session_link for run {task_id} has scheme {shown}:; "
            "only a path or http(s) is accepted",
        )
    problem = _link_problem(parts, session_id)
    if problem is not None:
        shown = link.split("?", 1)[0]  # the query holds the secret
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise TaskRefused(
            TaskErrorKind.INVALID, f"session_link for run {task_id} {problem}, got {shown}"
        )


def _link_problem(parts: SplitResult | None, session_id: str | None) -> str | None:
    """What is wrong with a link whose scheme is acceptable; None when nothing is."""
    target = "a run without a session" if session_id is None else f"session {session_id}"
    route = (
        "/sessions/join/ID?pwd=SECRET" if session_id is None else f"{join_path(session_id)}?pwd=…"
    )
    if parts is None or session_id is None or parts.path != join_path(session_id):
        return f"must be the join route of {target} ({route}, as a path or an http(s) URL)"
    if parts.scheme and not parts.netloc:
        return "is an http(s) URL without a host; give the host, or the path alone"
    if not parts.scheme and parts.netloc:
        return "names a host without a scheme; give an http(s) URL, or the path alone"
    if parts.fragment:
        return "has a fragment (#...); the join route has none"
    if [key for key, _ in parse_qsl(parts.query, keep_blank_values=True)] != ["pwd"]:
        return "must carry the session's pwd and no other query parameter"
    return None


def _decode_cursor(cursor: str | None) -> int:
    """The offset a cursor stands for; only the ASCII digits this server issues are accepted."""
    if cursor is None:
        return 0
    # str.isdigit alone would pass "²", and int() refuses past 4300 digits.
    if cursor.isascii() and cursor.isdigit() and len(cursor) <= _CURSOR_DIGITS:
        return int(cursor)
    shown = cursor if len(cursor) <= 40 else cursor[:37] + "..."
    raise TaskRefused(TaskErrorKind.INVALID, f"cursor {shown!r} is not one this server issued")
