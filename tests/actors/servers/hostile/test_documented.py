"""The README documents every close code the servers send and every limit `serve` takes."""

from __future__ import annotations

import re
from pathlib import Path

from actors.rules.session_limits import SessionLimits
from actors.rules.task_store import TaskLimits
from actors.runtime.limits import SERVE_LIMITS
from actors.runtime.transport import CloseCode
from scenarios.cli import build_parser
from scenarios.cli.serve_limits import MAX_SEATS

README = (Path(__file__).resolve().parents[4] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(title)
    return README[start : README.index("\n#", start + len(title))]


def test_the_close_code_table_has_every_code_the_servers_send() -> None:
    table = _section("### Bad input and close codes")
    rows = {int(code) for code in re.findall(r"^\| (\d{4}) \|", table, flags=re.MULTILINE)}
    assert rows == {int(code) for code in CloseCode} - {CloseCode.ABNORMAL}


def test_every_limit_of_serve_is_in_the_table_with_its_default() -> None:
    section = _section("### `sharesim serve`")
    for option, default in {
        "--handshake-timeout": SERVE_LIMITS.handshake_timeout,
        "--close-timeout": SERVE_LIMITS.close_timeout,
        "--ping-interval": SERVE_LIMITS.ping_interval,
        "--ping-timeout": SERVE_LIMITS.ping_timeout,
        "--max-connections": SERVE_LIMITS.max_connections,
        "--max-backlog": SERVE_LIMITS.max_backlog_bytes,
        "--max-field-chars": SessionLimits().max_field_chars,
        "--max-seats": MAX_SEATS,
        "--max-runs": TaskLimits().max_runs,
        "--max-task-field-chars": TaskLimits().max_field_chars,
    }.items():
        assert default is not None
        assert re.search(rf"^\| `{option} \w+` \| {default:.12g}\b", section, re.MULTILINE), option
        build_parser().parse_args(["serve", f"{option}=1"])  # the option exists
