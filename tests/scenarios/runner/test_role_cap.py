"""Behaviour 41 as a switch: the shipped client breaks it, the spec's cap keeps it.

The shipped client joins a hidden child pane with the child's secret only, so a
reader of the parent holds the child share's link role through its pill. Under
`cap_child_role_at_parent` the pane joins through the parent seat, the server caps
it, and the role-cap invariant holds the run to that.
"""

from __future__ import annotations

import pytest

from actors.rules.profiles import Profile
from actors.rules.session_store import SessionStore
from protocol.roles import Role
from scenarios import catalog
from scenarios.runner import RunResult, run_scenario

CAP = {"cap_child_role_at_parent": True}


def _run(settings: dict[str, bool] | None = None) -> RunResult:
    return run_scenario(catalog.load("share-roles"), Profile.CURRENT, settings=settings)


def _broken(result: RunResult) -> set[str]:
    return {v.invariant for v in result.violations}


@pytest.mark.behaviour(41)
def test_the_shipped_client_gives_a_child_pane_the_child_link_role() -> None:
    result = _run()
    assert not result.failures
    assert "role-cap" not in _broken(result)


@pytest.mark.behaviour(41)
def test_the_spec_cap_holds_the_pane_to_the_parent_role() -> None:
    result = _run(CAP)
    assert "role-cap" not in _broken(result)
    observed = [m.observed for f in result.failures for m in f.mismatches if m.key == "roles"]
    # The file expects the shipped executor; the cap shows the parent's reader role.
    assert observed == [{"orchestrator": "reader", "researcher": "reader", "reviewer": "reader"}]


def test_a_server_that_does_not_cap_breaks_the_role_cap_invariant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(SessionStore, "_seat_cap", lambda self, seat: Role.FULL)
    monkeypatch.setattr(SessionStore, "_parent_role", lambda self, route: Role.FULL)
    assert "role-cap" in _broken(_run(CAP))
