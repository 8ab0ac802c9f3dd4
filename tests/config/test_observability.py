"""Structured logs and request ids (config/observability.py): one JSON object per line,
an id on each request and its response, carried into the Celery tasks it queues."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.test import Client

from claims import outbox
from claims.domain.stages import Stage
from config.observability import (
    TASK_HEADER,
    ContextFilter,
    JsonFormatter,
    current_request_id,
    request_id_bound,
)
from tests.support.factories import claim_in_stage


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the production handler writes: the context filter and the JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def published_headers() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def record(sender: str | None = None, headers: dict[str, Any] | None = None,
               **kwargs: Any) -> None:  # fmt: skip
        seen.append({"task": sender, "body": kwargs.get("body"), **(headers or {})})

    before_task_publish.connect(record, weak=False)
    yield seen
    before_task_publish.disconnect(record)


def test_each_log_line_is_one_json_object_with_the_request_id(log_lines: io.StringIO) -> None:
    with request_id_bound("req-0123456789"):
        logging.getLogger("claims.test").warning(
            'a "quoted"\nmulti-line message', extra={"claim_id": 7, "obj": object()}
        )
    (line,) = log_lines.getvalue().splitlines()  # the line break stays inside the JSON
    entry = json.loads(line)
    assert entry["message"] == 'a "quoted"\nmulti-line message'
    assert entry["level"] == "WARNING" and entry["logger"] == "claims.test"
    assert entry["request_id"] == "req-0123456789"
    assert entry["claim_id"] == 7
    assert "obj" not in entry  # objects are left out: their text could hold anything


def test_an_exception_is_logged_inside_its_json_line(log_lines: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("claims.test").exception("it failed")
    (entry,) = parsed(log_lines)
    assert "ValueError: boom" in entry["exception"]
    assert "request_id" not in entry  # none outside a request


@pytest.mark.django_db
def test_a_response_carries_a_new_request_id_and_one_access_line_with_it(
    client: Client, log_lines: io.StringIO
) -> None:
    first = client.get("/")
    second = client.get("/")
    assert first.status_code == 200
    ids = first["X-Request-ID"], second["X-Request-ID"]
    assert len(ids[0]) == 32 and ids[0] != ids[1]
    access = [e for e in parsed(log_lines) if e["logger"] == "redress.request"]
    assert [(e["request_id"], e["route"], e["status"], e["method"]) for e in access] == [
        (ids[0], "", 200, "GET"),
        (ids[1], "", 200, "GET"),
    ]
    assert all(isinstance(e["duration_ms"], float) for e in access)
    assert current_request_id() is None  # nothing leaks past the request


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("lb-7f3a9c21-0001", True),
        ("short", False),
        ('x", "level": "CRITICAL', False),
        ("a" * 65, False),
    ],
)
def test_a_proxys_request_id_is_kept_only_if_it_looks_like_one(
    client: Client, offered: str, kept: bool
) -> None:
    response = client.get("/", HTTP_X_REQUEST_ID=offered)
    assert (response["X-Request-ID"] == offered) is kept


@pytest.mark.django_db
def test_the_access_line_names_the_url_pattern_never_a_path_with_a_token(
    client: Client, log_lines: io.StringIO
) -> None:
    token = "SECRETTOKEN-7K3M9Q2P-abcdefghijklmnop"
    client.get(f"/link/{token}/")
    access = [e for e in parsed(log_lines) if e["logger"] == "redress.request"]
    assert [e["route"] for e in access] == ["link/<str:token>/"]
    assert token not in log_lines.getvalue()


@pytest.mark.django_db
def test_a_status_update_queued_by_a_change_carries_the_request_id_in_its_headers(
    django_capture_on_commit_callbacks: Any, published_headers: list[dict[str, Any]], people: Any
) -> None:
    with request_id_bound("req-claim-change-42"), django_capture_on_commit_callbacks(execute=True):
        claim = claim_in_stage(Stage.SUBMITTED, people=people)
    # A submission sends its tasks as one publish_together message (the worker that runs
    # it publishes each under the same request id, tests/delivery): look inside it too.
    assert published_headers
    assert all(h[TASK_HEADER] == "req-claim-change-42" for h in published_headers)
    queued = []
    for h in published_headers:
        if h["task"] == outbox.PUBLISH_TOGETHER_TASK:
            (messages,) = h["body"][0]
            queued += [name for name, _args in messages]
        else:
            queued.append(h["task"])
    assert queued.count(outbox.STATUS_UPDATE_TASK) == claim.status_updates.count() >= 1


@pytest.mark.django_db
def test_a_task_queued_outside_any_request_carries_no_request_id(
    published_headers: list[dict[str, Any]],
) -> None:
    assert outbox.publish(outbox.STATUS_UPDATE_TASK, 1)
    (headers,) = published_headers
    assert TASK_HEADER not in headers
