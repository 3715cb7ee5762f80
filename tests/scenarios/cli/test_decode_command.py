"""`sharesim decode`: exit codes and output shape, run in-process."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from scenarios.cli import main

GOOD = '{"SourceTaskIdUpdated":{"source_task_id":"t-9"}}'
BAD = '{"SessionEnded":{"reason":"Sunset"}}'


def test_decodes_a_file_and_reports_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frames = tmp_path / "frames.jsonl"
    frames.write_text(f"{GOOD}\n\n{BAD}\n{GOOD}\n")
    assert main(["decode", "--channel", "viewer-down", str(frames)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == ["SourceTaskIdUpdated source_task_id='t-9'"] * 2
    assert err.startswith("line 3: at $.SessionEnded.reason:")


def test_json_output_is_canonical(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD + "\n"))
    assert main(["decode", "--channel", "viewer-down", "--json"]) == 0
    assert capsys.readouterr().out == GOOD + "\n"


def test_a_missing_file_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "--channel", "tasks", "/no/such/file"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sharesim decode: ")
    assert "/no/such/file" in err
    assert "Traceback" not in err


def test_an_unknown_channel_is_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["decode", "--channel", "sideways"])
    assert exited.value.code == 2
