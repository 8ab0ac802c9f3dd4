"""What a submission sends to the broker (one message, whatever it queues), what the
worker makes of it, and that a lost message loses nothing. Also the check page's POST,
which goes straight to the service."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims import outbox
from claims.actions import casework, flags
from claims.core import Actor
from claims.delivery import letters, tasks
from claims.domain.stages import Stage
from claims.models import LetterRequest, StatusUpdate
from claims.outbox import (
    PUBLISH_TOGETHER_TASK,
    STATUS_UPDATE_TASK,
    publish_on_commit,
    published_together,
)
from tests.support.claimant import fill_draft, start_claim
from tests.support.factories import SchemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return SchemeFactory()


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """What would have gone to the broker: (task name, args)."""
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def record(task_name: str, *args: Any) -> bool:
        calls.append((task_name, args))
        return True

    monkeypatch.setattr(outbox, "publish", record)
    return calls


def test_a_submission_sends_one_message_carrying_its_email_letter_and_flag_check(
    client: Any, scheme: Any, published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    claim = start_claim(client, scheme)
    fill_draft(client)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/claim/check/", {"statement_of_truth": "on"})

    assert response.status_code == 302 and response.url == "/claim/submitted/"
    update = claim.status_updates.get(kind="acknowledgement")
    letter = claim.letter_requests.get()
    assert published == [
        (
            PUBLISH_TOGETHER_TASK,
            (
                [
                    [STATUS_UPDATE_TASK, [update.pk]],
                    [outbox.LETTER_TASK, [letter.pk]],
                    [flags.FLAGS_TASK, [claim.pk]],
                ],
            ),
        )
    ]

    # The worker turns it into the three messages themselves.
    (message,) = published[0][1]
    published.clear()
    assert tasks.publish_together(message) == 3
    assert published == [
        (STATUS_UPDATE_TASK, (update.pk,)),
        (outbox.LETTER_TASK, (letter.pk,)),
        (flags.FLAGS_TASK, (claim.pk,)),
    ]


def test_the_worker_publishes_only_our_own_tasks_from_a_message(published: list[Any]) -> None:
    sent = tasks.publish_together(
        [["celery.backend_cleanup", []], [PUBLISH_TOGETHER_TASK, [[]]], [STATUS_UPDATE_TASK, [7]]]
    )

    assert sent == 1
    assert published == [(STATUS_UPDATE_TASK, (7,))]


def test_one_task_queued_together_goes_as_itself(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
        published_together(),
    ):
        publish_on_commit(STATUS_UPDATE_TASK, 5)

    assert published == [(STATUS_UPDATE_TASK, (5,))]


def test_a_block_that_fails_queues_nothing(
    published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
        published_together(),
    ):
        publish_on_commit(STATUS_UPDATE_TASK, 5)
        publish_on_commit(flags.FLAGS_TASK, 6)
        raise RuntimeError("the change failed")

    assert published == []
    # And the next transaction is not caught up in a block that is over.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish_on_commit(STATUS_UPDATE_TASK, 8)
    assert published == [(STATUS_UPDATE_TASK, (8,))]


def test_with_the_broker_down_a_submission_is_kept_and_the_sweepers_do_its_work(
    client: Any, scheme: Any, monkeypatch: pytest.MonkeyPatch, settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    from config.celery import app

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("Connection refused")

    monkeypatch.setattr(app, "send_task", broker_down)
    claim = start_claim(client, scheme)
    fill_draft(client)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/claim/check/", {"statement_of_truth": "on"})

    assert response.status_code == 302 and response.url == "/claim/submitted/"
    claim.refresh_from_db()
    assert claim.stage == Stage.SUBMITTED and claim.flags_checked_at is None
    update = claim.status_updates.get()
    letter = claim.letter_requests.get()
    assert update.state == StatusUpdate.State.PENDING
    assert letter.state == LetterRequest.State.PENDING

    queued: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(outbox, "publish", lambda name, *args: queued.append((name, args)) or True)
    later = timezone.now() + dt.timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS + 60)
    assert outbox.outbox_sweep(now=later) == 1
    assert letters.letter_requests_sweep(now=later) == 1
    assert flags.claim_flags_sweep(now=later) == 1
    assert queued == [(STATUS_UPDATE_TASK, (update.pk,)), (outbox.LETTER_TASK, (letter.pk,))]
    claim.refresh_from_db()
    assert claim.flags_checked_at is not None


# --- The check page's POST -------------------------------------------------------------


def test_posting_the_check_page_of_a_claim_past_submission_goes_to_its_page(
    client: Any, scheme: Any, people: Any
) -> None:
    claim = start_claim(client, scheme)
    fill_draft(client)
    client.post("/claim/check/", {"statement_of_truth": "on"})
    casework.claim_transition(
        claim_id=claim.pk, transition="triage_start", actor=Actor.staff(people.caseworker)
    )

    response = client.post("/claim/check/", {"statement_of_truth": "on"})

    assert response.status_code == 302 and response.url == "/my-claim/"
    assert claim.events.filter(action="submit").count() == 1


def test_posting_the_check_page_after_the_idle_timeout_submits_nothing(
    client: Any, scheme: Any
) -> None:
    claim = start_claim(client, scheme)
    fill_draft(client)

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31)):
        response = client.post("/claim/check/", {"statement_of_truth": "on"}, follow=True)

    assert response.redirect_chain[-1][0] == "/follow/"
    assert "30 minutes without activity" in response.content.decode()
    claim.refresh_from_db()
    assert claim.stage == Stage.DRAFT


def test_a_refused_submission_shows_the_reason_on_the_check_page(client: Any, scheme: Any) -> None:
    claim = start_claim(client, scheme)
    fill_draft(client)
    scheme.claims_close = timezone.localdate() - dt.timedelta(days=1)
    scheme.claims_open = scheme.claims_close - dt.timedelta(days=365)
    scheme.save()

    response = client.post("/claim/check/", {"statement_of_truth": "on"})

    assert response.status_code == 200
    assert "The claim window closed on" in response.content.decode()
    claim.refresh_from_db()
    assert claim.stage == Stage.DRAFT


_TABLE = re.compile(r'(?:FROM|UPDATE|INTO) "(\w+)"')


def test_a_submission_reads_its_claim_once_and_writes_each_row_once(
    client: Any, scheme: Any, settings: Any
) -> None:
    """What a submission asks of the database (bench/submission.py times it), after the
    session's one SELECT: the claim locked and read with its scheme, then the UPDATE
    (which checks the heads of loss) and the three rows."""
    start_claim(client, scheme)
    fill_draft(client)

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/claim/check/", {"statement_of_truth": "on"})

    assert response.status_code == 302 and response.url == "/claim/submitted/"
    sql = [query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]]
    statements = [f"{text.split()[0]} {_TABLE.search(text)[1]}" for text in sql]  # type: ignore[index]
    assert statements == [
        "SELECT django_session",
        "SELECT claims_claim",
        "UPDATE claims_claim",
        "INSERT claims_auditevent",
        "INSERT claims_statusupdate",
        "INSERT claims_letterrequest",
    ]
    update = next(text for text in sql if text.startswith("UPDATE"))
    assert "claims_headofloss" in update
