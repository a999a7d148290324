"""core.api.throttles: the request counter per client and window, in the shared cache."""

import uuid

import pytest
from django.core.cache import cache

from core.api.throttles import window_count


def test_each_request_counts_once_in_its_window():
    key = f"test-window:{uuid.uuid4()}"
    assert [window_count(key=key, duration=60) for _ in range(3)] == [1, 2, 3]
    assert window_count(key=f"{key}:next", duration=60) == 1


def test_a_windows_counter_expires_after_the_window():
    backend = getattr(cache, "_cache", None)
    if not hasattr(backend, "get_client"):
        pytest.skip("needs the Redis cache (set REDIS_URL)")
    # given
    key = f"test-window:{uuid.uuid4()}"
    # when: the window's first request, then a second
    window_count(key=key, duration=60)
    full_key = cache.make_and_validate_key(key)
    client = backend.get_client(full_key, write=True)
    first_ttl = client.ttl(full_key)
    window_count(key=key, duration=60)
    # then: the first set the expiry (just past the window); later ones leave it running
    assert 0 < first_ttl <= 61
    assert 0 < client.ttl(full_key) <= first_ttl
    client.delete(full_key)
