"""The limits `sharesim serve` sets on every connection, and how bad values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.runtime.limits import MAX_REFUSING, SERVE_LIMITS, ConnectionLimits
from scenarios.cli import build_parser, main
from scenarios.cli.serve_connections import connection_limits, descriptors_needed


def test_the_defaults_are_the_documented_ones() -> None:
    args = build_parser().parse_args(["serve"])
    assert connection_limits(args) == SERVE_LIMITS
    assert (
        ConnectionLimits(
            handshake_timeout=10.0,
            close_timeout=10.0,
            identify_timeout=10.0,
            ping_interval=20.0,
            ping_timeout=20.0,
            max_connections=1000,
            max_client_connections=250,
            max_backlog_bytes=4 << 20,
        )
        == SERVE_LIMITS
    )


def test_every_limit_can_be_set() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--handshake-timeout=2",
            "--close-timeout=3",
            "--identify-timeout=7",
            "--ping-interval=4",
            "--ping-timeout=5",
            "--max-connections=6",
            "--max-client-connections=5",
            "--max-backlog=70000",
        ]
    )
    assert connection_limits(args) == ConnectionLimits(
        handshake_timeout=2.0,
        close_timeout=3.0,
        identify_timeout=7.0,
        ping_interval=4.0,
        ping_timeout=5.0,
        max_connections=6,
        max_client_connections=5,
        max_backlog_bytes=70000,
    )
    quarter = build_parser().parse_args(["serve", "--max-connections=40"])
    assert connection_limits(quarter).max_client_connections == 10


def test_a_ping_interval_of_0_turns_keepalive_off() -> None:
    args = build_parser().parse_args(["serve", "--ping-interval", "0"])
    assert connection_limits(args).ping_interval is None


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--handshake-timeout", "0"),
        ("--close-timeout", "-1"),
        ("--ping-timeout", "soon"),
        ("--ping-interval", "-5"),
        ("--max-connections", "0"),
        ("--max-backlog", "1.5"),
        ("--handshake-timeout", "inf"),
        ("--ping-timeout", "nan"),
        ("--ping-interval", "inf"),
        ("--close-timeout", "infinity"),
        ("--identify-timeout", "nan"),
    ],
)
def test_a_bad_limit_is_refused_naming_the_option(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", option, value])
    assert exited.value.code == 2
    assert option in capsys.readouterr().err


def test_limits_are_checked_where_they_are_made() -> None:
    with pytest.raises(ValueError, match="handshake_timeout must be positive"):
        ConnectionLimits(handshake_timeout=0)
    with pytest.raises(ValueError, match="max_connections must be at least 1"):
        ConnectionLimits(max_connections=0)


def test_a_trace_file_that_cannot_be_written_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-dir" / "trace.jsonl"
    assert main(["serve", "--trace", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1] == (
        f"sharesim serve: cannot write the trace to {missing}: No such file or directory"
    )


def test_descriptors_cover_both_servers_at_their_cap_with_their_refusals() -> None:
    limits = ConnectionLimits(max_connections=1000)
    assert descriptors_needed(limits) == 2 * (1000 + MAX_REFUSING) + 64
    assert descriptors_needed(ConnectionLimits()) is None
