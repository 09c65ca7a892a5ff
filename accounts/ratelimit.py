"""Fixed-window attempt counters in Django's cache, per account and per IP.

Why not django-ratelimit: it requires memcached or Redis (its system check
fails on the local-memory and database caches), and Photoshare must run on a
laptop with nothing but Python. This is the small part of it we need: a
counter per key per window, incremented atomically where the cache can.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache


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


def too_many(*, scope: str, keys: dict[str, str], limits: dict[str, tuple[int, int]]) -> bool:
    """Count an attempt under every key (e.g. {"ip": ..., "account": ...});
    True when any exceeds its (attempts, window-seconds) limit."""
    exceeded = False
    for name, key in keys.items():
        attempts, window = limits[name]
        if attempt_count(scope=f"{scope}:{name}", key=key, window=window) > attempts:
            exceeded = True
    return exceeded
