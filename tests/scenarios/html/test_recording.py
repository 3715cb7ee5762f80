"""A recording sees each viewer over time and changes nothing about the run it records."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator

import pytest
import structlog

from actors.rules.profiles import Profile
from actors.runtime.logs import configure_logging
from scenarios import catalog
from scenarios.faults import FaultKind
from scenarios.recording import LogCapture, Recording, Sample
from scenarios.runner import RunResult, run_scenario

ALL_FAULTS = frozenset(FaultKind)


def _outcome(result: RunResult) -> tuple[object, ...]:
    assert result.trace is not None
    return (
        result.trace.digest(),
        result.failures,
        result.violations,
        result.observations,
        result.checked,
        result.task_requests,
    )


@pytest.mark.parametrize(
    ("name", "seed", "faults"),
    [
        ("local-local-share-parent", 0, frozenset()),
        ("reconnect-while-children-change", 0, frozenset()),
        ("share-around-first-response", 1, ALL_FAULTS),
        ("remote-local-share-parent", 7, ALL_FAULTS),
    ],
)
def test_a_recorded_run_is_the_same_run(name: str, seed: int, faults: frozenset[FaultKind]) -> None:
    scenario = catalog.load(name)
    plain = run_scenario(scenario, Profile.CURRENT, seed=seed, faults=faults)
    recording = Recording()
    recorded = run_scenario(
        scenario, Profile.CURRENT, seed=seed, faults=faults, recording=recording
    )
    assert _outcome(recorded) == _outcome(plain)
    assert recording.samples, "the recording saw no viewer"


def _final(samples: list[Sample]) -> dict[str, tuple[str | None, str | None]]:
    return {p.label: (p.status, p.pane) for p in samples[-1].state.pills}


def test_the_pill_bar_over_time_of_a_parent_link() -> None:
    recording = Recording()
    run_scenario(catalog.load("local-local-share-parent"), Profile.CURRENT, recording=recording)
    samples = recording.samples["viewer"]
    # Opening and joining take no virtual time in memory; one instant keeps one sample.
    assert samples[0].t == 20.0
    assert samples[0].state.root == "loaded"
    assert [s.t for s in samples] == sorted(s.t for s in samples)
    assert all(a.state != b.state for a, b in itertools.pairwise(samples))
    assert any(s.t == 40.0 for s in samples), "the researcher finished at 40 s"
    assert _final(samples) == {
        "Orchestrator": (None, None),
        "researcher": ("success", "loaded"),
        "writer": ("in_progress", "loaded"),
    }


def test_a_pane_that_stays_loading_is_seen_loading_to_the_end() -> None:
    recording = Recording()
    result = run_scenario(
        catalog.load("remote-local-share-parent"), Profile.LEGACY, recording=recording
    )
    samples = recording.samples["viewer"]
    panes = {pane for pane in (p.pane for p in samples[-1].state.pills) if pane}
    assert panes == {"loading"}
    first_loading = next(s.t for s in samples if any(p.pane == "loading" for p in s.state.pills))
    assert first_loading < result.end_time


def test_faults_and_overrides_are_noted() -> None:
    recording = Recording()
    profile = Profile.CURRENT
    run_scenario(
        catalog.load("share-around-first-response"),
        profile,
        seed=1,
        faults=ALL_FAULTS,
        settings={"discover_user_shares": False},
        recording=recording,
    )
    assert recording.faults == "latency,drop,partition"
    assert recording.overrides == {"discover_user_shares": False}
    assert len(recording.partitions) == 1


def test_disconnect_steps_are_partitions() -> None:
    recording = Recording()
    run_scenario(
        catalog.load("reconnect-while-children-change"), Profile.CURRENT, recording=recording
    )
    actors = {p.actor for p in recording.partitions}
    assert actors
    assert {p.server for p in recording.partitions} == {"session-server", "task-server"}


@pytest.fixture
def unconfigure_logging() -> Iterator[None]:
    """Leave structlog as other tests expect it: unconfigured."""
    try:
        yield
    finally:
        structlog.reset_defaults()


@pytest.mark.usefixtures("unconfigure_logging")
def test_log_events_know_their_place_in_the_trace() -> None:
    recording = Recording()
    capture = LogCapture(also=None)
    capture.recording = recording
    configure_logging(json_stream=capture, console=io.StringIO())
    result = run_scenario(
        catalog.load("local-local-share-parent"), Profile.CURRENT, recording=recording
    )
    assert result.trace is not None
    records = list(result.trace)
    joined = next(e for e in recording.events() if e.event == "joined")
    assert joined.t == 20.0
    assert joined.fields["actor"] == "viewer"
    assert records[joined.position - 1].type == "JoinedSuccessfully"
    assert records[joined.position - 1].dst == "viewer"
