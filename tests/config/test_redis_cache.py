"""With REDIS_URL set, the site cache is Django's own Redis cache."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

pytestmark = pytest.mark.postgres  # run in the pass with Redis (make test-postgres)


@pytest.fixture
def redis_cache(settings):  # type: ignore[no-untyped-def]
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL (the PostgreSQL pass of make test does)")
    return RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-redis-cache"})


def test_it_reads_back_what_it_wrote(redis_cache) -> None:  # type: ignore[no-untyped-def]
    redis_cache.set("answer", {"claims": 26_000}, 30)

    assert redis_cache.get("answer") == {"claims": 26_000}
    assert redis_cache.get_many(["answer", "missing"]) == {"answer": {"claims": 26_000}}
    redis_cache.delete("answer")
    assert redis_cache.get("answer") is None


def test_the_site_cache_is_this_one_with_redis(settings) -> None:  # type: ignore[no-untyped-def]
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL (the PostgreSQL pass of make test does)")
    assert isinstance(caches["default"], RedisCache)
