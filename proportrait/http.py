"""The client's address, one way for every app (rate limits, consent records, lock-outs)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client as our own proxies saw it.

    Behind PROPORTRAIT_TRUSTED_PROXY_HOPS proxies, each appends the address it received from to
    X-Forwarded-For; the client controls everything to the left of what our proxies added, so
    the entry `hops` places from the right is the first one we can trust.
    """
    hops = settings.PROPORTRAIT_TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return _valid(forwarded[-hops])
    return _valid(request.META.get("REMOTE_ADDR"))


def ip_bucket(ip: str | None) -> str:
    """What a rate limit counts: the address for IPv4, its /64 for IPv6 (one subscriber's block)."""
    if not ip:
        return "unknown"
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _valid(raw: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((raw or "").strip()))
    except ValueError:
        return None
