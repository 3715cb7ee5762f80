"""Fault plans: every fault of one run, with its times and targets, as plain data.

A seed generates a plan (`scenarios.faults.plan_faults`); a plan can also be
written down and given back, inline or as a TOML or JSON file, so a run can
replay, or an engineer can edit, exactly one schedule. What a plan leaves
open stays with the seed: the delay of each frame (drawn from the plan's
latency) and which of several matching connections a drop takes.

The inline form is items separated by `;`:

    latency:0.01+exp(0.25)              base 0.01 s plus exponential, mean 0.25 s
    latency:0.05+uniform(0.1)           base 0.05 s plus anywhere up to 0.1 s
    drop@12.5                           drop one connection, any, at 12.5 s
    drop:viewer@12.5                    one of viewer's connections
    drop:viewer>session-server@12.5     viewer's connection to the session server
    partition:viewer>task-server@10..25 viewer cannot reach the task server from 10 to 25 s

`none` (or nothing) is the plan without faults. Times are written exactly
(`repr` of the float), so a printed plan replays the same run.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

from actors.runtime.conditions import Drop, Latency, NetworkConditions, Partition, Spread
from scenarios.usage import UsageError

#: The servers a drop or a partition can name.
SERVERS = ("session-server", "task-server")
#: The inline plan without faults.
NO_FAULTS = "none"
#: How the inline form names each latency spread.
_SPREAD_WORDS = {Spread.EXPONENTIAL: "exp", Spread.UNIFORM: "uniform"}
#: The suffixes of plan files: TOML or JSON, the same tables in each.
FILE_SUFFIXES = (".toml", ".json")

Fault = Drop | Partition


class FaultPlanError(UsageError):
    """A fault plan that cannot be used: where (file and line or field, or inline item) and why."""


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """The latency, drops and partitions of one run, in the order they were planned.

    Order matters for replay: each drop takes one draw of the run's fault
    stream, in plan order (see `Drop.moment`).
    """

    latency: Latency | None = None
    drops: tuple[Drop, ...] = ()
    partitions: tuple[Partition, ...] = ()

    def __post_init__(self) -> None:
        for drop in self.drops:
            if drop.latest is not None:
                raise ValueError("a planned drop has one moment, not a window")

    def faults(self) -> tuple[Fault, ...]:
        """The drops and partitions, the faults a shrinker removes one at a time."""
        return (*self.drops, *self.partitions)

    def without(self, index: int) -> FaultPlan:
        """This plan without `faults()[index]`."""
        if index < len(self.drops):
            return replace(self, drops=self.drops[:index] + self.drops[index + 1 :])
        at = index - len(self.drops)
        return replace(self, partitions=self.partitions[:at] + self.partitions[at + 1 :])

    def with_latency(self, latency: Latency | None) -> FaultPlan:
        return replace(self, latency=latency)

    @property
    def empty(self) -> bool:
        return self.latency is None and not self.drops and not self.partitions

    def conditions(self) -> NetworkConditions:
        """Fresh network conditions that apply this plan (each run mutates its own)."""
        return NetworkConditions(
            latency=self.latency or Latency(), drops=self.drops, partitions=self.partitions
        )

    def __str__(self) -> str:
        return format_plan(self)


# -- the inline form -------------------------------------------------------------------------


def format_time(value: float) -> str:
    """A time or delay written exactly: `12`, `12.5`, `37.58249158963766`."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def format_fault(fault: Fault) -> str:
    if isinstance(fault, Partition):
        span = f"{format_time(fault.start)}..{format_time(fault.end)}"
        return f"partition:{fault.actor}>{fault.server}@{span}"
    target = ""
    if fault.actor is not None or fault.server is not None:
        target = ":" + (fault.actor or "*") + (f">{fault.server}" if fault.server else "")
    return f"drop{target}@{format_time(fault.at)}"


def format_latency(latency: Latency) -> str:
    text = f"latency:{format_time(latency.base)}"
    if latency.jitter:
        text += f"+{_SPREAD_WORDS[latency.spread]}({format_time(latency.jitter)})"
    return text


def format_plan(plan: FaultPlan) -> str:
    """The inline form `parse_plan` reads back to an equal plan; `none` when empty."""
    items = [format_latency(plan.latency)] if plan.latency is not None else []
    items += [format_fault(fault) for fault in plan.faults()]
    return "; ".join(items) or NO_FAULTS


def parse_plan(text: str, source: str = "--fault-plan") -> FaultPlan:
    """The inline form (see the module docstring) into a plan; `source` names it in errors."""
    items = [item.strip() for item in text.split(";")]
    items = [item for item in items if item]
    if items == [NO_FAULTS]:
        return FaultPlan()
    latency: Latency | None = None
    drops: list[Drop] = []
    partitions: list[Partition] = []
    for number, item in enumerate(items, 1):
        where = f"{source}: item {number} {item!r}"
        fault = _parse_item(item, where)
        if isinstance(fault, Latency):
            if latency is not None:
                raise FaultPlanError(f"{where}: a plan has one latency, this is the second")
            latency = fault
        elif isinstance(fault, Drop):
            drops.append(fault)
        else:
            partitions.append(fault)
    return FaultPlan(latency, tuple(drops), tuple(partitions))


