"""Fault plans: the seed's faults as plain data, written out and read back to the same run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from actors.rules.profiles import Profile
from actors.runtime.conditions import Drop, Latency, Partition, Spread
from scenarios import catalog
from scenarios.cli import main
from scenarios.fault_plan import (
    FaultPlan,
    FaultPlanError,
    format_plan,
    load_plan_file,
    parse_plan,
    plan_to_dict,
    read_plan,
)
from scenarios.faults import FaultKind, check_plan, kinds_of, plan_faults
from scenarios.runner import run_scenario

ALL_FAULTS = frozenset(FaultKind)
RACE = catalog.load("share-around-first-response")
#: Scenarios of different shapes: a race, children that come and go, a stop that cascades.
REPLAYED = ("share-around-first-response", "reconnect-while-children-change", "stop-share-cascade")


@pytest.mark.parametrize("name", REPLAYED)
@pytest.mark.parametrize("seed", [0, 5, 197])
def test_the_seeds_plan_given_explicitly_is_the_seeds_run(name: str, seed: int) -> None:
    scenario = catalog.load(name)
    seeded = run_scenario(scenario, Profile.FOLLOWUPS, seed=seed, faults=ALL_FAULTS)
    written = format_plan(plan_faults(ALL_FAULTS, seed, scenario))
    explicit = run_scenario(scenario, Profile.FOLLOWUPS, seed=seed, fault_plan=parse_plan(written))
    assert seeded.trace is not None
    assert explicit.trace is not None
    assert seeded.trace.fault_records(), "the plan must have faulted something"
    assert explicit.trace.digest() == seeded.trace.digest()
    assert (explicit.passed, explicit.faults) == (seeded.passed, ALL_FAULTS)
    assert str(explicit.fault_plan) == str(seeded.fault_plan) == written


def test_run_with_fault_plan_writes_the_same_trace_as_the_seed(tmp_path: Path) -> None:
    seed = "197"
    written = str(plan_faults(ALL_FAULTS, int(seed), RACE))
    seeded, explicit = tmp_path / "seeded.jsonl", tmp_path / "explicit.jsonl"
    common = ["run", RACE.name, "--profile", "followups", "--seed", seed]
    main([*common, "--faults", "latency,drop,partition", "--trace", str(seeded)])
    main([*common, "--fault-plan", written, "--trace", str(explicit)])
    seeded_header, *seeded_records = seeded.read_text().splitlines()
    explicit_header, *explicit_records = explicit.read_text().splitlines()
    assert explicit_records == seeded_records
    assert json.loads(explicit_header) == json.loads(seeded_header)
    assert json.loads(seeded_header)["run"]["fault_plan"] == written


def test_a_plan_reads_back_from_its_inline_form_and_from_a_file(tmp_path: Path) -> None:
    for seed in range(6):
        plan = plan_faults(ALL_FAULTS, seed, RACE)
        assert parse_plan(format_plan(plan)) == plan
        file = tmp_path / f"{seed}.json"
        file.write_text(json.dumps(plan_to_dict(plan)))
        assert read_plan(str(file)) == plan


def test_the_inline_form_reads_every_kind_of_fault() -> None:
    text = (
        "latency:0.05+uniform(0.1); drop@12.5; drop:viewer@13; drop:*>task-server@14; "
        "drop:viewer>session-server@15; partition:viewer>task-server@10..25"
    )
    assert parse_plan(text) == FaultPlan(
        Latency(0.05, 0.1, Spread.UNIFORM),
        (
            Drop(at=12.5),
            Drop(at=13.0, actor="viewer"),
            Drop(at=14.0, server="task-server"),
            Drop(at=15.0, actor="viewer", server="session-server"),
        ),
        (Partition("viewer", "task-server", 10.0, 25.0),),
    )
    assert format_plan(parse_plan(text)) == text
    assert parse_plan("none") == parse_plan("") == FaultPlan()
    assert format_plan(FaultPlan()) == "none"
    assert parse_plan("latency:0.2") == FaultPlan(Latency(0.2))


def test_a_toml_file_gives_the_same_plan(tmp_path: Path) -> None:
    file = tmp_path / "plan.toml"
    file.write_text(
        "[latency]\nbase = 0.01\njitter = 0.25\nspread = 'exponential'\n\n"
        "[[drops]]\nat = 6.5\nactor = 'viewer'\n\n"
        "[[partitions]]\nactor = 'viewer'\nserver = 'task-server'\nstart = 10\nend = 25\n"
    )
    assert load_plan_file(file) == parse_plan(
        "latency:0.01+exp(0.25); drop:viewer@6.5; partition:viewer>task-server@10..25"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("drop@soon", "--fault-plan: item 1 'drop@soon': time 'soon' is not a number"),
        ("drop@-1", "item 1 'drop@-1': time must be a finite number from 0, got '-1'"),
        ("drop@1; drop:viewer", "item 2 'drop:viewer': expected drop@TIME or drop:ACTOR"),
        ("drop:viewer>web@3", "unknown server 'web'; servers: session-server, task-server"),
        ("partition:viewer@1..2", "expected partition:ACTOR>SERVER@START..END"),
        ("partition:viewer>task-server@5..2", "a partition must end after it starts (5..2)"),
        ("latency:fast", "item 1 'latency:fast': latency base 'fast' is not a number"),
        ("latency:0.1+exp(2)+1", "expected latency:BASE or latency:BASE+exp(MEAN)"),
        ("latency:0.1; latency:0.2", "item 2 'latency:0.2': a plan has one latency"),
        ("jitter@3", "unknown fault 'jitter'; faults: latency, drop, partition"),
    ],
)
def test_a_bad_inline_plan_says_which_item_and_why(text: str, message: str) -> None:
    with pytest.raises(FaultPlanError, match=r"^--fault-plan: ") as raised:
        parse_plan(text)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.toml", "[[drops]]\nat = 1\n\n[[drops]]\nat = 'x'\n", ":5: drops[1].at: expected"),
        ("bad.toml", "[[drops]]\nat = 1\nactr = 'v'\n", ":3: drops[0].actr: unknown key"),
        ("bad.toml", "[latency]\nbase = 1\nspread = 'wide'\n", ":3: latency.spread: expected one"),
        ("bad.toml", "[[partitions]]\nactor = 'v'\nstart = 1\nend = 2\n", ":1: partitions[0]."),
        ("bad.toml", "drops = 3\n", ":1: drops: expected a list of tables"),
        ("bad.toml", "[[drops]\n", ": not TOML: "),
        ("bad.json", '{"drops": [{"at": 1},', ":1: not JSON: "),
        ("bad.json", '{"drops": [{"at": true}]}', ": drops[0].at: expected a number of seconds"),
        ("bad.json", "[1]", ": the plan: expected a table"),
    ],
)
def test_a_bad_plan_file_names_the_file_the_line_and_the_field(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    file = tmp_path / name
    file.write_text(text)
    with pytest.raises(FaultPlanError) as raised:
        read_plan(str(file))
    assert str(raised.value).startswith(str(file))
    assert message in str(raised.value)


def test_a_plan_naming_an_actor_the_scenario_lacks_is_refused() -> None:
    check_plan(parse_plan("drop:orchestrator/researcher@3"), RACE)
    with pytest.raises(FaultPlanError, match="has no actor 'viewr'; its actors: orchestrator, "):
        check_plan(parse_plan("drop:viewr@3"), RACE)


def test_the_kinds_of_a_plan_are_those_it_was_planned_with() -> None:
    for kinds in (ALL_FAULTS, frozenset({FaultKind.DROP}), frozenset()):
        assert kinds_of(plan_faults(kinds, 3, RACE)) == kinds


def test_the_command_refuses_bad_plans_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", RACE.name, "--fault-plan", "drop@x"]) == 2
    assert main(["run", RACE.name, "--fault-plan", "missing.toml"]) == 2
    assert main(["run", RACE.name, "--fault-plan", "drop@3", "--faults", "drop"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "sharesim run: --fault-plan: item 1 'drop@x': time 'x' is not a number",
        "sharesim run: --fault-plan missing.toml: no such file",
        "sharesim run: --faults and --fault-plan both choose the faults; give one",
    ]


def test_the_readme_plan_file_is_the_plan_its_table_describes(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Fault plans", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README's plan file example is missing"
    file = tmp_path / "plan.toml"
    file.write_text(block.group(1))
    assert load_plan_file(file) == parse_plan(
        "latency:0.01+exp(0.25); drop:viewer@12.5; partition:viewer>task-server@10..25"
    )
