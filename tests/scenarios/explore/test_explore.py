"""Seed exploration finds the known race, replays it exactly, and proves the fix."""

from __future__ import annotations

import pytest

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.cli import main
from scenarios.explore import explore, explore_seed
from scenarios.faults import FaultKind, parse_faults
from scenarios.runner import run_scenario
from scenarios.usage import UsageError

RACE = catalog.load("share-around-first-response")
#: The create-time race: a child whose row comes back after its host's share was
#: established (and its one-shot catch-up ran) is never shared.
SPAWN_RACE = catalog.load("share-while-spawning")
ALL_FAULTS = frozenset(FaultKind)
SEEDS = range(12)


def test_exploring_the_race_under_current_finds_failing_seeds() -> None:
    outcomes = explore(RACE.path, Profile.CURRENT, SEEDS, ALL_FAULTS)
    failing = [o for o in outcomes if not o.passed]
    assert failing, "the pre-first-response race must show up under some seed"
    assert all(any("pill_bar" in p for p in o.problems) for o in failing)
    assert len(failing) < len(outcomes), "seeds where the share lands after the first response pass"


def test_exploring_a_share_while_children_spawn_finds_children_left_loading() -> None:
    outcomes = explore(SPAWN_RACE.path, Profile.CURRENT, SEEDS, frozenset({FaultKind.LATENCY}))
    failing = [o for o in outcomes if not o.passed]
    assert failing, "the create-time race must show up under some seed"
    assert all(any("loading: expected [], saw [" in p for p in o.problems) for o in failing)
    assert len(failing) < len(outcomes), "seeds where every row comes back first pass"


def test_the_pushed_task_id_fixes_it_under_every_seed() -> None:
    outcomes = explore(RACE.path, Profile.FOLLOWUPS, SEEDS, ALL_FAULTS)
    assert [o for o in outcomes if not o.passed] == []


def test_a_failing_seed_replays_with_the_same_failure_and_trace() -> None:
    failing = next(
        o for o in explore(RACE.path, Profile.CURRENT, SEEDS, ALL_FAULTS) if not o.passed
    )
    replayed = run_scenario(RACE, Profile.CURRENT, seed=failing.seed, faults=ALL_FAULTS)
    assert replayed.trace is not None
    assert replayed.trace.digest() == failing.digest
    assert explore_seed(RACE.path, Profile.CURRENT, failing.seed, ALL_FAULTS) == failing


def test_worker_processes_give_the_same_outcomes() -> None:
    seeds = range(4)
    alone = explore(RACE.path, Profile.CURRENT, seeds, ALL_FAULTS)
    spread = explore(RACE.path, Profile.CURRENT, seeds, ALL_FAULTS, jobs=2)
    assert spread == alone


def test_fault_names_are_checked() -> None:
    assert parse_faults("latency, drop") == {FaultKind.LATENCY, FaultKind.DROP}
    assert parse_faults("") == frozenset()
    with pytest.raises(
        UsageError, match="unknown fault 'lag'; valid faults: latency, drop, partition"
    ):
        parse_faults("latency,lag")


def test_the_command_prints_failing_seeds_with_their_replay(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["explore", "share-around-first-response", "--seeds", "8"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "8/8 seeds" in err
    assert "replay: sharesim run share-around-first-response --profile current --seed" in out
    assert "--faults latency,drop,partition" in out
    assert (
        main(["explore", "share-around-first-response", "--seeds", "8", "--profile", "followups"])
        == 0
    )
    assert main(["explore", "share-around-first-response", "--seeds", "0"]) == 2


#: A scenario whose every seed logs warnings (its ended children's links are refused).
WARNS = "children-ended-before-share"


@pytest.mark.parametrize("executor", [[], ["--jobs", "2"]])
def test_the_seeds_runs_print_no_log_lines(
    executor: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["explore", WARNS, "--seeds", "2", *executor]) == 0
    err = capfd.readouterr().err
    assert "session_link_refused" not in err
    assert all(line.startswith("[") for line in err.splitlines() if line.strip())


def test_explore_says_when_passing_seeds_checked_no_expectation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every check of pill-selection assumes no faults: under faults a pass there means
    only that no invariant broke and every step could be taken."""
    assert main(["explore", "pill-selection", "--profile", "hardened", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 seeds passed checking no expectation" in out
    assert main(["explore", "child-launch-failure", "--profile", "hardened", "--seeds", "2"]) == 0
    assert "checking no expectation" not in capsys.readouterr().out
