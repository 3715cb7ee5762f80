"""Scenario files: what a TOML file may say, read into plain frozen data.

Every mistake is a `ScenarioError` naming the file, the line where it can be
found, the field (as a dotted path such as `children[2].location`) and what
was expected. Unknown keys are errors: a typo must never pass silently.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from actors.hosts.agents import Location
from actors.rules.pill_bar import PillStatus
from actors.rules.profiles import Profile, Switches
from actors.rules.viewer_client import CONTROL_ACTIONS, PANE_ACTIONS, ClientKind
from actors.viewers.viewer import OpenBy
from actors.world import OWNER
from protocol.errors import SharesimError
from protocol.roles import Role

E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a scenario file: where it is and what was expected."""

    file: str
    message: str
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"


class ScenarioError(SharesimError):
    """A scenario file that cannot be used, and every reason why, one line each.

    `file`, `field`, `line` and `message` are those of the first problem in the file.
    """

    def __init__(
        self, file: Path | str, message: str, *, field: str | None = None, line: int | None = None
    ):
        self.file = str(file)
        self.field = field
        self.line = line
        self.message = message
        self.problems: tuple[Problem, ...] = (Problem(self.file, message, field, line),)
        super().__init__(str(self.problems[0]))

    @classmethod
    def collected(cls, problems: Sequence[Problem]) -> ScenarioError:
        """All the problems found in one file, in file order.

        Problems without a line (a missing top-level key) concern the whole file and come
        first; the sort is stable, so problems on one line keep the order they were found in.
        """
        ordered = sorted(problems, key=lambda problem: problem.line or 0)
        first = ordered[0]
        error = cls(first.file, first.message, field=first.field, line=first.line)
        error.problems = tuple(ordered)
        return error

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


class StepKind(enum.Enum):
    SHARE = "share"
    STOP_SHARING = "stop-sharing"
    EXCHANGE = "exchange"
    FINISH = "finish"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"
    # What a person does in a viewer (see `ClientStep`), and the sharer's answer to it.
    SELECT = "select"
    COPY_LINK = "copy-link"
    HANDOFF = "handoff"
    PROMPT = "prompt"
    PILL_ACTION = "pill-action"
    REQUEST_ROLE = "request-role"
    ANSWER_ROLE = "answer-role"


#: Steps a viewer takes; every other step is taken by an agent (or, for connectivity, either).
VIEWER_STEPS = frozenset(
    {
        StepKind.SELECT,
        StepKind.COPY_LINK,
        StepKind.HANDOFF,
        StepKind.PROMPT,
        StepKind.PILL_ACTION,
        StepKind.REQUEST_ROLE,
    }
)


class Access(enum.Enum):
    """What a viewer's user may read on the task server besides the link it opens."""

    #: In the owner's team: may view the orchestrator's run and every child of it.
    TEAM = "team"
    #: A stranger who was handed the link: the session opens, the runs stay hidden.
    LINK = "link"


