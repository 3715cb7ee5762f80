"""Scenario files: what a TOML file may say, read into plain frozen data.

Every mistake is a `ScenarioError` naming the file, the line where it can be
found, the field (as a dotted path such as `children[2].location`) and what
was expected. Unknown keys are errors: a typo must never pass silently.
"""

from __future__ import annotations

import enum
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from actors.hosts.agents import Location
from actors.rules.profiles import Profile
from actors.viewers.viewer import OpenBy

E = TypeVar("E", bound=enum.Enum)


class ScenarioError(Exception):
    """A scenario file that cannot be used, and exactly why."""

    def __init__(
        self, file: Path | str, message: str, *, field: str | None = None, line: int | None = None
    ):
        self.file = str(file)
        self.field = field
        self.line = line
        self.message = message
        where = self.file + (f":{line}" if line else "")
        what = f"{field}: " if field else ""
        super().__init__(f"{where}: {what}{message}")


class StepKind(enum.Enum):
    SHARE = "share"
    STOP_SHARING = "stop-sharing"
    EXCHANGE = "exchange"
    FINISH = "finish"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"


class Outcome(enum.Enum):
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


@dataclass(frozen=True, slots=True)
class ViewerSpec:
    name: str
    opens: str
    join_at: float
    user: str
    open_by: OpenBy | None
    team: bool


@dataclass(frozen=True, slots=True)
class Step:
    at: float
    kind: StepKind
    actor: str
    text: str = ""
    mentions: tuple[str, ...] = ()
    outcome: Outcome = Outcome.SUCCEEDED
    line: int | None = None


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
    "redundant_fetches": "a whole number",
    "max_task_requests": "a whole number",
}


@dataclass(frozen=True, slots=True)
class Expectation:
    """What one viewer must show, under some profiles, at a time or at the end."""

    profiles: tuple[Profile, ...]
    viewer: str
    at: float | None
    checks: Mapping[str, object]
    line: int | None = None


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

    @property
    def profiles(self) -> tuple[Profile, ...]:
        """The profiles this scenario has expectations for, in profile order."""
        declared = {p for e in self.expectations for p in e.profiles}
        return tuple(p for p in Profile if p in declared)

    def expectations_for(self, profile: Profile) -> tuple[Expectation, ...]:
        return tuple(e for e in self.expectations if profile in e.profiles)

    def agent_names(self) -> tuple[str, ...]:
        return (self.orchestrator.name, *(c.name for c in self.children))


# -- reading -------------------------------------------------------------------------------------


class _Table:
    """One TOML table being read: tracks its path and which keys were used."""

    def __init__(self, source: _Source, data: Mapping[str, Any], path: str) -> None:
        self._source = source
        self._data = data
        self.path = path
        self._used: set[str] = set()

    def _field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | None, message: str) -> ScenarioError:
        field = self._field(key) if key else (self.path or None)
        return ScenarioError(
            self._source.path, message, field=field, line=self._source.line_of(field)
        )

    def has(self, key: str) -> bool:
        return key in self._data

    def raw(self, key: str, default: object = ..., *, expected: str) -> Any:
        self._used.add(key)
        if key not in self._data:
            if default is ...:
                raise self.error(key, f"missing; expected {expected}")
            return default
        return self._data[key]

    def text(self, key: str, default: object = ...) -> str:
        value = self.raw(key, default, expected="a string")
        if not isinstance(value, str) or (default is ... and not value.strip()):
            raise self.error(key, f"expected a non-empty string, got {value!r}")
        return value

    def number(self, key: str, default: object = ..., *, minimum: float = 0.0) -> float:
        value = self.raw(key, default, expected="a number of seconds")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.error(key, f"expected a number, got {value!r}")
        if value < minimum:
            raise self.error(key, f"expected a number >= {minimum:g}, got {value!r}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key, default, expected="true or false")
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}")
        return value

    def choice(self, key: str, kind: type[E], default: object = ...) -> E:
        options = ", ".join(str(m.value) for m in kind)
        value = self.raw(key, default, expected=f"one of {options}")
        if isinstance(value, kind):
            return value
        for member in kind:
            if member.value == value:
                return member
        raise self.error(key, f"expected one of {options}, got {value!r}")

    def names(self, key: str, default: object = ...) -> tuple[str, ...]:
        value = self.raw(key, default, expected="a list of names")
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"expected a list of names, got {value!r}")
        return tuple(value)

    def table(self, key: str) -> _Table:
        value = self.raw(key, expected="a table")
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {value!r}")
        return _Table(self._source, value, self._field(key))

    def tables(self, key: str, *, required: bool = True) -> list[_Table]:
        value = self.raw(key, ... if required else [], expected=f"one or more [[{key}]] tables")
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(key, f"expected [[{key}]] tables, got {value!r}")
        return [_Table(self._source, v, f"{self._field(key)}[{i}]") for i, v in enumerate(value)]

    def finish(self) -> None:
        """Refuse keys nobody read: a typo must not pass silently."""
        for key in self._data:
            if key not in self._used:
                raise self.error(key, "unknown key")

    def line(self) -> int | None:
        return self._source.line_of(self.path)


