"""Who a connection comes from, as the servers' per-client limits count it.

The servers authenticate no one on the session side (a user id is only what
a client says), so a client is counted by the network it connects from, and
the key must be one a single user cannot multiply at will:

- Loopback is one client: any local user can bind any of 127.0.0.0/8 (and
  ::1), so counting each address apart would hand one user millions of shares.
- An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4 address it maps.
- Other IPv4 addresses count one by one (/32): a host rarely holds more than a
  few, and a coarser prefix would lump together unrelated users behind a
  shared network (an office, a carrier's NAT) and let one of them starve all.
- IPv6 counts by /64: one host is routinely given a whole /64 and may pick
  any address in it (privacy addresses), so the /64 is the smallest unit a
  host cannot leave.

Anything that is not an IP address (a simulated actor's name) is its own key.
"""

from __future__ import annotations

import ipaddress
from typing import Final

#: The key every loopback address shares.
LOOPBACK: Final = "loopback"
#: The IPv6 prefix length one host is counted by.
IPV6_PREFIX: Final = 64


def client_key(host: str) -> str:
    """The per-client key of a connection's source host (an address without a port)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is None:
            if address.is_loopback:
                return LOOPBACK
            plain = ipaddress.IPv6Address(address.packed)  # without any %scope
            return str(ipaddress.IPv6Network((plain, IPV6_PREFIX), strict=False))
        address = mapped
    return LOOPBACK if address.is_loopback else str(address)


def client_of(peer: str) -> str:
    """The per-client key of a peer named `host:port` or `[v6 host]:port`; a name is itself."""
    host, colon, port = peer.rpartition(":")
    if not (colon and host and port.isdigit()):
        return peer
    if ":" in host and not host.startswith("["):
        return client_key(peer)  # a bare IPv6 address, no port
    return client_key(host)
