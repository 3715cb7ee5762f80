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


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One check that did not hold: the key, what the file said, what the viewer showed."""

    key: str
    expected: object
    observed: object


def check(
    expectation: Expectation,
    observation: Observation,
    *,
    task_ids: Mapping[str, str],
    task_requests: int,
) -> list[Mismatch]:
    """Every check of `expectation` that `observation` breaks, in the file's order."""
    observed = observed_values(observation, task_ids=task_ids, task_requests=task_requests)
    mismatches = []
    for key, expected in expectation.checks.items():
        if key.startswith("max_"):
            actual = observed[key.removeprefix("max_")]
            assert isinstance(actual, int)
            assert isinstance(expected, int)
            if actual > expected:
                mismatches.append(Mismatch(key, f"<= {expected}", actual))
            continue
        actual = observed[key]
        if key in ("statuses", "names", "roles"):
            assert isinstance(expected, dict)
            assert isinstance(actual, dict)
            actual = {agent: actual.get(agent, _missing(key)) for agent in expected}
        if key in ("loaded", "loading", "unavailable"):
            assert isinstance(expected, tuple)
            assert isinstance(actual, tuple)
            expected, actual = sorted(expected), sorted(actual)
        if actual != (list(expected) if isinstance(expected, tuple) else expected):
            mismatches.append(Mismatch(key, expected, actual))
    return mismatches


def _missing(key: str) -> str:
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
    """What the viewer shows as a client, with agent names for task ids (`names`)."""
    client = observation.client
    if client is None:
        return {}

    def name(task_id: str | None) -> str:
        return names.get(task_id, task_id) if task_id is not None else "(none)"

    selected = client.selected if client.selected is not None else client.own_run
    return {
        "client": client.client.value,
        "scope": client.scope.value,
        "selected": name(selected),
        "shows": list(client.shows),
        "visible_surfaces": client.visible_surfaces,
        "pill_actions": list(client.pill_actions),
        "copied": client.copied.scope.value if client.copied is not None else "(nothing copied)",
        "actions": [f"{a.action} {name(a.target)}: {a.result}" for a in client.actions],
        "roles": {
            name(client.own_run if key == "root" else key): role.value.lower()
            for key, role in client.roles.items()
        },
    }
