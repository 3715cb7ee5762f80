"""Every product spec behaviour 1-49 is covered by a named scenario or test, or declared out of
the model's reach with a reason; `sharesim list --behaviours` prints the same listing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scenarios import catalog
from scenarios.cli import main
from scenarios.coverage import (
    AGAINST_AS_SHIPPED,
    BEHAVIOURS,
    OUT_OF_REACH,
    TESTS,
    coverage,
    marked_tests,
    uncovered,
)


def test_every_behaviour_is_covered_or_out_of_reach() -> None:
    rows = coverage(catalog.load_all(), marked_tests(TESTS))
    assert [row.number for row in rows] == list(BEHAVIOURS)
    assert uncovered(rows) == []
    assert all(reason.strip() for reason in OUT_OF_REACH.values())


def test_bundled_scenarios_name_only_real_behaviours() -> None:
    for scenario in catalog.load_all():
        assert set(scenario.behaviours) <= set(BEHAVIOURS), scenario.name


def test_markers_are_read_from_tests_classes_and_modules(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_sample.py").write_text(
        textwrap.dedent(
            """
            import pytest

            pytestmark = [pytest.mark.behaviour(3)]

            @pytest.mark.behaviour(1, 2)
            @pytest.mark.parametrize("x", [1])
            def test_one(x): ...

            @pytest.mark.behaviour(2)
            class TestGroup: ...

            def test_unmarked(): ...
            """
        )
    )
    assert marked_tests(tests) == {
        3: ["tests/test_sample.py::(module)"],
        1: ["tests/test_sample.py::test_one"],
        2: ["tests/test_sample.py::test_one", "tests/test_sample.py::TestGroup"],
    }


def test_the_suites_own_markers_are_found() -> None:
    found = marked_tests(TESTS)[22]
    assert (
        "tests/actors/rules/test_viewer_client.py::"
        "test_the_web_viewer_offers_no_pane_actions_and_refuses_them"
    ) in found
    assert not any(name.startswith("tests/scenarios/test_behaviour_coverage.py") for name in found)


def test_the_listing_names_what_covers_each_behaviour(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--behaviours"]) == 0
    lines = capsys.readouterr().out.splitlines()
    starts = [line[:2].strip() for line in lines if not line.startswith("    ")]
    assert starts == [str(n) for n in BEHAVIOURS]
    assert "18  edge/open-in-desktop" in lines
    assert any("in part out of reach: participant presence" in line for line in lines)


@pytest.mark.parametrize("number", [10, 28, 37, 41])
def test_a_behaviour_the_shipped_system_breaks_is_flagged(
    number: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--behaviours"]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{number:>2}  "))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line)
    assert any(line.startswith(f"    against behaviour {number} as shipped: ") for line in block)


def test_only_named_behaviours_are_flagged(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--behaviours"]) == 0
    flagged = [line for line in capsys.readouterr().out.splitlines() if "as shipped: " in line]
    assert len(flagged) == len(AGAINST_AS_SHIPPED)
