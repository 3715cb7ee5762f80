"""Comparing what a viewer shows with what a scenario expects: pure functions.

Scenario files speak of agents by name; observations speak of task ids. The
caller supplies the mapping, so the comparison itself needs no running system.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from actors.viewers.viewer import Observation
from scenarios.schema import Expectation

NOT_MENTIONED = "(not mentioned)"
NOT_A_CHILD = "(not on the pill bar)"
NOT_JOINED = "(no joined view)"
#: What a client check shows when the viewer has nothing for it (no link copied yet, no
#: agent selected that the scenario knows by name).
NOTHING = "(nothing)"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One check that did not hold: the key, what the file said, what the viewer showed."""

    key: str
    expected: object
    observed: object


@dataclass(frozen=True, slots=True)
class Comparison:
    """One check of an expectation, held or not: the key, what the file said, what was seen."""

    key: str
    expected: object
    observed: object
    held: bool


def check(
    expectation: Expectation,
    observation: Observation,
    *,
    task_ids: Mapping[str, str],
    task_requests: int,
) -> list[Mismatch]:
    """Every check of `expectation` that `observation` breaks, in the file's order."""
    return [
        Mismatch(c.key, c.expected, c.observed)
        for c in compare(expectation, observation, task_ids=task_ids, task_requests=task_requests)
        if not c.held
    ]


def compare(
    expectation: Expectation,
    observation: Observation,
    *,
    task_ids: Mapping[str, str],
    task_requests: int,
) -> list[Comparison]:
    """Every check of `expectation` against `observation`, in the file's order."""
    observed = observed_values(observation, task_ids=task_ids, task_requests=task_requests)
    comparisons = []
    for key, expected in expectation.checks.items():
        if key.startswith(("max_", "min_")):
            actual = observed[key[4:]]
            assert isinstance(actual, int)
            assert isinstance(expected, int)
            if key.startswith("max_"):
                comparisons.append(Comparison(key, f"<= {expected}", actual, actual <= expected))
            else:
                comparisons.append(Comparison(key, f">= {expected}", actual, actual >= expected))
            continue
        actual = observed.get(key, NOTHING)
        if key in ("statuses", "names", "roles"):
            assert isinstance(expected, dict)
            assert isinstance(actual, dict)
            actual = {agent: actual.get(agent, _missing(key)) for agent in expected}
        if key in ("loaded", "loading", "unavailable"):
            assert isinstance(expected, tuple)
            assert isinstance(actual, tuple)
            expected, actual = sorted(expected), sorted(actual)
        held = actual == (list(expected) if isinstance(expected, tuple) else expected)
        comparisons.append(Comparison(key, expected, actual, held))
    return comparisons


def _missing(key: str) -> str:
    if key == "roles":
        return NOT_JOINED
    return NOT_A_CHILD if key == "statuses" else NOT_MENTIONED


def observed_values(
    observation: Observation, *, task_ids: Mapping[str, str], task_requests: int
) -> dict[str, object]:
    """What the viewer shows, keyed and shaped like the checks in a scenario file."""
    snapshot = observation.snapshot
    names = {task_id: name for name, task_id in task_ids.items()}
    panes = snapshot.panes

    def panes_in(state: str) -> tuple[str, ...]:
        return tuple(names.get(p.task_id, p.name) for p in panes if p.state.value == state)

    return {
        "root": snapshot.root.value,
        "pill_bar": snapshot.pill_bar_visible,
        "pills": [pill.label for pill in snapshot.pills],
        "statuses": {
            names.get(pill.task_id, pill.label): pill.status.value
            for pill in snapshot.pills
            if pill.task_id is not None and pill.status is not None
        },
        "loaded": panes_in("loaded"),
        "loading": panes_in("loading"),
        "unavailable": panes_in("unavailable"),
        "names": {
            names.get(ref.agent_id, ref.agent_id): ref.resolved.label for ref in snapshot.references
        },
        "fetches": observation.stats.fetches,
        "redundant_fetches": observation.stats.redundant_fetches,
        "task_requests": task_requests,
        **client_values(observation, names),
    }


def client_values(observation: Observation, names: Mapping[str, str]) -> dict[str, object]:
    """What the viewer shows as a client, with agent names for task ids (`names`).

    Only what a scenario file can say is included: a run the scenario does not know
    by name is left out rather than shown as an id, so `--show` output is a valid file.
    """
    client = observation.client
    if client is None:
        return {}

    def name(task_id: str | None) -> str | None:
        return names.get(task_id) if task_id is not None else None

    values: dict[str, object] = {"client": client.client.value, "scope": client.scope.value}
    selected = name(client.selected if client.selected is not None else client.own_run)
    if selected is not None:
        values["selected"] = selected
    values["shows"] = list(client.shows)
    values["visible_surfaces"] = client.visible_surfaces
    values["pill_actions"] = list(client.pill_actions)
    if client.copied is not None:
        values["copied"] = client.copied.scope.value
    values["actions"] = [
        f"{a.action} {name(a.target) or a.target}: {a.result}" for a in client.actions
    ]
    roles = {
        name(client.own_run if key == "root" else key): role.value.lower()
        for key, role in client.roles.items()
    }
    values["roles"] = {agent: role for agent, role in roles.items() if agent is not None}
    return values
