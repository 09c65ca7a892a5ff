"""Fixed-window attempt counters in Django's cache.

Why not django-ratelimit: it requires memcached or Redis (its system check
fails on the local-memory and database caches), and Photoshare must run on a
laptop with nothing but Python. This is the small part of it we need: a
counter per key per window, incremented atomically where the cache can.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time

from django.core.cache import cache

# A limit: (attempts, window in seconds).
Limit = tuple[int, int]


def attempt_count(*, scope: str, key: str, window: int) -> int:
    """Count one attempt for `key` in the current `window` (seconds); returns
    the attempts so far in this window, this one included."""
    bucket = int(time.time() // window)
    digest = hashlib.sha256(key.lower().encode()).hexdigest()[:32]  # no raw emails in cache keys
    cache_key = f"ratelimit:{scope}:{digest}:{bucket}"
    if cache.add(cache_key, 1, timeout=window):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return 1


def _seconds_left(window: int) -> int:
    return max(1, math.ceil(window - time.time() % window))


def too_many(*, scope: str, keys: list[tuple[str, str]], limits: dict[str, Limit]) -> int:
    """Count an attempt under each (name, key) in order, e.g. the client, then
    the account and client together, then the account. 0 when every counter
    is within its limit; otherwise the seconds until the exceeded counter's
    window ends (for Retry-After).

    Counting stops at the first counter exceeded, so attempts refused by a
    narrow counter never reach a broader one: a client that hammers one
    account cannot use up the account's own counter and lock its owner out."""
    for name, key in keys:
        attempts, window = limits[name]
        if attempt_count(scope=f"{scope}:{name}", key=key, window=window) > attempts:
            return _seconds_left(window)
    return 0


def address_key(address: str) -> str:
    """The rate-limit key for a client address: the address itself for IPv4,
    its /64 for IPv6, since one subscriber is usually handed a whole /64 and
    could otherwise rotate through it."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:  # ::ffff:192.0.2.1 is 192.0.2.1
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
