"""Bank details in plain text appear nowhere but the finance officer's page and the
payment file: not in the database, a dump of it, the logs, Celery's messages or an
error report."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter
from kombu.utils.json import dumps

from claims.actions import submission
from claims.actions.access import access_link_issue
from claims.domain.stages import Stage
from claims.models import PaymentBatch
from tests.support.factories import claim_in_stage

SORT_CODE, ACCOUNT, NEW_ACCOUNT = "401276", "73915284", "86021937"
SECRETS = (SORT_CODE, "40-12-76", ACCOUNT, NEW_ACCOUNT)


def _absent(text: str) -> None:
    for value in SECRETS:
        assert value not in text


@pytest.fixture
def celery_bodies(monkeypatch):
    """Every message Celery would put on the broker, as the bytes it would send:
    the task message's body and headers, built and serialised by Celery itself."""
    from config.celery import app

    bodies: list[str] = []

    def send_task(name, args=None, kwargs=None, **options):
        message = app.amqp.as_task_v2(str(uuid.uuid4()), name, args=args, kwargs=kwargs)
        bodies.append(dumps(message.body) + json.dumps(message.headers, default=str))

    monkeypatch.setattr(app, "send_task", send_task)
    return bodies


def _journey(client: Client, people, django_capture_on_commit_callbacks) -> object:
    """The claimant gives and then changes bank details; a caseworker confirms the
    change; a finance officer looks at them: every route bank details take."""
    claim = claim_in_stage(Stage.ACCEPTED, people=people)
    claimant = Client()
    with django_capture_on_commit_callbacks(execute=True):
        claimant.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")
        details = {"account_name": "Zoë O'Brien", "sort_code": "40-12-76"}
        claimant.post("/my-claim/bank-details/", {**details, "account_number": ACCOUNT})
        claimant.post("/my-claim/bank-details/", {**details, "account_number": NEW_ACCOUNT})
        claimant.get("/my-claim/")
        claim.refresh_from_db()
        client.force_login(people.caseworker)
        client.post(
            reverse("admin:claims_claim_bank_details_confirm", args=[claim.pk]),
            {"version": claim.version, "reason": "Rang the number on file"},
        )
        client.force_login(people.finance)
        shown = client.post(reverse("admin:claims_claim_bank_details", args=[claim.pk]))
        assert NEW_ACCOUNT in shown.content.decode()  # the one place they are shown
        client.get(reverse("admin:claims_claim_change", args=[claim.pk]))
        # The batch, its payment file (the one export that carries them) and the payment.
        client.post(reverse("admin:claims_paymentbatch_build"), {"scheme": claim.scheme_id})
        batch = PaymentBatch.objects.get()
        payment_file = client.post(reverse("admin:claims_paymentbatch_file", args=[batch.pk]))
        assert NEW_ACCOUNT in payment_file.content.decode()
        client.post(
            reverse("admin:claims_paymentbatch_decide", args=[batch.pk, batch.payments.get().pk]),
            {"outcome": "paid"},
        )
    claim.refresh_from_db()
    assert claim.stage == Stage.PAID
    return claim


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_plain_bank_details_are_not_in_a_dump_or_any_table(
    client, people, django_capture_on_commit_callbacks
):
    _journey(client, people, django_capture_on_commit_callbacks)

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    _absent(dump.getvalue())
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            # Table names come from the database itself, quoted.
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            _absent(repr(cursor.fetchall()))


@pytest.mark.django_db
def test_plain_bank_details_are_not_in_log_output(
    client, people, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)

    _journey(client, people, django_capture_on_commit_callbacks)

    assert caplog.records  # the journey logged something, and none of it is a bank detail
    _absent(caplog.text)
    _absent(" ".join(repr(record.args) for record in caplog.records))


@pytest.mark.django_db
def test_plain_bank_details_are_not_in_celery_messages(
    client, people, celery_bodies, django_capture_on_commit_callbacks
):
    _journey(client, people, django_capture_on_commit_callbacks)

    assert any("status_update_send" in body for body in celery_bodies)
    assert any("letter_generate" in body for body in celery_bodies)
    _absent("\n".join(celery_bodies))


@pytest.mark.django_db
def test_plain_bank_details_are_not_in_an_error_report(client, people, caplog, monkeypatch):
    claim = claim_in_stage(Stage.ACCEPTED, people=people)

    def broken(claim):
        raise RuntimeError("the flags table is down")

    # An unexpected failure deep inside the service, after the values were read.
    monkeypatch.setattr(submission, "claim_flags_bank_account", broken)
    claimant = Client(raise_request_exception=False)
    claimant.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")

    response = claimant.post(
        "/my-claim/bank-details/",
        {"account_name": "Zoë O'Brien", "sort_code": "40-12-76", "account_number": ACCOUNT},
    )

    assert response.status_code == 500
    record = next(r for r in caplog.records if r.name == "django.request")
    # What Django's AdminEmailHandler and error trackers would send.
    reporter = ExceptionReporter(record.request, *record.exc_info, is_email=True)
    report = reporter.get_traceback_text() + reporter.get_traceback_html()
    assert "the flags table is down" in report
    _absent(report)
