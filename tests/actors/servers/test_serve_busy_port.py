"""When `sharesim serve` cannot listen, it names the taken port, on the host's own family."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from scenarios.cli import main


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


ipv6_loopback = pytest.mark.skipif(
    not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)"
)

#: Tries at finding a free port just below a taken one; another process may take it meanwhile.
TRIES = 20


def _free(family: socket.AddressFamily, host: str, port: int) -> bool:
    with socket.socket(family) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@contextmanager
def second_port_taken(family: socket.AddressFamily, host: str) -> Iterator[int]:
    """A port free on `host` whose next port a listener holds: only the task server's is busy."""
    for _ in range(TRIES):
        with socket.socket(family) as taken:
            taken.bind((host, 0))
            taken.listen()
            port = taken.getsockname()[1] - 1
            if port > 0 and _free(family, host, port):
                yield port
                return
    pytest.skip(f"no free port below a taken one on {host} in {TRIES} tries")


@pytest.mark.parametrize(
    ("host", "family", "bound"),
    [
        pytest.param("::1", socket.AF_INET6, "::1", marks=ipv6_loopback),
        ("127.0.0.1", socket.AF_INET, "127.0.0.1"),
        ("localhost", socket.AF_INET, "127.0.0.1"),
    ],
)
def test_the_taken_port_is_named_on_the_hosts_own_address_family(
    host: str, family: socket.AddressFamily, bound: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with second_port_taken(family, bound) as port:
        assert main(["serve", "--host", host, "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1].startswith(
        f"sharesim serve: cannot listen on {host}: port {port + 1}: "
    ), err
