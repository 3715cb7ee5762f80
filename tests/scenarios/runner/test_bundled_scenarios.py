"""Every bundled scenario holds under every profile it declares; the core eight also over TCP."""

from __future__ import annotations

import pytest

from actors.rules.profiles import Profile
from actors.runtime.transport import Mode
from scenarios import catalog, report
from scenarios.matrix import TOPOLOGIES
from scenarios.runner import Verdict, run_scenario
from scenarios.schema import Scenario

SCENARIOS = catalog.load_all()
CASES = [pytest.param(s, p, id=f"{s.name}-{p.value}") for s in SCENARIOS for p in s.profiles]


def test_the_bundle_has_the_core_eight_and_the_edge_set() -> None:
    names = {s.name for s in SCENARIOS}
    assert set(TOPOLOGIES) <= names
    assert {
        "mixed-children",
        "catch-up-existing-children",
        "stop-share-cascade",
        "viewer-before-children",
        "child-finished-before-join",
        "child-launch-failure",
        "reconnect-while-children-change",
        "viewer-joins-before-first-response",
        "non-orchestrator-share",
        "link-only-viewer",
    } <= names


@pytest.mark.parametrize("name", TOPOLOGIES)
def test_core_topologies_declare_all_three_profiles(name: str) -> None:
    assert catalog.load(name).profiles == tuple(Profile)


@pytest.mark.parametrize(("scenario", "profile"), CASES)
def test_scenario_holds_in_memory(scenario: Scenario, profile: Profile) -> None:
    """Under a profile the file marks as a race, seed 0 proves nothing either way: the run
    must still check everything and break no invariant (test_races explores it). Under one
    it marks as a known hole, the hole must show: a marker must not outlive its hole."""
    result = run_scenario(scenario, profile)
    assert result.checked == len(scenario.expectations_for(profile))
    if profile in scenario.races:
        assert result.verdict is Verdict.RACE, report.failures(result)
    elif profile in scenario.holes:
        assert result.verdict is Verdict.HOLE, report.failures(result)
    else:
        assert result.passed, report.failures(result)


@pytest.mark.parametrize("name", TOPOLOGIES)
def test_core_topology_holds_over_tcp(name: str) -> None:
    result = run_scenario(catalog.load(name), Profile.CURRENT, mode=Mode.TCP)
    assert result.passed, report.failures(result)


def test_the_same_seed_gives_the_same_trace() -> None:
    scenario = catalog.load("reconnect-while-children-change")
    first = run_scenario(scenario, Profile.CURRENT, seed=7)
    second = run_scenario(scenario, Profile.CURRENT, seed=7)
    assert first.trace is not None
    assert second.trace is not None
    assert first.trace.to_jsonl() == second.trace.to_jsonl()
    assert len(first.trace) > 100