#: A table header line: `[name]` or `[[name]]`, perhaps with a comment after it.
_HEADER = re.compile(r"^\s*\[{1,2}[^\[\]=,]+\]{1,2}\s*(#.*)?$")


@dataclass(frozen=True)
class _Source:
    path: Path
    text: str

    def line_of(self, field: str | None) -> int | None:
        """Best-effort line of a dotted field path such as `children[2].location`.

        The line that sets the field, else the header of the table it belongs in (a missing
        top-level key has no line). Keys are looked for only inside their own table, so a key
        missing from one table is never placed at the same key in the next.
        """
        if not field:
            return None
        lines = self.text.splitlines()
        found: int | None = None
        start, end = 0, _table_end(lines, -1)
        for part in field.split("."):
            match = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", part)
            if match is None:
                break
            key, index = match.group(1), match.group(2)
            if index is not None:
                headers = _headers(lines, rf"\[\[\s*{re.escape(key)}\s*\]\]", start)
                if int(index) >= len(headers):
                    return None
                found = headers[int(index)]
            else:
                setting = re.compile(rf"^\s*{re.escape(key)}\s*=")
                line = next((n for n in range(start, end) if setting.match(lines[n])), None)
                if line is not None:
                    return line + 1  # deeper keys sit in this line's inline table
                headers = _headers(lines, rf"\[\s*{re.escape(key)}\s*\]", start)
                if not headers:
                    break
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


