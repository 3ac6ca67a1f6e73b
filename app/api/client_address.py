"""The client's address: X-Forwarded-For is believed only from a trusted proxy (TRUSTED_PROXIES).

Every throttle, the audit log, the API limits and the network lists read the address from here, for
REST requests (`address_from_scope`) and for page events (`client_address` with the websocket's peer
and headers, state/session.client_ip).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from app.settings import get_settings
from app.settings_guard import Network

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_SCOPE_KEY = "atelier.client_address"


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it ("1.2.3.4", "1.2.3.4:5678", "[::1]:80", "fe80::1%eth0"), or None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]  # IPv4 with a port; a bare IPv6 address has several colons
    text = text.partition("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 peer seen on a dual-stack socket ("::ffff:10.0.0.1") is the IPv4 address for every list.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def in_networks(address: IPAddress | None, networks: Iterable[Network]) -> bool:
    return address is not None and any(address.version == net.version and address in net for net in networks)


def client_address(*, peer: str, forwarded: Sequence[str] = (), trusted: Sequence[Network] | None = None) -> str:
    """The client's address for a request from `peer` carrying these X-Forwarded-For header values.

    Without a trusted peer the header is ignored (anyone can write it). Behind trusted proxies the
    list is walked right to left past trusted hops: the first untrusted entry is the client, since
    everything left of it was written by that client. An entry no proxy could have written (not an
    address) stops the walk at the last trusted hop rather than believing it.
    """
    trusted = get_settings().trusted_proxies if trusted is None else trusted
    current = parse_address(peer) if peer else None
    if current is None:
        return peer or ""
    if not trusted or not in_networks(current, trusted):
        return str(current)
    hops = [hop for value in forwarded for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not in_networks(current, trusted):
            break
    return str(current)


def address_from_scope(scope: dict) -> str:
    """The client address of an ASGI request (HTTP or websocket), worked out once per request."""
    cached = scope.get(_SCOPE_KEY)
    if cached is None:
        client = scope.get("client")
        forwarded = [value.decode("latin-1") for name, value in scope.get("headers", [])
                     if name.lower() == b"x-forwarded-for"]
        cached = client_address(peer=client[0] if client else "", forwarded=forwarded)
        scope[_SCOPE_KEY] = cached
    return cached
