"""Request rates per client, counted in the shared cache (Redis in production).

DRF's ``SimpleRateThrottle`` keeps the time of every request of the window in one cache entry
and reads, extends and writes it back on each request: at a machine client's hundreds of
requests a second that is thousands of timestamps copied per request, and two workers doing
it at once lose each other's counts. Here a counter per client and window, raised by one
atomic increment: the same rate whatever the number of workers, at a constant cost.

A fixed window lets a client through up to twice its rate across a window boundary; for
keeping one client from flooding the others that is enough.

Scopes and rates are settings (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``): people count
against ``user``; machine clients (``User.is_machine``, such as the city-management platform)
against ``machine``, or against the scope a view names for a method in
``machine_throttle_scopes`` (case intake: ``intake``, the contracted platform rate).
"""

from __future__ import annotations

import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_parse(rate: str | None) -> tuple[int, int] | None:
    """``"1200/minute"`` → (1200, 60); None (no limit) → None."""
    if rate is None:
        return None
    number, period = rate.split("/")
    return int(number), _PERIODS[period.strip()[0]]


def window_count(*, key: str, duration: int) -> int:
    """Count one request in the current window of ``key``; returns the window's count."""
    backend = getattr(cache, "_cache", None)
    if hasattr(backend, "get_client"):  # django's RedisCache
        # One INCR per request; the window's first request also sets its expiry. The key names
        # its window, so it is never counted in again: a key whose EXPIRE was lost (a worker
        # killed in between) is only a few bytes left over, never a window that does not end.
        full_key = cache.make_and_validate_key(key)
        client = _redis_client(backend, full_key)
        count = int(client.incr(full_key))
        if count == 1:
            client.expire(full_key, duration + 1)
        return count
    cache.add(key, 0, duration + 1)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, duration + 1)
        return 1


def _redis_client(backend, key: str):
    """The cache's Redis client, made once per cache object: Django's ``RedisCache`` builds a
    new ``redis.Redis`` (and its table of reply parsers) on every call, which was a tenth of
    an empty API request's CPU. The client is thread-safe and shares the cache's pool."""
    client = getattr(backend, "_gridsup_throttle_client", None)
    if client is None:
        client = backend.get_client(key, write=True)
        backend._gridsup_throttle_client = client
    return client


class ClientRateThrottle(BaseThrottle):
    """The rate of one authenticated client, by its scope (see the module's docstring)."""

    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def scope_for(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # AnonRateThrottle's part
        if getattr(user, "is_machine", False):
            scopes = getattr(view, "machine_throttle_scopes", {})
            return scopes.get(request.method, "machine")
        return "user"

    def allow_request(self, request, view) -> bool:
        scope = self.scope_for(request, view)
        if scope is None:
            return True
        parsed = rate_parse(api_settings.DEFAULT_THROTTLE_RATES.get(scope))
        if parsed is None:
            return True
        limit, duration = parsed
        now = time.time()
        window = int(now // duration)
        count = window_count(key=f"throttle:{scope}:{request.user.pk}:{window}", duration=duration)
        if count <= limit:
            return True
        self.wait_seconds = (window + 1) * duration - now
        return False

    def wait(self) -> float | None:
        return self.wait_seconds
