"""The link-scope invariants can be broken: a wrong model of discovery is caught.

With grandchildren in the world, a parent link that listed every descendant would
show runs outside the orchestrator's direct child set (behaviour 38), and a child
link that listed its parent's children would show its siblings (behaviour 39). The
right model breaks neither; each wrong one below is injected into the task server,
the only place the viewer learns children from, and the monitor must name it.
"""

from __future__ import annotations

import pytest

from actors.rules.profiles import Profile
from actors.rules.task_store import TaskStore
from protocol.runs import RunRecord
from scenarios import catalog
from scenarios.runner import run_scenario

SCENARIO = "grandchildren"


def _violations(profile: Profile) -> dict[str, set[str]]:
    """Which viewers broke which invariant."""
    result = run_scenario(catalog.load(SCENARIO), profile)
    broken: dict[str, set[str]] = {}
    for violation in result.violations:
        broken.setdefault(violation.invariant, set()).add(violation.actor)
    return broken


def _parent_of(store: TaskStore, task_id: str) -> str | None:
    return next((r.parent_run_id for r in store.rows() if r.task_id == task_id), None)


def _descendants(direct: list[RunRecord], more: object) -> list[RunRecord]:
    """`direct`, then each one's own descendants, depth first, as `more(task_id)` lists them."""
    assert callable(more)
    found: list[RunRecord] = []
    for run in direct:
        found.append(run)
        found += more(run.task_id)
    return found


@pytest.fixture
def lists_all_descendants(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong model: discovery by an ancestor filter that reaches every level."""
    listed, since = TaskStore.list_children, TaskStore.children_since

    def every_level(
        self: TaskStore, principal: str, parent_run_id: str, **kwargs: object
    ) -> tuple[list[RunRecord], str | None]:
        direct, _ = listed(self, principal, parent_run_id)
        deeper = lambda task_id: every_level(self, principal, task_id)[0]  # noqa: E731
        return _descendants(direct, deeper), None

    def every_level_since(
        self: TaskStore, principal: str, parent_run_id: str, cursor: int | None
    ) -> list[RunRecord]:
        direct = since(self, principal, parent_run_id, None)
        deeper = lambda task_id: every_level_since(self, principal, task_id, None)  # noqa: E731
        return _descendants(direct, deeper)

    monkeypatch.setattr(TaskStore, "list_children", every_level)
    monkeypatch.setattr(TaskStore, "children_since", every_level_since)


@pytest.fixture
def lists_the_whole_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong model: a child's discovery also lists its parent's children, its siblings."""
    listed, since = TaskStore.list_children, TaskStore.children_since

    def with_siblings(
        self: TaskStore, principal: str, parent_run_id: str, **kwargs: object
    ) -> tuple[list[RunRecord], str | None]:
        runs, _ = listed(self, principal, parent_run_id)
        above = _parent_of(self, parent_run_id)
        if above is not None:
            runs = runs + listed(self, principal, above)[0]
        return runs, None

    def with_siblings_since(
        self: TaskStore, principal: str, parent_run_id: str, cursor: int | None
    ) -> list[RunRecord]:
        runs = since(self, principal, parent_run_id, cursor)
        above = _parent_of(self, parent_run_id)
        return runs + (since(self, principal, above, cursor) if above is not None else [])

    monkeypatch.setattr(TaskStore, "list_children", with_siblings)
    monkeypatch.setattr(TaskStore, "children_since", with_siblings_since)


@pytest.mark.parametrize("profile", Profile)
def test_the_right_model_keeps_every_link_in_scope(profile: Profile) -> None:
    assert _violations(profile) == {}


@pytest.mark.behaviour(38)
@pytest.mark.parametrize("profile", Profile)
@pytest.mark.usefixtures("lists_all_descendants")
def test_a_parent_link_that_lists_grandchildren_breaks_behaviour_38(profile: Profile) -> None:
    broken = _violations(profile)
    assert broken.get("parent-link-scope") == {"boss"}
    assert "child-link-scope" not in broken  # lead's children have no children


@pytest.mark.behaviour(17, 39)
@pytest.mark.parametrize("profile", Profile)
@pytest.mark.usefixtures("lists_the_whole_group")
def test_a_child_link_that_lists_its_siblings_breaks_behaviour_39(profile: Profile) -> None:
    broken = _violations(profile)
    # scout's link (reader) shows scribe too once it has loaded (not under legacy, where
    # scout's session never reaches its run); lead's link (watcher) shows helper always.
    assert "watcher" in broken.get("child-link-scope", set())
    assert "parent-link-scope" not in broken  # the orchestrator has no parent
