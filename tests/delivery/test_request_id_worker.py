"""The request id of a claimant's submission follows it into the real Celery worker
that sends the acknowledgement: the worker's JSON log lines for that task carry it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from claims.domain.stages import Stage
from claims.models import Claim
from tests.delivery.conftest import Broker, SmtpSink, Worker, wait_for
from tests.support.claimant import fill_draft, post_ok, start_claim
from tests.support.factories import SchemeFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REQUEST_ID = "lb-req-5f0c2e9a-submit"


def json_lines(worker: Worker) -> list[dict[str, Any]]:
    entries = []
    for line in worker.output().splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def sent_lines(worker: Worker) -> list[dict[str, Any]]:
    return [
        entry
        for entry in json_lines(worker)
        if "status_update_send[" in entry["message"] and "succeeded" in entry["message"]
    ]


def test_the_submission_request_id_is_on_the_workers_log_lines_for_its_email(
    redis_broker: Broker, smtp_sink: SmtpSink, start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker(redis_broker, smtp_sink, LOG_FORMAT="json")
    scheme = SchemeFactory()
    client = Client()
    start_claim(client, scheme)
    fill_draft(client)
    response = client.post(
        "/claim/check/", {"statement_of_truth": "on"}, HTTP_X_REQUEST_ID=REQUEST_ID
    )
    assert response.status_code == 302 and response["X-Request-ID"] == REQUEST_ID
    claim = Claim.objects.get()
    assert claim.stage == Stage.SUBMITTED

    smtp_sink.wait_for_count(1, timeout=40)
    worker.wait_for_log(r"status_update_send\[[^\]]+\] succeeded", timeout=40)
    entries = json_lines(worker)
    assert entries, "the worker logs JSON lines"
    done = sent_lines(worker)
    assert len(done) == 1
    assert done[0]["request_id"] == REQUEST_ID
    assert done[0]["task"] == "claims.tasks.status_update_send"
    # Only lines written by tasks carry it, never the worker's own (start-up, receiving).
    assert all(e.get("task") for e in entries if e.get("request_id") == REQUEST_ID)
    # Another request's email carries its own id, not a leftover of this one.
    other = Client()
    start_claim(other, scheme)
    fill_draft(other)
    post_ok(other, "/claim/check/", {"statement_of_truth": "on"})
    smtp_sink.wait_for_count(2, timeout=40)
    wait_for(lambda: len(sent_lines(worker)) == 2, timeout=40, what="the second task's line")
    assert sent_lines(worker)[1]["request_id"] not in {REQUEST_ID, None}
