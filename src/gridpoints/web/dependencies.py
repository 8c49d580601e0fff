"""Values every controller may ask for by name: the `settings` (set up once in `create_app`)
and the client's address. The signed-in `actor`, the sign-in limiter and the token issuer are
`auth.dependencies`; the job queue is `jobs.dependencies`.

The client's address is what the sign-in limits count, so a client must not be able to choose
it. `X-Forwarded-For` is read only when the connection comes from a proxy named in
`GRIDPOINTS_TRUSTED_PROXIES` (none by default), and then the client is the right-most address
in it that is not itself a trusted proxy: entries further left were written by the client.
`gridpoints serve` runs uvicorn with its own proxy-header handling off, so this is the one
place the header is believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from gridpoints.settings import Settings


def provide_settings(state: State) -> Settings:
    return state.settings


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """`settings.trusted_proxies` (addresses or CIDR networks, checked at load) as networks."""
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(text: str) -> IPAddress | None:
    """An address from a peer or an `X-Forwarded-For` entry (a port some proxies add dropped)."""
    text = text.strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # 198.51.100.7:5123
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[IPNetwork]
) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the
    right-most `X-Forwarded-For` entry that is not a trusted proxy (header lines in order).

    A walk that meets an entry which is no address stops at the last address vouched for;
    one that finds only trusted proxies ends at the left-most of them.
    """
    if not peer:
        return "unknown"
    current = _address(peer)
    if current is None:
        return peer
    if not trusted or not _trusted(current, trusted):
        return str(current)
    hops = [hop for line in forwarded_for for hop in line.split(",")]
    while hops and _trusted(current, trusted):
        hop = _address(hops.pop())
        if hop is None:
            break
        current = hop
    return str(current)


def provide_client_address(request: Request[Any, Any, Any], state: State) -> str:
    peer = request.client.host if request.client else None
    trusted = trusted_networks(state.settings.trusted_proxies)
    if not trusted:
        return peer or "unknown"
    return client_address(peer, request.headers.getall("x-forwarded-for", []), trusted)


DEPENDENCIES = {
    "settings": Provide(provide_settings, sync_to_thread=False),
    "client_address": Provide(provide_client_address, sync_to_thread=False),
}

# Annotations for handler parameters that receive the values above by name.
AppSettings = NamedDependency[Settings]
ClientAddress = NamedDependency[str]
