"""Small things a new user trips over: help, versions, typos, output paths, table widths."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path

import pytest

from scenarios.cli import build_parser, main

SCENARIO = "local-local-share-parent"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_of_every_command_says_what_it_does() -> None:
    missing = [
        f"{name} {action.dest}"
        for name, parser in _subcommands().items()
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()
    ]
    assert missing == []


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("sharesim ")


@pytest.mark.parametrize(
    "args",
    [
        ["run", SCENARIO, "--seed", "-1"],
        ["matrix", "--seed", "-3"],
        ["explore", SCENARIO, "--seeds", "2", "--start", "-1"],
        ["serve", "--seed", "-1"],
    ],
)
def test_negative_seeds_are_refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    assert "a seed is a whole number from 0" in capsys.readouterr().err


def test_a_mistyped_scenario_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "local-local-share-parnet"]) == 2
    err = capsys.readouterr().err
    assert "did you mean local-local-share-parent?" in err
    assert "Traceback" not in err


def test_list_fits_100_columns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 100
    text = " ".join(lines)
    assert "topologies/local-local-share-parent" in text
    assert "edge/viewer-joins-before-first-response" in text


def test_the_result_column_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", SCENARIO]) == 0
    out = capsys.readouterr().out
    assert "pass (N): all N expectations checked held" in out


def test_log_json_dash_means_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", SCENARIO, "--log-json", "-"]) == 0
    out = capsys.readouterr().out
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(event["event"] == "joined" for event in events)
    assert not Path("-").exists()


@pytest.mark.parametrize("option", ["--log-json", "--trace", "--diagram"])
def test_an_output_path_that_is_a_directory_names_the_option(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", SCENARIO, option, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"sharesim run: {option} {tmp_path}: is a directory" in err


def test_an_output_path_that_cannot_be_written_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-folder" / "trace.jsonl"
    assert main(["run", SCENARIO, "--trace", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"sharesim run: --trace {target}: cannot write" in err
    assert "Traceback" not in err


def test_a_port_in_use_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port}" in err
    assert "in use" in err


def test_a_misspelt_status_is_a_file_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "typo.toml"
    scenario.write_text(
        'name = "typo"\ndescription = "x"\nduration = 30\n'
        '[orchestrator]\nname = "o"\nlocation = "local"\n'
        '[[children]]\nname = "c"\nlocation = "local"\nspawn_at = 5\n'
        '[[viewers]]\nname = "v"\nopens = "o"\njoin_at = 10\n'
        '[[expect]]\nviewer = "v"\nstatuses = { c = "succes" }\n'
    )
    assert main(["run", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert f"{scenario}:17: expect[0].statuses.c: expected one of in_progress, success" in err
    assert "got 'succes'" in err
