"""config.cache.RedisCache: Django's Redis cache with one client per connection pool."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from config.cache import RedisCache

pytestmark = pytest.mark.postgres  # run in the pass with Redis (make test-postgres)


@pytest.fixture
def redis_cache(settings):  # type: ignore[no-untyped-def]
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL (the PostgreSQL pass of make test does)")
    return RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-redis-cache"})


def test_calls_share_one_client_and_still_read_back_what_they_wrote(redis_cache) -> None:  # type: ignore[no-untyped-def]
    client = redis_cache._cache

    redis_cache.set("answer", {"claims": 26_000}, 30)
    first = client.get_client(write=True)

    assert redis_cache.get("answer") == {"claims": 26_000}
    assert redis_cache.get_many(["answer", "missing"]) == {"answer": {"claims": 26_000}}
    assert client.get_client() is first is client.get_client(write=True)
    redis_cache.delete("answer")
    assert redis_cache.get("answer") is None


def test_the_site_cache_is_this_one_with_redis(settings) -> None:  # type: ignore[no-untyped-def]
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL (the PostgreSQL pass of make test does)")
    assert isinstance(caches["default"], RedisCache)
