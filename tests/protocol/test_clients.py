"""A client is keyed by the network it connects from, so one user cannot multiply its share."""

from __future__ import annotations

import pytest

from protocol.clients import LOOPBACK, client_key, client_of


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "::ffff:127.0.0.3"]
)
def test_every_loopback_address_is_one_client(host: str) -> None:
    assert client_key(host) == LOOPBACK


def test_an_ipv4_mapped_address_is_its_ipv4_address() -> None:
    assert client_key("::ffff:10.0.0.2") == client_key("10.0.0.2") == "10.0.0.2"


def test_other_ipv4_addresses_count_one_by_one() -> None:
    assert client_key("10.0.0.2") != client_key("10.0.0.3")
    assert client_key("192.0.2.7") == "192.0.2.7"


def test_ipv6_counts_by_its_64_prefix() -> None:
    first = client_key("2001:db8:1:2::1")
    assert first == client_key("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert client_key("fe80::1%eth0") == client_key("fe80::2") == "fe80::/64"


def test_a_name_that_is_no_address_is_its_own_client() -> None:
    assert client_key("watcher") == "watcher"
    assert client_of("watcher") == "watcher"


@pytest.mark.parametrize(
    ("peer", "client"),
    [
        ("10.0.0.2:50001", "10.0.0.2"),
        ("127.0.0.9:5", LOOPBACK),
        ("[::1]:5000", LOOPBACK),
        ("[2001:db8::5]:443", "2001:db8::/64"),
        ("[::ffff:10.0.0.2]:1", "10.0.0.2"),
        ("2001:db8::5", "2001:db8::/64"),
    ],
)
def test_a_peer_is_keyed_by_its_host_whatever_its_port(peer: str, client: str) -> None:
    assert client_of(peer) == client