_LATENCY = re.compile(
    r"latency:(?P<base>[^+]+)(?:\+(?P<spread>exp|uniform)\((?P<jitter>[^)]*)\))?",
)


def _parse_item(item: str, where: str) -> Fault | Latency:
    kind, _, rest = item.partition(":")
    kind, _, bare_time = kind.partition("@")
    if kind == "latency":
        match = _LATENCY.fullmatch(item)
        if match is None:
            raise FaultPlanError(f"{where}: expected latency:BASE or latency:BASE+exp(MEAN)")
        spread = Spread.EXPONENTIAL if match["spread"] == "exp" else Spread.UNIFORM
        base = _time(match["base"], where, "latency base")
        jitter = _time(match["jitter"], where, "latency jitter") if match["jitter"] else 0.0
        return Latency(base, jitter, spread)
    if kind == "drop":
        if bare_time:
            return Drop(at=_time(bare_time, where, "time"))
        target, at_sign, when = rest.partition("@")
        if not at_sign:
            raise FaultPlanError(f"{where}: expected drop@TIME or drop:ACTOR[>SERVER]@TIME")
        actor, _, server = target.partition(">")
        return Drop(
            at=_time(when, where, "time"),
            actor=None if actor in ("", "*") else actor,
            server=_server(server, where) if server else None,
        )
    if kind == "partition":
        target, at_sign, span = rest.partition("@")
        actor, gt, server = target.partition(">")
        start, dots, end = span.partition("..")
        if not (at_sign and gt and dots and actor):
            raise FaultPlanError(f"{where}: expected partition:ACTOR>SERVER@START..END")
        return _partition(
            actor,
            _server(server, where),
            _time(start, where, "start"),
            _time(end, where, "end"),
            where,
        )
    raise FaultPlanError(f"{where}: unknown fault {kind!r}; faults: latency, drop, partition")