def load_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file."""
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
    return _scenario(_Table(_Source(path, text), data, ""), path)


def _scenario(top: _Table, path: Path) -> Scenario:
    name = top.text("name")
    if name != path.stem:
        raise top.error("name", f"must match the file name {path.stem!r}, got {name!r}")
    orchestrator = _orchestrator(top.table("orchestrator"))
    children = tuple(_child(t) for t in top.tables("children", required=False))
    agents = (orchestrator.name, *(c.name for c in children))
    _unique(top, "children", agents)
    viewers = tuple(_viewer(t, agents) for t in top.tables("viewers"))
    _unique(top, "viewers", tuple(v.name for v in viewers) + agents)
    actors = agents + tuple(v.name for v in viewers)
    steps = tuple(
        sorted(
            (_step(t, agents, actors) for t in top.tables("steps", required=False)),
            key=lambda s: s.at,
        )
    )
    expectations = tuple(
        _expectation(t, tuple(v.name for v in viewers), agents) for t in top.tables("expect")
    )
    scenario = Scenario(
        name=name,
        description=top.text("description"),
        path=path,
        default_profile=top.choice("default_profile", Profile, Profile.CURRENT),
        duration=top.number("duration", minimum=1.0),
        behaviours=tuple(
            int(b) for b in top.raw("behaviours", [], expected="a list of behaviour numbers")
        ),
        orchestrator=orchestrator,
        children=children,
        viewers=viewers,
        steps=steps,
        expectations=expectations,
    )
    top.finish()
    last = max(
        [s.at for s in steps]
        + [c.spawn_at for c in children]
        + [v.join_at for v in viewers]
        + [0.0]
    )
    if scenario.duration < last:
        raise top.error(
            "duration", f"expected at least {last:g} s (the last step), got {scenario.duration:g}"
        )
    return scenario


def _unique(top: _Table, key: str, names: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise top.error(
                key, f"the name {name!r} is used twice; agents and viewers need distinct names"
            )
        seen.add(name)


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
    )
    t.finish()
    return spec


def _viewer(t: _Table, agents: tuple[str, ...]) -> ViewerSpec:
    opens = t.text("opens")
    if opens not in agents:
        raise t.error(
            "opens", f"expected the name of an agent ({', '.join(agents)}), got {opens!r}"
        )
    access = t.raw("access", "team", expected="team or link")
    if access not in ("team", "link"):
        raise t.error("access", f"expected team or link, got {access!r}")
    spec = ViewerSpec(
        name=t.text("name"),
        opens=opens,
        join_at=t.number("join_at"),
        user=t.text("user", t.text("name")),
        open_by=t.choice("open_by", OpenBy, None) if t.has("open_by") else None,
        team=access == "team",
    )
    t.finish()
    return spec


def _step(t: _Table, agents: tuple[str, ...], actors: tuple[str, ...]) -> Step:
    kind = t.choice("do", StepKind)
    allowed = actors if kind in (StepKind.DISCONNECT, StepKind.RECONNECT) else agents
    actor = t.text("actor")
    if actor not in allowed:
        raise t.error("actor", f"expected one of {', '.join(allowed)}, got {actor!r}")
    text, outcome = "", Outcome.SUCCEEDED
    mentions: tuple[str, ...] = ()
    if kind is StepKind.EXCHANGE:
        text = t.text("text")
        mentions = t.names("mentions", ())
        for mention in mentions:
            if mention not in agents:
                raise t.error(
                    "mentions", f"expected agent names ({', '.join(agents)}), got {mention!r}"
                )
    if kind is StepKind.FINISH:
        outcome = t.choice("outcome", Outcome, Outcome.SUCCEEDED)
    step = Step(t.number("at"), kind, actor, text, mentions, outcome, t.line())
    t.finish()
    return step


def _expectation(t: _Table, viewers: tuple[str, ...], agents: tuple[str, ...]) -> Expectation:
    viewer = t.text("viewer")
    if viewer not in viewers:
        raise t.error("viewer", f"expected one of {', '.join(viewers)}, got {viewer!r}")
    profiles = tuple(Profile(p) for p in _profiles(t))
    at = t.number("at") if t.has("at") else None
    checks: dict[str, object] = {}
    for key, expected in CHECK_KEYS.items():
        if t.has(key):
            checks[key] = _check_value(t, key, expected, agents)
    if not checks:
        raise t.error(None, f"checks nothing; expected at least one of {', '.join(CHECK_KEYS)}")
    expectation = Expectation(profiles, viewer, at, checks, t.line())
    t.finish()
    return expectation


def _profiles(t: _Table) -> tuple[str, ...]:
    valid = tuple(p.value for p in Profile)
    names = t.names("profiles", valid)
    for name in names:
        if name not in valid:
            raise t.error("profiles", f"expected profiles from {', '.join(valid)}, got {name!r}")
    return names


def _check_value(t: _Table, key: str, expected: str, agents: tuple[str, ...]) -> object:
    value = t.raw(key, expected=expected)
    if key == "pill_bar":
        return t.flag(key, False)
    if key == "root":
        if value not in ("loading", "loaded", "unavailable"):
            raise t.error(key, f"expected {expected}, got {value!r}")
        return value
    if key in ("pills", "loaded", "loading", "unavailable"):
        return t.names(key)
    if key in ("statuses", "names"):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise t.error(key, f"expected {expected}, got {value!r}")
        for agent in value:
            if agent not in agents:
                raise t.error(f"{key}.{agent}", f"expected an agent name ({', '.join(agents)})")
        return dict(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise t.error(key, f"expected {expected}, got {value!r}")
    return value