class RunEnding(enum.Enum):
    """How a child's run ends when a `finish` step names it."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class OrchestratorSpec:
    name: str
    location: Location
    title: str
    first_response_after: float


@dataclass(frozen=True, slots=True)
class ChildSpec:
    name: str
    location: Location
    spawn_at: float
    title: str
    launch_fails: bool
    #: The agent that spawns it: another child, or None for the orchestrator.
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class ViewerSpec:
    name: str
    opens: str
    join_at: float
    user: str
    open_by: OpenBy | None
    access: Access
    client: ClientKind = ClientKind.NATIVE
    #: Open the link this viewer copied last, instead of an agent's link (`opens` is "").
    link_from: str | None = None


@dataclass(frozen=True, slots=True)
class ClientStep:
    """The details of a viewer step or a share's roles, by the step kind that uses each.

    `pill` names the agent whose pill is selected or used (the orchestrator's name
    for its pill); `target` the agent a prompt is aimed at (None: the active pill's).
    """

    pill: str | None = None
    action: str = ""
    target: str | None = None
    to: ClientKind = ClientKind.NATIVE
    role: Role = Role.READER
    approve: bool = True


@dataclass(frozen=True, slots=True)
class Step:
    at: float
    kind: StepKind
    actor: str
    text: str = ""
    mentions: tuple[str, ...] = ()
    outcome: RunEnding = RunEnding.SUCCEEDED
    line: int | None = None
    client: ClientStep = ClientStep()


#: The statuses a child pill can show, as `statuses` checks name them.
_STATUSES = tuple(status.value for status in PillStatus)

#: Checks an expectation may make, and the type each takes.
CHECK_KEYS: dict[str, str] = {
    "root": "one of loading, loaded, unavailable",
    "pill_bar": "true or false",
    "pills": "a list of pill labels, orchestrator first",
    "statuses": "a table of child name = status",
    "loaded": "a list of child names",
    "loading": "a list of child names",
    "unavailable": "a list of child names",
    "names": "a table of agent name = label it resolves to",
    "fetches": "a whole number",
    "max_fetches": "a whole number",
    "min_fetches": "a whole number",
    "redundant_fetches": "a whole number",
    "max_task_requests": "a whole number",
}

#: Checks of the viewer as a client (kind, selection, surfaces, links, actions, roles).
CLIENT_CHECK_KEYS: dict[str, str] = {
    "client": "native or web",
    "scope": "parent or child",
    "selected": "the name of the agent whose pill is selected",
    "shows": "a list of the exchange texts the selected pill shows",
    "visible_surfaces": "a whole number",
    "pill_actions": "a list of pill menu actions",
    "copied": "parent or child (the scope of the link copied last)",
    "actions": 'a list of "ACTION AGENT: RESULT" lines',
    "roles": "a table of agent name = reader, executor or full",
}
CHECK_KEYS.update(CLIENT_CHECK_KEYS)


@dataclass(frozen=True, slots=True)
class Expectation:
    """What one viewer must show, under some profiles, at a time or at the end."""

    profiles: tuple[Profile, ...]
    viewer: str
    at: float | None
    checks: Mapping[str, object]
    line: int | None = None
    #: Under faults, due this many seconds after the latest moment a planned fault can act
    #: (`faults_over_by`), when that is later than `at` (or the run's end): the outcome
    #: once the network is back.
    after_faults: float | None = None
    #: The check assumes a network without faults (a cost, or a moment the faults may
    #: delay past), so a run with faults does not make it.
    without_faults: bool = False


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    path: Path
    default_profile: Profile
    duration: float
    behaviours: tuple[int, ...]
    orchestrator: OrchestratorSpec
    children: tuple[ChildSpec, ...]
    viewers: tuple[ViewerSpec, ...]
    steps: tuple[Step, ...]
    expectations: tuple[Expectation, ...]
    #: Per profile, the switches the file sets (`[switches]` and `[switches.PROFILE]`).
    pins: Mapping[Profile, Mapping[str, bool]] = dataclasses.field(default_factory=dict)
    #: The profiles under which the outcome depends on the interleaving (`races`).
    races: tuple[Profile, ...] = ()
    #: The profiles whose design lacks what the expectations ask (`holes`): a known hole,
    #: reported as such by `run`, and a failure to `explore` and `findings`.
    holes: tuple[Profile, ...] = ()

    def pinned(self, profile: Profile) -> dict[str, bool]:
        """The switches this file sets under `profile`, in the order the file gives them."""
        return dict(self.pins.get(profile, {}))

    @property
    def profiles(self) -> tuple[Profile, ...]:
        """The profiles this scenario has expectations for, in profile order."""
        declared = {p for e in self.expectations for p in e.profiles}
        return tuple(p for p in Profile if p in declared)

    def expectations_for(self, profile: Profile) -> tuple[Expectation, ...]:
        return tuple(e for e in self.expectations if profile in e.profiles)

    def agent_names(self) -> tuple[str, ...]:
        return (self.orchestrator.name, *(c.name for c in self.children))

    def teammates(self) -> tuple[str, ...]:
        """The users of team viewers: the owner's team on the task server."""
        return tuple(dict.fromkeys(v.user for v in self.viewers if v.access is Access.TEAM))


# -- reading -------------------------------------------------------------------------------------


class _Table:
    """One TOML table being read: its path, the keys used and those read without a problem.

    A read that finds a problem reports it and returns a stand-in of the right type, so that
    reading goes on; `ok` tells a check that builds on a field whether the field can be
    trusted. A quiet table stands in for a missing one: it reports nothing, since the missing
    table itself was reported. Stand-ins never leave this module: a file with problems raises.
    """

    def __init__(
        self, file: _File, data: Mapping[str, Any], path: str, *, quiet: bool = False
    ) -> None:
        self._file = file
        self._data = data
        self.path = path
        self._quiet = quiet
        self._used: set[str] = set()
        self._good: set[str] = set()

    def _field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def report(self, key: str | None, message: str) -> None:
        if key:
            self._good.discard(key)
        if not self._quiet:
            self._file.report(self._field(key) if key else (self.path or None), message)

    def ok(self, key: str) -> bool:
        """Whether `key` has been read without a problem."""
        return key in self._good

    def good(self, key: str) -> Any:
        """The value of `key` if it has been read without a problem, else None."""
        return self._data.get(key) if self.ok(key) else None

    def has(self, key: str) -> bool:
        return key in self._data

    def key_names(self) -> tuple[str, ...]:
        return tuple(self._data)

    def skip(self, *keys: str) -> None:
        """Neither read nor refuse these keys: whether they belong here cannot be known."""
        self._used.update(keys)

    def raw(self, key: str, default: object = None, *, expected: str) -> Any:
        """The value of `key`; without it the default, or None (reported) if it has none."""
        self._used.add(key)
        self._good.add(key)
        if key in self._data:
            return self._data[key]
        if default is None:
            self.report(key, f"missing; expected {expected}")
        return default

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw(key, default, expected="a string")
        if value is None:
            return ""
        if not isinstance(value, str) or (default is None and not value.strip()):
            self.report(key, f"expected a non-empty string, got {value!r}")
            return ""
        return value

    def number(self, key: str, default: float | None = None, *, minimum: float = 0.0) -> float:
        value = self.raw(key, default, expected="a number of seconds")
        if value is None:
            return minimum
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.report(key, f"expected a number, got {value!r}")
            return minimum
        if value < minimum:
            self.report(key, f"expected a number >= {minimum:g}, got {value!r}")
            return minimum
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key, default, expected="true or false")
        if not isinstance(value, bool):
            self.report(key, f"expected true or false, got {value!r}")
            return default
        return value

    def choice(self, key: str, kind: type[E], default: E | None = None) -> E:
        options = ", ".join(str(m.value) for m in kind)
        value = self.raw(key, default, expected=f"one of {options}")
        if isinstance(value, kind):
            return value
        for member in kind:
            if member.value == value:
                return member
        if value is not None:
            self.report(key, f"expected one of {options}, got {value!r}")
        return next(iter(kind))

    def names(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self.raw(key, default, expected="a list of names")
        if value is None:
            return ()
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            self.report(key, f"expected a list of names, got {value!r}")
            return ()
        return tuple(value)

    def table(self, key: str) -> _Table:
        value = self.raw(key, expected="a table")
        if not isinstance(value, dict):
            if value is not None:
                self.report(key, f"expected a table, got {value!r}")
            return _Table(self._file, {}, self._field(key), quiet=True)
        return _Table(self._file, value, self._field(key), quiet=self._quiet)

    def tables(self, key: str, *, required: bool = True) -> list[_Table]:
        value = self.raw(key, None if required else [], expected=f"one or more [[{key}]] tables")
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.report(key, f"expected [[{key}]] tables, got {value!r}")
            return []
        return [
            _Table(self._file, v, f"{self._field(key)}[{i}]", quiet=self._quiet)
            for i, v in enumerate(value)
        ]

    def finish(self) -> None:
        """Refuse keys nobody read: a typo must not pass silently."""
        for key in self._data:
            if key not in self._used:
                self.report(key, "unknown key")

    def line(self) -> int | None:
        return self._file.line_of(self.path)


#: A table header line: `[name]` or `[[name]]`, perhaps with a comment after it.
_HEADER = re.compile(r"^\s*\[{1,2}[^\[\]=,]+\]{1,2}\s*(#.*)?$")


class _File:
    """One scenario file's text, and every problem found in it so far.

    Validation reports problems here and goes on reading, so that one run shows the writer
    every mistake in the file rather than one at a time.
    """

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self._lines = text.splitlines()
        self.problems: list[Problem] = []

    def report(self, field: str | None, message: str) -> None:
        self.problems.append(Problem(str(self.path), message, field, self.line_of(field)))

    def line_of(self, field: str | None) -> int | None:
        """Best-effort line of a dotted field path such as `children[2].location`.

        The line that sets the field, else the header of the table it belongs in (a missing
        top-level key has no line). Keys are looked for only inside their own table, so a key
        missing from one table is never placed at the same key in the next.
        """
        if not field:
            return None
        lines = self._lines
        found: int | None = None
        start, end = 0, _table_end(lines, -1)
        path: list[str] = []  # a header names its table from the top: [switches.followups]
        for part in field.split("."):
            match = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", part)
            if match is None:
                break
            key, index = match.group(1), match.group(2)
            path.append(key)
            dotted = r"\s*\.\s*".join(re.escape(name) for name in path)
            if index is not None:
                headers = _headers(lines, rf"\[\[\s*{dotted}\s*\]\]", start)
                if int(index) >= len(headers):
                    return None
                found = headers[int(index)]
            else:
                setting = re.compile(rf"^\s*{re.escape(key)}\s*=")
                line = next((n for n in range(start, end) if setting.match(lines[n])), None)
                if line is not None:
                    return line + 1  # deeper keys sit in this line's inline table
                headers = _headers(lines, rf"\[\s*{dotted}\s*\]", start)
                if not headers:
                    continue  # a table with no header of its own may have one deeper
                found = headers[0]
            start, end = found + 1, _table_end(lines, found)
        return None if found is None else found + 1


def _headers(lines: list[str], pattern: str, start: int) -> list[int]:
    header = re.compile(rf"^\s*{pattern}")
    return [n for n in range(start, len(lines)) if header.match(lines[n])]


def _table_end(lines: list[str], header: int) -> int:
    """The index of the first header after line index `header`, or the end of the file."""
    following = range(header + 1, len(lines))
    return next((n for n in following if _HEADER.match(lines[n])), len(lines))


@dataclass(frozen=True, slots=True)
class _Names:
    """Names declared in the file, for checking references to them.

    When a name could not be read the list is partial and references are not checked against
    it: the mistake is the unreadable name, reported where it is.
    """

    known: tuple[str, ...]
    partial: bool

    @classmethod
    def of(cls, tables: Sequence[_Table], *, complete: bool) -> _Names:
        names = [table.good("name") for table in tables]
        known = tuple(name for name in names if isinstance(name, str))
        return cls(known, partial=not complete or len(known) < len(names))

    def __add__(self, other: _Names) -> _Names:
        return _Names(self.known + other.known, self.partial or other.partial)

    def __str__(self) -> str:
        return ", ".join(self.known)

    def refuses(self, name: str) -> bool:
        return not self.partial and name not in self.known


def load_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file; a `ScenarioError` lists every problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(path, f"cannot read: {error.strerror or error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"line (\d+)", str(error))
        raise ScenarioError(
            path, f"not valid TOML: {error}", line=int(line.group(1)) if line else None
        ) from None
    file = _File(path, text)
    scenario = _scenario(_Table(file, data, ""), path)
    if file.problems:
        raise ScenarioError.collected(file.problems)
    return scenario


def _scenario(top: _Table, path: Path) -> Scenario:
    name = top.text("name")
    if top.ok("name") and name != path.stem:
        top.report("name", f"must match the file name {path.stem!r}, got {name!r}")
    description = top.text("description")
    duration = top.number("duration", minimum=1.0)
    default_profile = top.choice("default_profile", Profile, Profile.CURRENT)
    behaviours = _behaviours(top)
    orchestrator_table = top.table("orchestrator")
    orchestrator = _orchestrator(orchestrator_table)
    child_tables = top.tables("children", required=False)
    children = tuple(_child(t) for t in child_tables)
    agents = _Names.of([orchestrator_table, *child_tables], complete=top.ok("children"))
    viewer_tables = top.tables("viewers")
    viewers = tuple(_viewer(t, agents) for t in viewer_tables)
    viewer_names = _Names.of(viewer_tables, complete=top.ok("viewers"))
    _check_link_sources(viewer_tables, viewers, viewer_names)
    _unique([orchestrator_table, *child_tables, *viewer_tables])
    _child_parents(child_tables, children, orchestrator, viewer_names)
    _one_access_per_user(viewer_tables)
    actors = agents + viewer_names
    read_steps = [
        (t, _step(t, agents, actors, viewer_names)) for t in top.tables("steps", required=False)
    ]
    steps = tuple(sorted((step for _, step in read_steps), key=lambda s: s.at))
    _timeline(read_steps, orchestrator_table, orchestrator, child_tables, children, viewers)
    _client_timeline(read_steps, viewer_tables, viewers)
    expectations = tuple(_expectation(t, viewer_names, agents) for t in top.tables("expect"))
    pins = _switch_pins(top)
    races = _marked_profiles(top, "races", expectations, "there is no outcome to explore")
    holes = _marked_profiles(top, "holes", expectations, "there is nothing that falls short")
    top.finish()
    last = max(
        [s.at for s in steps]
        + [c.spawn_at for c in children]
        + [v.join_at for v in viewers]
        + [0.0]
    )
    if top.ok("duration") and duration < last:
        top.report("duration", f"expected at least {last:g} s (the last step), got {duration:g}")
    return Scenario(
        name=name,
        description=description,
        path=path,
        default_profile=default_profile,
        duration=duration,
        behaviours=behaviours,
        orchestrator=orchestrator,
        children=children,
        viewers=viewers,
        steps=steps,
        expectations=expectations,
        pins=pins,
        races=races,
        holes=holes,
    )


def _behaviours(top: _Table) -> tuple[int, ...]:
    value = top.raw("behaviours", [], expected="a list of behaviour numbers")
    if not isinstance(value, list) or not all(
        isinstance(b, int) and not isinstance(b, bool) for b in value
    ):
        top.report("behaviours", f"expected a list of behaviour numbers, got {value!r}")
        return ()
    return tuple(value)


def _unique(tables: Sequence[_Table]) -> None:
    """Agents and viewers share one namespace; a name used again is refused where it recurs."""
    seen: set[str] = set()
    for table in tables:
        name = table.good("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            table.report(
                "name", f"the name {name!r} is used twice; agents and viewers need distinct names"
            )
        seen.add(name)


# -- who spawns each child (grandchildren) --------------------------------------------------


def _child_parents(
    tables: Sequence[_Table],
    children: Sequence[ChildSpec],
    orchestrator: OrchestratorSpec,
    viewers: _Names,
) -> None:
    """Refuse a `parent` the system could not have: one that is not an agent of the file,
    a chain that loops, a parent whose run does not exist yet when the child is spawned,
    or one whose launch fails (it never runs, so it calls `run_agents` on nothing).

    Every location pairing is possible: a child on the user's client spawns as the
    orchestrator there does, and a cloud child's driver spawns as a cloud orchestrator's
    does (local children on that driver, remote ones in the cloud).
    """
    by_name = {c.name: c for c in children}
    for table, child in zip(tables, children, strict=True):
        parent = child.parent
        if parent is None or not table.ok("parent"):
            continue
        if parent == orchestrator.name:
            continue
        spec = by_name.get(parent)
        if spec is None:
            if parent in viewers.known:
                table.report("parent", f"{parent!r} is a viewer; only an agent spawns children")
            else:
                agents = ", ".join((orchestrator.name, *by_name))
                table.report("parent", f"expected an agent name ({agents}), got {parent!r}")
        elif _loops(child, by_name):
            table.report(
                "parent",
                f"{child.name}'s parents lead back to {child.name}; each child is spawned by "
                "an agent that exists before it",
            )
        elif spec.launch_fails:
            table.report(
                "parent",
                f"{parent}'s launch fails (launch_fails = true): it never runs, so it cannot "
                f"spawn {child.name}",
            )
        elif table.ok("spawn_at") and child.spawn_at <= spec.spawn_at:
            table.report(
                "spawn_at",
                f"{parent} is spawned at {spec.spawn_at:g} s and exists once its run is created, "
                f"so it cannot spawn {child.name} at {child.spawn_at:g} s",
            )


def _loops(child: ChildSpec, by_name: Mapping[str, ChildSpec]) -> bool:
    """Whether following `parent` from `child` comes back to a child already passed."""
    seen = {child.name}
    parent = by_name.get(child.parent or "")
    while parent is not None:
        if parent.name in seen:
            return True
        seen.add(parent.name)
        parent = by_name.get(parent.parent or "")
    return False


def _orchestrator(t: _Table) -> OrchestratorSpec:
    spec = OrchestratorSpec(
        name=t.text("name"),
        location=t.choice("location", Location),
        title=t.text("title", ""),
        first_response_after=t.number("first_response_after", 1.0),
    )
    t.finish()
    return spec


def _child(t: _Table) -> ChildSpec:
    spec = ChildSpec(
        name=t.text("name"),
        location=t.choice("location", Location),
        spawn_at=t.number("spawn_at"),
        title=t.text("title", ""),
        launch_fails=t.flag("launch_fails", False),
        parent=t.text("parent", "") or None,
    )
    t.finish()
    return spec


def _viewer(t: _Table, agents: _Names) -> ViewerSpec:
    name = t.text("name")
    if t.has("link_from") and t.has("opens"):
        t.report("link_from", "give opens or link_from, not both")
    if t.has("link_from"):
        t.skip("opens")
    opens = "" if t.has("link_from") else t.text("opens")
    if t.ok("opens") and agents.refuses(opens):
        t.report("opens", f"expected the name of an agent ({agents}), got {opens!r}")
    user = t.text("user", name)
    access = t.choice("access", Access, Access.TEAM)
    if access is Access.LINK and user == OWNER:
        t.report(
            "access",
            f"{OWNER} runs the agents and owns every run, so she is never a link-only "
            "viewer; give this viewer another user",
        )
    spec = ViewerSpec(
        name=name,
        opens=opens,
        join_at=t.number("join_at"),
        user=user,
        open_by=t.choice("open_by", OpenBy) if t.has("open_by") else None,
        access=access,
        **_viewer_client(t),
    )
    t.finish()
    return spec


def _one_access_per_user(tables: Sequence[_Table]) -> None:
    """Team membership belongs to a user, so two viewers of one user must agree on it."""
    first: dict[str, tuple[str, str]] = {}
    for table in tables:
        name = table.good("name")
        user = table.good("user") if table.has("user") else name
        access = table.good("access") or Access.TEAM.value
        if not isinstance(user, str) or not table.ok("access"):
            continue
        if user in first and first[user][1] != access:
            other, other_access = first[user]
            table.report(
                "access",
                f"user {user!r} is {access} here but {other_access} in viewer {other!r}; "
                "a user is in the owner's team or not, for all its viewers",
            )
        first.setdefault(user, (str(name), access))


def _viewer_client(t: _Table) -> dict[str, Any]:
    """A viewer's client kind and copied-link source (names checked once all are known)."""
    client = t.choice("client", ClientKind, ClientKind.NATIVE)
    open_by = t.good("open_by")
    if t.ok("client") and client is ClientKind.WEB and open_by == OpenBy.CLOUD_AGENT.value:
        t.report("open_by", "the /cloud-agent flow is native only; a web viewer opens by run")
    link_from = t.text("link_from") if t.has("link_from") else None
    return {"client": client, "link_from": link_from}


def _check_link_sources(
    tables: Sequence[_Table], viewers: Sequence[ViewerSpec], names: _Names
) -> None:
    """A copied link comes from another viewer declared in the file."""
    for table, spec in zip(tables, viewers, strict=True):
        source = spec.link_from
        if source is not None and (names.refuses(source) or source == spec.name):
            table.report("link_from", f"expected the name of another viewer ({names})")


def _step(t: _Table, agents: _Names, actors: _Names, viewers: _Names) -> Step:
    at = t.number("at")
    kind = t.choice("do", StepKind)
    actor = t.text("actor")
    allowed = actors if kind in (StepKind.DISCONNECT, StepKind.RECONNECT) else agents
    if kind in VIEWER_STEPS:
        allowed = viewers
    if t.ok("do") and t.ok("actor") and allowed.refuses(actor):
        if actor in actors.known and kind in VIEWER_STEPS:
            t.report("actor", f"{actor!r} is an agent; only a viewer can {kind.value} ({allowed})")
        elif actor in actors.known:
            t.report("actor", f"{actor!r} is a viewer; only an agent can {kind.value} ({allowed})")
        else:
            t.report("actor", f"expected one of {allowed}, got {actor!r}")
    text, outcome = "", RunEnding.SUCCEEDED
    mentions: tuple[str, ...] = ()
    client = ClientStep()
    if not t.ok("do"):
        # Which keys belong depends on the kind.
        t.skip("text", "mentions", "outcome", *_CLIENT_STEP_KEYS)
    elif kind in VIEWER_STEPS or kind in (StepKind.SHARE, StepKind.ANSWER_ROLE):
        client = _client_step(t, kind, agents)
        if kind is StepKind.PROMPT:
            text = t.text("text", "")
    elif kind is StepKind.EXCHANGE:
        text = t.text("text")
        mentions = t.names("mentions", ())
        for mention in mentions:
            if agents.refuses(mention):
                t.report("mentions", f"expected agent names ({agents}), got {mention!r}")
    elif kind is StepKind.FINISH:
        outcome = t.choice("outcome", RunEnding, RunEnding.SUCCEEDED)
    step = Step(at, kind, actor, text, mentions, outcome, t.line(), client)
    t.finish()
    return step


_CLIENT_STEP_KEYS = ("pill", "action", "target", "to", "role", "link_role", "approve")
#: What a `pill-action` step may try: the menu's pane actions, and the control actions
#: the pill bar refuses (a step may show that refusal).
_PILL_ACTIONS = (*PANE_ACTIONS, *CONTROL_ACTIONS)


def _client_step(t: _Table, kind: StepKind, agents: _Names) -> ClientStep:
    """The keys of a viewer step, a share's `link_role` or the sharer's answer to a request."""
    if kind is StepKind.SHARE:
        return ClientStep(role=_role(t, "link_role") if t.has("link_role") else Role.READER)
    if kind in (StepKind.SELECT, StepKind.PILL_ACTION):
        pill = t.text("pill")
        if t.ok("pill") and agents.refuses(pill):
            t.report("pill", f"expected an agent name ({agents}), got {pill!r}")
        action = t.text("action") if kind is StepKind.PILL_ACTION else ""
        if kind is StepKind.PILL_ACTION and t.ok("action") and action not in _PILL_ACTIONS:
            valid = ", ".join(_PILL_ACTIONS)
            t.report("action", f"expected one of {valid}, got {action!r}")
        return ClientStep(pill=pill, action=action)
    if kind is StepKind.HANDOFF:
        return ClientStep(to=t.choice("to", ClientKind))
    if kind is StepKind.PROMPT:
        target = t.text("target") if t.has("target") else None
        if target is not None and t.ok("target") and agents.refuses(target):
            t.report("target", f"expected an agent name ({agents}), got {target!r}")
        return ClientStep(target=target)
    if kind is StepKind.REQUEST_ROLE:
        return ClientStep(role=_role(t, "role"))
    if kind is StepKind.ANSWER_ROLE:
        return ClientStep(approve=t.flag("approve", True))
    return ClientStep()


_ROLES = {role.value.lower(): role for role in Role}


def _role(t: _Table, key: str) -> Role:
    value = t.raw(key, expected="reader, executor or full")
    if value not in _ROLES:
        if value is not None:
            t.report(key, f"expected reader, executor or full, got {value!r}")
        return Role.READER
    return _ROLES[value]


def _expectation(t: _Table, viewers: _Names, agents: _Names) -> Expectation:
    profiles = _profiles(t)
    viewer = t.text("viewer")
    if t.ok("viewer") and viewers.refuses(viewer):
        t.report("viewer", f"expected one of {viewers}, got {viewer!r}")
    at = t.number("at") if t.has("at") else None
    after_faults = t.number("after_faults") if t.has("after_faults") else None
    without_faults = t.flag("without_faults", False)
    if after_faults is not None and without_faults:
        t.report("after_faults", "a check made without faults has no deadline after them")
    checks: dict[str, object] = {}
    for key, expected in CHECK_KEYS.items():
        if t.has(key):
            checks[key] = _check_value(t, key, expected, agents)
    if not checks:
        t.report(None, f"checks nothing; expected at least one of {', '.join(CHECK_KEYS)}")
    expectation = Expectation(profiles, viewer, at, checks, t.line(), after_faults, without_faults)
    t.finish()
    return expectation


def _profiles(t: _Table) -> tuple[Profile, ...]:
    valid = tuple(p.value for p in Profile)
    names = t.names("profiles", valid)
    for name in names:
        if name not in valid:
            t.report("profiles", f"expected profiles from {', '.join(valid)}, got {name!r}")
    return tuple(Profile(name) for name in names if name in valid)


def _check_value(t: _Table, key: str, expected: str, agents: _Names) -> object:
    if key in CLIENT_CHECK_KEYS:
        return _client_check_value(t, key, expected, agents)
    if key == "pill_bar":
        return t.flag(key, False)
    if key in ("pills", "loaded", "loading", "unavailable"):
        return t.names(key)
    value = t.raw(key, expected=expected)
    if key == "root":
        if value not in ("loading", "loaded", "unavailable"):
            t.report(key, f"expected {expected}, got {value!r}")
        return value
    if key in ("statuses", "names"):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            t.report(key, f"expected {expected}, got {value!r}")
            return {}
        for agent, shown in value.items():
            if agents.refuses(agent):
                t.report(f"{key}.{agent}", f"expected an agent name ({agents})")
            elif key == "statuses" and shown not in _STATUSES:
                t.report(f"{key}.{agent}", f"expected one of {', '.join(_STATUSES)}, got {shown!r}")
        return dict(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        t.report(key, f"expected {expected}, got {value!r}")
    return value


_CHOICES = {
    "client": tuple(kind.value for kind in ClientKind),
    "scope": ("parent", "child"),
    "copied": ("parent", "child"),
}


def _client_check_value(t: _Table, key: str, expected: str, agents: _Names) -> object:
    """A check of the viewer as a client, read and validated like the other checks."""
    if key in ("shows", "pill_actions", "actions"):
        return t.names(key)
    value = t.raw(key, expected=expected)
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            t.report(key, f"expected {expected}, got {value!r}")
        return value
    if key == "selected":
        if not isinstance(value, str) or agents.refuses(value):
            t.report(key, f"expected an agent name ({agents}), got {value!r}")
        return value
    if key == "roles":
        if not isinstance(value, dict) or not all(v in _ROLES for v in value.values()):
            t.report(key, f"expected {expected}, got {value!r}")
            return {}
        for agent in value:
            if agents.refuses(agent):
                t.report(f"{key}.{agent}", f"expected an agent name ({agents})")
        return dict(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        t.report(key, f"expected {expected}, got {value!r}")
    return value


# -- switches the file pins, and races -----------------------------------------------------------


def _switch_pins(top: _Table) -> dict[Profile, dict[str, bool]]:
    """`[switches]` sets switches under every profile, `[switches.PROFILE]` under one.

    A profile's own table wins over `[switches]` for that profile. The command line's
    `--set` wins over both; that is the runner's business, not the file's.
    """
    pins: dict[Profile, dict[str, bool]] = {profile: {} for profile in Profile}
    if not top.has("switches"):
        return pins
    table = top.table("switches")
    every = _switch_settings(table, profile_tables=True)
    for profile in Profile:
        pins[profile].update(every)
        if table.has(profile.value):
            pins[profile].update(_switch_settings(table.table(profile.value), profile_tables=False))
    table.finish()
    return pins


def _switch_settings(table: _Table, *, profile_tables: bool) -> dict[str, bool]:
    """The `SWITCH = true|false` lines of one switches table, each checked by name."""
    valid = Switches.names()
    profiles = tuple(p.value for p in Profile)
    settings: dict[str, bool] = {}
    for key in table.key_names():
        if profile_tables and key in profiles:
            continue  # read by the caller as [switches.PROFILE]
        if key not in valid:
            table.skip(key)
            tables = f"; or a table per profile: [switches.{'], [switches.'.join(profiles)}]"
            table.report(
                key,
                f"unknown switch {key!r}; valid switches: {', '.join(valid)}"
                + (tables if profile_tables else ""),
            )
            continue
        value = table.raw(key, expected="true or false")
        if isinstance(value, bool):
            settings[key] = value
        else:
            table.report(key, f"expected true or false, got {value!r}")
    return settings


def _marked_profiles(
    top: _Table, key: str, expectations: Sequence[Expectation], why: str
) -> tuple[Profile, ...]:
    """The profiles a top-level list names: `races` (the outcome depends on the
    interleaving, so `run` reports a race to explore) or `holes` (the design lacks what
    the expectations ask, so `run` reports a known hole). Each must have expectations."""
    valid = tuple(p.value for p in Profile)
    names = top.names(key, ())
    checked = {p for e in expectations for p in e.profiles}
    marked: list[Profile] = []
    for name in names:
        if name not in valid:
            top.report(key, f"expected profiles from {', '.join(valid)}, got {name!r}")
        elif Profile(name) not in checked:
            top.report(key, f"{name!r} has no expectations in this file, so {why}")
        elif Profile(name) not in marked:
            marked.append(Profile(name))
    return tuple(marked)


# -- steps the file's own timeline rules out --------------------------------------------------


def _client_timeline(
    steps: Sequence[tuple[_Table, Step]],
    viewer_tables: Sequence[_Table],
    viewers: Sequence[ViewerSpec],
) -> None:
    """Refuse a handoff to the client a viewer already uses, and a viewer opening the
    link of one that has copied none by the time it joins."""
    kinds = {viewer.name: viewer.client for viewer in viewers}
    for table, step in sorted(steps, key=lambda pair: pair[1].at):
        if step.kind is not StepKind.HANDOFF or step.actor not in kinds or not table.ok("to"):
            continue
        if step.client.to is kinds[step.actor]:
            table.report(
                "to",
                f"{step.actor} already uses the {step.client.to.value} client at "
                f"{step.at:g} s; a handoff goes to the other one",
            )
        kinds[step.actor] = step.client.to
    copies = [(step.actor, step.at) for _, step in steps if step.kind is StepKind.COPY_LINK]
    for table, viewer in zip(viewer_tables, viewers, strict=True):
        source = viewer.link_from
        if source is None or source not in kinds or not table.ok("link_from"):
            continue
        if not any(actor == source and at <= viewer.join_at for actor, at in copies):
            table.report(
                "link_from",
                f"{source} copies no link by {viewer.join_at:g} s, when {viewer.name} "
                f"joins; add a copy-link step for {source} before then",
            )


def _timeline(
    steps: Sequence[tuple[_Table, Step]],
    orchestrator_table: _Table,
    orchestrator: OrchestratorSpec,
    child_tables: Sequence[_Table],
    children: Sequence[ChildSpec],
    viewers: Sequence[ViewerSpec],
) -> None:
    """Refuse what the file itself says cannot happen: a step its actor cannot take yet
    (a child before its spawn, a `finish` before the first response, a `share` of a share
    still on, a `reconnect` with no `disconnect`), or a spawn before the first response.

    Only what the file decides is checked here; what depends on timing is left to the
    run, which logs such a step as doing nothing (`step_skipped`).
    """
    if orchestrator_table.ok("first_response_after"):
        for table, child in zip(child_tables, children, strict=True):
            if table.ok("spawn_at") and _before_first_response(orchestrator, child.spawn_at):
                table.report(
                    "spawn_at",
                    f"{orchestrator.name} spawns children from its responses and its first "
                    f"response is at {orchestrator.first_response_after:g} s, so {child.name} "
                    f"cannot be spawned at {child.spawn_at:g} s",
                )
    state = _StepState(orchestrator, {c.name: c for c in children}, viewers)
    for table, step in sorted(steps, key=lambda pair: pair[1].at):
        if all(table.ok(key) for key in ("at", "do", "actor")):
            problem = state.take(step)
            if problem is not None:
                table.report(*problem)


def _before_first_response(orchestrator: OrchestratorSpec, at: float) -> bool:
    """Whether `at` comes before a local orchestrator's first response (a cloud one answers
    at once)."""
    local = orchestrator.location is Location.LOCAL
    return local and at < orchestrator.first_response_after


class _StepState:
    """What the steps read so far say about each actor: shared, finished, disconnected."""

    def __init__(
        self,
        orchestrator: OrchestratorSpec,
        children: Mapping[str, ChildSpec],
        viewers: Sequence[ViewerSpec],
    ) -> None:
        self.orchestrator = orchestrator
        self.children = children
        self.joins = {v.name: v.join_at for v in viewers}
        self.shared: dict[str, Step] = {}
        self.finished: dict[str, Step] = {}
        self.disconnected: dict[str, Step] = {}

    def take(self, step: Step) -> tuple[str, str] | None:
        """(field, why) when the actor cannot take `step`; else note what it changed."""
        return self._present(step) or self._able(step)

    def _present(self, step: Step) -> tuple[str, str] | None:
        """Whether the actor is there at all when the step comes."""
        name, at, verb = step.actor, step.at, _VERBS[step.kind]
        child = self.children.get(name)
        if child is not None and child.launch_fails:
            return "actor", f"{name}'s launch fails (launch_fails = true): it never runs to {verb}"
        if child is not None and at <= child.spawn_at:
            return "at", (
                f"{name} is spawned at {child.spawn_at:g} s and exists once its run is created, "
                f"so it cannot {verb} at {at:g} s"
            )
        join = self.joins.get(name)
        if join is not None and at <= join:
            return "at", (
                f"{name} opens its link at {join:g} s (a step at the same time comes first), "
                f"so it cannot {verb} at {at:g} s"
            )
        for mention in step.mentions:
            spawned = self.children.get(mention)
            if spawned is not None and at <= spawned.spawn_at:
                return "mentions", (
                    f"{mention} is spawned at {spawned.spawn_at:g} s, so at {at:g} s it has "
                    "no run to mention"
                )
        return None

    def _able(self, step: Step) -> tuple[str, str] | None:
        """Whether the actor's own state, as the earlier steps left it, allows the step."""
        name, kind = step.actor, step.kind
        if kind is StepKind.SHARE:
            if self._location(name) is Location.REMOTE:
                return "actor", (
                    f"{name} runs in the cloud, where it is shared (as AmbientAgent) as soon as "
                    "it runs; there is no share for the user to start"
                )
            if self._on_cloud_driver(name):
                return "actor", (
                    f"{name} runs on the cloud driver of an agent in the cloud, not on the "
                    "user's client; it inherits that agent's share, there is none to start"
                )
            return self._once(self.shared, step, "is already shared", "stop-sharing it first")
        if kind is StepKind.STOP_SHARING:
            started = self.shared.pop(name, None)
            local_orchestrator = (
                self._location(name) is Location.LOCAL and name not in self.children
            )
            if started is None and local_orchestrator:
                return "do", f"{name} is not sharing at {step.at:g} s: no share step started one"
        elif kind is StepKind.FINISH:
            if name not in self.children and _before_first_response(self.orchestrator, step.at):
                return "at", (
                    f"{name} has no run before its first response at "
                    f"{self.orchestrator.first_response_after:g} s, so it cannot finish at "
                    f"{step.at:g} s"
                )
            return self._once(self.finished, step, "already finished", "a run ends once")
        elif kind is StepKind.DISCONNECT:
            return self._once(
                self.disconnected, step, "is already disconnected", "reconnect it first"
            )
        elif kind is StepKind.RECONNECT and self.disconnected.pop(name, None) is None:
            return "do", f"{name} is not disconnected at {step.at:g} s: no disconnect step before"
        return None

    @staticmethod
    def _once(
        taken: dict[str, Step], step: Step, state: str, advice: str
    ) -> tuple[str, str] | None:
        earlier = taken.get(step.actor)
        if earlier is not None:
            where = f"the step at line {earlier.line}" if earlier.line else "an earlier step"
            return "do", f"{step.actor} {state} by {where}; {advice}"
        taken[step.actor] = step
        return None

    def _on_cloud_driver(self, name: str) -> bool:
        """Whether a local child runs on a cloud driver: the nearest agent up its chain
        that is not local to its parent's host runs in the cloud."""
        child = self.children.get(name)
        while child is not None and child.location is Location.LOCAL:
            parent = child.parent or self.orchestrator.name
            if parent == self.orchestrator.name:
                return self.orchestrator.location is Location.REMOTE
            child = self.children.get(parent)
        return child is not None

    def _location(self, name: str) -> Location:
        child = self.children.get(name)
        return child.location if child is not None else self.orchestrator.location


#: What each kind of step has its actor do, for messages.
_VERBS = {
    StepKind.SHARE: "share",
    StepKind.STOP_SHARING: "stop sharing",
    StepKind.EXCHANGE: "take part in an exchange",
    StepKind.FINISH: "finish",
    StepKind.DISCONNECT: "be disconnected",
    StepKind.RECONNECT: "be reconnected",
    StepKind.SELECT: "select a pill",
    StepKind.COPY_LINK: "copy a link",
    StepKind.HANDOFF: "hand its view over",
    StepKind.PROMPT: "prompt",
    StepKind.PILL_ACTION: "use a pill's menu",
    StepKind.REQUEST_ROLE: "request a role",
    StepKind.ANSWER_ROLE: "answer role requests",
}
