"""Structured logs and the request id that follows a change from the web into Celery.

Each request gets an id (a trusted proxy's `X-Request-ID` if it looks like one, else a
new one), returned in the response's `X-Request-ID` header and put on every log line
written while the request runs. A task published meanwhile (a status update queued
on commit, a letter, a notice campaign) carries the id in a message header of its own,
and the worker puts it on every log line the task writes, and on the tasks it queues
in turn. So one grep for the id finds the request and everything it caused.

The logs are one JSON object per line (LOG_FORMAT=json, the default without DEBUG):
the standard library's logging with the small formatter below, rather than structlog,
because every library here (Django, Celery, gunicorn, kombu) already logs through the
standard library, and a formatter sees all of it with no second logging system to keep.

Each request is logged once (`redress.request`) with its URL *pattern*, never its path:
a claimant's link carries a sign-in token in the path, and logs must not hold one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from celery.signals import before_task_publish, task_prerun
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# The Celery message header that carries the id from the publisher to the task.
TASK_HEADER = "redress_request_id"
# Ids from outside are accepted only in this shape, so a log line can hold nothing else.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

_request_id: ContextVar[str | None] = ContextVar("redress_request_id", default=None)
_task: ContextVar[tuple[str, str] | None] = ContextVar("redress_task", default=None)

access_log = logging.getLogger("redress.request")


def current_request_id() -> str | None:
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def request_id_bound(request_id: str | None) -> Iterator[str | None]:
    """Run the block as part of `request_id` (a management command, a test)."""
    token = _request_id.set(request_id)
    try:
        yield request_id
    finally:
        _request_id.reset(token)


# --- Web -------------------------------------------------------------------------


class RequestIdMiddleware:
    """First in MIDDLEWARE: every later middleware and view logs with the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if _VALID_ID.match(offered) else new_request_id()
        began = time.perf_counter()
        with request_id_bound(request_id):
            response = self.get_response(request)
            match = request.resolver_match
            route = match.route if match else _unrouted(request)
            access_log.info(
                "%s %s %s",
                request.method,
                route,
                response.status_code,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - began) * 1000, 1),
                },
            )
        response[REQUEST_ID_HEADER] = request_id
        return response


def _unrouted(request: HttpRequest) -> str:
    from django.conf import settings

    path = settings.HEALTH_CHECK_PATH
    return path if request.path_info.rstrip("/") == path else "(no route)"


# --- Celery ----------------------------------------------------------------------


@before_task_publish.connect(dispatch_uid="redress-request-id-publish")
def _add_request_id_header(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = _request_id.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


@task_prerun.connect(dispatch_uid="redress-request-id-task")
def _bind_task_request_id(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    # Set afresh as each task starts (not reset when it ends), so Celery's own
    # "succeeded" line after the task still carries the task's id.
    request_id = task.request.get(TASK_HEADER) if task is not None else None
    _request_id.set(request_id if isinstance(request_id, str) else None)
    _task.set((task.name, task_id) if task is not None else None)


# --- Log lines -------------------------------------------------------------------

# Attributes every LogRecord has; anything else came from `extra=` and is logged too.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "task_name",
    "task_id",
}


class ContextFilter(logging.Filter):
    """Puts the request id (and the task, in a worker) on each record, for any format."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest) and isinstance(record.args, tuple):
            # Django's "Not Found: <path>" lines: the URL pattern instead of the path.
            match = request.resolver_match
            route = match.route if match else _unrouted(request)
            record.args = tuple(route if arg == request.path else arg for arg in record.args)
        record.request_id = _request_id.get() or "-"
        task = _task.get()
        record.task_name, record.task_id = task if task else ("", "")
        return True


def _plain(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, task, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _request_id.get()
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        task = _task.get()
        if task:
            entry["task"], entry["task_id"] = task
        for key, value in vars(record).items():
            # Plain values from `extra=` only: an object (Django's `request`) could print
            # a path with a claimant's token in it.
            if key not in _RECORD_FIELDS and not key.startswith("_") and _plain(value):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """settings.LOGGING: every logger to stderr, as JSON lines or as plain text."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "config.observability.ContextFilter"}},
        "formatters": {
            "json": {"()": "config.observability.JsonFormatter"},
            "text": {
                "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "text",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
