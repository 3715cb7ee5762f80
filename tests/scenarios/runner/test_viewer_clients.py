"""What people do in viewers, played from the bundled scenarios: local to the viewer where the
spec says so, on the wire where the protocol carries it, and the same for the same seed."""

from __future__ import annotations

import pytest

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.runner import run_scenario


@pytest.mark.behaviour(23)
def test_selecting_a_pill_sends_nothing_to_the_sharer_or_anyone() -> None:
    """The selects in pill-selection happen at 60, 70 and 80 s; no frame leaves a viewer then."""
    result = run_scenario(catalog.load("pill-selection"), Profile.CURRENT)
    assert result.passed
    assert result.trace is not None
    from_viewers = [
        r for r in result.trace if r.src in ("alice", "bob") and r.t in (60.0, 70.0, 80.0)
    ]
    assert [r for r in from_viewers if r.dst == "session-server"] == []


@pytest.mark.behaviour(42, 43)
def test_prompts_and_role_requests_travel_as_the_crates_messages() -> None:
    result = run_scenario(catalog.load("request-access"), Profile.CURRENT)
    assert result.passed
    assert result.trace is not None
    sent = [
        (r.src, r.dst, r.type) for r in result.trace if r.channel.startswith(("viewer", "sharer"))
    ]
    assert ("alice", "session-server", "RequestRole") in sent
    assert ("session-server", "orchestrator", "RoleRequested") in sent
    assert ("orchestrator", "session-server", "RespondToRoleRequest") in sent
    assert ("session-server", "alice", "RoleRequestResponse") in sent
    assert ("session-server", "bob", "ParticipantRoleChanged") in sent
    assert ("session-server", "orchestrator", "AgentPromptRequested") in sent
    assert ("session-server", "bob", "AgentPromptRequestFailed") in sent


@pytest.mark.behaviour(18)
def test_a_handoff_closes_the_old_client_and_the_new_one_joins_afresh() -> None:
    result = run_scenario(catalog.load("open-in-desktop"), Profile.CURRENT)
    assert result.passed
    assert result.trace is not None
    joins = [r.src for r in result.trace if r.type == "Initialize" and r.channel == "viewer-up"]
    assert "parent-viewer@native" in joins
    assert "child-viewer@native" in joins


@pytest.mark.parametrize("name", ["request-access", "open-in-desktop", "copied-links"])
def test_the_same_seed_gives_the_same_trace(name: str) -> None:
    scenario = catalog.load(name)
    first = run_scenario(scenario, Profile.CURRENT, seed=5)
    second = run_scenario(scenario, Profile.CURRENT, seed=5)
    assert first.trace is not None
    assert second.trace is not None
    assert first.trace.to_jsonl() == second.trace.to_jsonl()
