"""GET /healthz (config/health.py): 200 when the database, cache, broker and storage all
answer, 503 naming what does not, and never a secret, a host or an error text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.delivery.conftest import Broker, OwnRedis, publishing_to

pytestmark = pytest.mark.django_db

ALL_OK = {"database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"}


def test_healthz_says_ok_for_each_dependency(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content) == {"status": "ok", "checks": ALL_OK}


def test_healthz_answers_a_load_balancer_probing_by_address(client: Client) -> None:
    # Before host validation: the probe's Host is an address not in ALLOWED_HOSTS.
    response = client.get("/healthz/", HTTP_HOST="10.0.3.17:8000")
    assert response.status_code == 200
    assert client.head("/healthz", HTTP_HOST="10.0.3.17").status_code == 200


def test_healthz_refuses_a_post_and_changes_nothing(client: Client) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_healthz_is_503_naming_cache_and_broker_when_redis_is_down_without_saying_why(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    redis = OwnRedis(tmp_path)
    redis.start()
    try:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis.url,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        with publishing_to(Broker(url=redis.url, prefix="redress-healthz:")):
            assert json.loads(client.get("/healthz").content)["checks"] == ALL_OK

            redis.stop()
            response = client.get("/healthz")
    finally:
        if redis.process is not None:
            redis.process.kill()
            redis.process.wait()
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body == {
        "status": "fail",
        "checks": {"database": "ok", "cache": "fail", "broker": "fail", "storage": "ok"},
    }
    assert str(redis.port) not in response.content.decode()


def test_healthz_is_503_when_the_database_is_unreachable(client: Client, monkeypatch: Any) -> None:
    from django.db import connection

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise connection.Database.OperationalError("could not connect to server at 10.0.0.9")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["database"] == "fail"
    assert "10.0.0.9" not in response.content.decode()
