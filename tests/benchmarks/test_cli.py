"""`sharesim bench`: output shape and what the exit code means."""

from __future__ import annotations

import json

import pytest

from benchmarks import catalog
from benchmarks.catalog import Benchmark
from benchmarks.harness import BenchResult, Check
from scenarios.cli import main


def test_smoke_json_prints_one_object_per_default_benchmark(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--smoke", "--json"]) == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["name"] for r in records] == catalog.defaults()
    assert "scale-large" not in catalog.defaults()
    assert all(len(r) > 1 for r in records)
    assert "targets not judged" in err


def test_a_named_benchmark_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--smoke", "mailbox"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["benchmark", "figure", "value"]
    assert "ratio" in out
    assert "target" in out


def _fake(met: bool) -> Benchmark:
    def run(*, smoke: bool = False) -> BenchResult:
        return BenchResult("fake", {"figure": 1.5}, [Check("figure is fine", met)])

    return Benchmark("fake", "a stand-in", run)


@pytest.mark.parametrize(("met", "code"), [(True, 0), (False, 1)])
def test_a_full_run_exits_1_when_a_target_is_missed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], met: bool, code: int
) -> None:
    monkeypatch.setitem(catalog.BENCHMARKS, "fake", _fake(met))
    assert main(["bench", "fake", "--json"]) == code
    out, err = capsys.readouterr()
    assert json.loads(out) == {"name": "fake", "figure": 1.5}
    assert ("target missed: figure is fine" in err) is not met


def test_smoke_never_judges_targets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(catalog.BENCHMARKS, "fake", _fake(False))
    assert main(["bench", "fake", "--smoke"]) == 0
    assert "MISSED" in capsys.readouterr().out


def test_an_unknown_benchmark_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sharesim bench: unknown benchmark(s) nope; known: mailbox,")
