"""GET /healthz: can this process reach what it needs? For load balancers and monitors.

Checks the database, the cache, the Celery broker and file storage, each bounded by a
short timeout, and answers 200 when all are fine, 503 when any is not, with a small
JSON body naming each check and "ok" or "fail". The body never says why a check failed
(an error can hold a host name or a URL with a password); the log line does.

Answered by a middleware near the top of MIDDLEWARE, before host validation and the
HTTPS redirect: a load balancer probes by address over plain HTTP. It reads no session
and writes nothing but one short-lived cache key, so it is cheap to call every second.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse

PATH = settings.HEALTH_CHECK_PATH
log = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = "redress:healthz"
    value = str(time.time_ns())
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was just stored")


def check_broker() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        # Redis: the connection is made lazily, so ask the server itself.
        client = getattr(conn.default_channel, "client", None)
        if client is not None and hasattr(client, "ping"):
            client.ping()


def check_storage() -> None:
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        # S3: one HEAD request, which fails for a bucket that is gone or not ours to read.
        default_storage.connection.meta.client.head_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    else:
        default_storage.exists("healthz-probe")  # local disk: one stat


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


def run_checks() -> dict[str, str]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            log.warning("Health check %s failed", name, exc_info=True)
            results[name] = "fail"
        else:
            results[name] = "ok"
    return results


def healthz(request: HttpRequest) -> HttpResponse:
    if request.method not in {"GET", "HEAD"}:
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    checks = run_checks()
    healthy = all(result == "ok" for result in checks.values())
    body = {"status": "ok" if healthy else "fail", "checks": checks}
    response = HttpResponse(
        json.dumps(body), status=200 if healthy else 503, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.rstrip("/") == PATH:
            return healthz(request)
        return self.get_response(request)