def _time(text: str, where: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultPlanError(f"{where}: {what} {text.strip()!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise FaultPlanError(f"{where}: {what} must be a finite number from 0, got {text!r}")
    return value


def _server(name: str, where: str) -> str:
    if name not in SERVERS:
        raise FaultPlanError(f"{where}: unknown server {name!r}; servers: {', '.join(SERVERS)}")
    return name


def _partition(actor: str, server: str, start: float, end: float, where: str) -> Partition:
    if end <= start:
        raise FaultPlanError(f"{where}: a partition must end after it starts ({start:g}..{end:g})")
    return Partition(actor, server, start, end)


# -- files ---------------------------------------------------------------------------------


def plan_to_dict(plan: FaultPlan) -> dict[str, object]:
    """The plan as a TOML or JSON file holds it (`plan_from_dict` reads it back)."""
    data: dict[str, object] = {}
    if plan.latency is not None:
        data["latency"] = {
            "base": plan.latency.base,
            "jitter": plan.latency.jitter,
            "spread": plan.latency.spread.value,
        }
    data["drops"] = [
        {
            "at": drop.at,
            **({"actor": drop.actor} if drop.actor else {}),
            **({"server": drop.server} if drop.server else {}),
        }
        for drop in plan.drops
    ]
    data["partitions"] = [
        {"actor": p.actor, "server": p.server, "start": p.start, "end": p.end}
        for p in plan.partitions
    ]
    return data


def load_plan_file(path: Path) -> FaultPlan:
    """A TOML or JSON plan file; mistakes name the file, the line where known, and the field."""
    if path.suffix not in FILE_SUFFIXES:
        raise FaultPlanError(f"{path}: a fault plan file ends in .toml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FaultPlanError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise FaultPlanError(f"{path}: not UTF-8 text") from None
    data: object
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise FaultPlanError(f"{path}:{error.lineno}: not JSON: {error.msg}") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise FaultPlanError(f"{path}: not TOML: {error}") from None
    lines = text.splitlines() if path.suffix == ".toml" else []
    return plan_from_dict(data, lambda field: _where(path, lines, field))


def read_plan(value: str) -> FaultPlan:
    """`--fault-plan`'s value: a file when it names one (or ends .toml/.json), else inline."""
    path = Path(value)
    if path.suffix in FILE_SUFFIXES or path.is_file():
        if not path.is_file():
            raise FaultPlanError(f"--fault-plan {value}: no such file")
        return load_plan_file(path)
    return parse_plan(value)


def plan_from_dict(data: object, where: Callable[[str], str]) -> FaultPlan:
    """A plan from a file's data; `where(field)` says where a field is (`file:line: `)."""
    root = _Fields(data, "", where)
    latency = None
    if (fields := root.table("latency")) is not None:
        spreads = [spread.value for spread in Spread]
        spread = fields.text("spread", Spread.UNIFORM.value)
        if spread not in spreads:
            fields.fail("spread", f"expected one of {', '.join(spreads)}, got {spread!r}")
        latency = Latency(fields.time("base"), fields.time("jitter", 0.0), Spread(spread))
        fields.finish()
    drops = []
    for fields in root.tables("drops"):
        at = fields.time("at")
        actor = fields.text("actor", None)
        drops.append(Drop(at=at, actor=actor, server=fields.server(required=False)))
        fields.finish()
    partitions = []
    for fields in root.tables("partitions"):
        actor, server = fields.text("actor"), fields.server(required=True)
        start, end = fields.time("start"), fields.time("end")
        if end <= start:
            fields.fail("end", f"a partition must end after it starts ({start:g}..{end:g})")
        partitions.append(Partition(actor or "", server or "", start, end))
        fields.finish()
    root.finish()
    return FaultPlan(latency, tuple(drops), tuple(partitions))


#: A field that must be present.
_REQUIRED = object()


class _Fields:
    """One table of a plan file, read field by field; the first mistake is the error."""

    def __init__(self, data: object, path: str, where: Callable[[str], str]) -> None:
        self._path = path
        self._where = where
        if not isinstance(data, dict):
            raise FaultPlanError(f"{where(path)}{path or 'the plan'}: expected a table")
        self._data: Mapping[str, object] = data
        self._used: set[str] = set()

    def _field(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def fail(self, key: str, message: str) -> NoReturn:
        field = self._field(key)
        raise FaultPlanError(f"{self._where(field)}{field}: {message}")

    def _get(self, key: str, default: object) -> object:
        self._used.add(key)
        if key in self._data:
            return self._data[key]
        if default is _REQUIRED:
            self.fail(key, "missing")
        return default

    def time(self, key: str, default: float | None = None) -> float:
        value = self._get(key, _REQUIRED if default is None else default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"expected a number of seconds, got {value!r}")
        if not math.isfinite(value) or value < 0:
            self.fail(key, f"expected a finite number of seconds from 0, got {value!r}")
        return float(value)

    def text(self, key: str, default: object = _REQUIRED) -> str | None:
        value = self._get(key, default)
        if value is None or (isinstance(value, str) and value):
            return value
        self.fail(key, f"expected a name, got {value!r}")

    def server(self, *, required: bool) -> str | None:
        name = self.text("server", _REQUIRED if required else None)
        if name is not None and name not in SERVERS:
            self.fail("server", f"unknown server {name!r}; servers: {', '.join(SERVERS)}")
        return name

    def table(self, key: str) -> _Fields | None:
        value = self._get(key, None)
        return None if value is None else _Fields(value, self._field(key), self._where)

    def tables(self, key: str) -> list[_Fields]:
        value = self._get(key, [])
        if not isinstance(value, list):
            self.fail(key, f"expected a list of tables ([[{key}]]), got {value!r}")
        return [
            _Fields(item, f"{self._field(key)}[{index}]", self._where)
            for index, item in enumerate(value)
        ]

    def finish(self) -> None:
        """Refuse keys nobody read: a typo must not pass silently."""
        unknown = sorted(set(self._data) - self._used)
        if unknown:
            self.fail(unknown[0], "unknown key")


def _where(path: Path, lines: list[str], field: str) -> str:
    """`file:line: ` for a dotted field such as `drops[1].at` (the line best effort)."""
    line = _line_of(lines, field) if field else None
    return f"{path}:{line}: " if line else f"{path}: "


def _line_of(lines: list[str], field: str) -> int | None:
    """The TOML line that sets `field`, else the header of its table."""
    match = re.fullmatch(r"(\w+)(?:\[(\d+)\])?(?:\.(\w+))?", field)
    if match is None:
        return None
    table, index, key = match.groups()
    if index is None and key is None:
        setting = re.compile(rf"^\s*{table}\s*=")
        return next((n + 1 for n, text in enumerate(lines) if setting.match(text)), None)
    header = re.compile(rf"^\s*\[\[\s*{table}\s*\]\]" if index else rf"^\s*\[\s*{table}\s*\]")
    headers = [n for n, text in enumerate(lines) if header.match(text)]
    number = int(index or 0)
    if number >= len(headers):
        return None
    start = headers[number]
    if key is not None:
        setting = re.compile(rf"^\s*{key}\s*=")
        for n in range(start + 1, len(lines)):
            if lines[n].lstrip().startswith("["):
                break
            if setting.match(lines[n]):
                return n + 1
    return start + 1
