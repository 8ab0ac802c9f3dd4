"""Status updates: what each email says, when it is queued, and how delivery keeps its
promise of once (tasks called directly, emails in `mail.outbox`). The real worker and
SMTP server are in tests/delivery/."""

from __future__ import annotations

import datetime as dt
import smtplib
from typing import Any, ClassVar

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction
from django.template.loader import get_template
from django.utils import timezone

from claims import outbox
from claims.actions import access, casework, emails, offers, payments, submission
from claims.core import Actor, ClaimError
from claims.delivery import emails as notifications
from claims.delivery.emails import Outcome
from claims.domain.stages import TRANSITIONS, Stage
from claims.models import AccessLink, AuditEvent, Claim, StatusUpdate
from tests.support.factories import (
    CLAIMANT,
    claim_in_stage,
    draft_claim,
    draft_with_a_loss,
    take_step,
)

pytestmark = pytest.mark.django_db

SITE = "https://claims.example.test"
SORT_CODE, ACCOUNT_NUMBER, ACCOUNT_NAME = "309457", "12345678", "Zoe Secret-Account"


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE
    settings.EMAIL_MAX_ATTEMPTS = 3
    settings.EMAIL_RETRY_SECONDS = 30.0


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """What would have gone to the broker: (task name, args)."""
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def record(task_name: str, *args: Any) -> bool:
        calls.append((task_name, args))
        return True

    monkeypatch.setattr(outbox, "publish", record)
    return calls


def deliver_all(claim: Claim) -> list[mail.EmailMultiAlternatives]:
    for update in claim.status_updates.order_by("pk"):
        assert notifications.status_update_deliver(update.pk).outcome is Outcome.SENT
    return list(mail.outbox)


def deliver_when_due(update: StatusUpdate) -> notifications.Delivery:
    """Deliver as the retry Celery scheduled would: at the time the row says it is due."""
    update.refresh_from_db()
    due = max(update.next_attempt_at or timezone.now(), timezone.now())
    with time_machine.travel(due, tick=False):
        return notifications.status_update_deliver(update.pk)


def html_of(message: Any) -> str:
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return str(html)


# --- What the emails say --------------------------------------------------------

KINDS = sorted({t.update for t in TRANSITIONS.values()} | {"reminder", "offer_expiring"})


@pytest.mark.parametrize("kind", [*KINDS, "notice", "digest"])
def test_every_kind_of_email_has_a_subject_a_text_and_an_html_template(kind: str) -> None:
    for suffix in ("subject.txt", "txt", "html"):
        get_template(f"emails/{kind}.{suffix}")


def _claim_with_secrets(people: Any, scheme: Any) -> tuple[Claim, str]:
    """A claim taken to closed that has bank details, a sign-in link and a failed payment
    whose reason quotes the account number."""
    claim = claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    submission.bank_details_set(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        account_name=ACCOUNT_NAME,
        sort_code=SORT_CODE,
        account_number=ACCOUNT_NUMBER,
    )
    token = access.access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    finance = Actor.staff(people.finance)
    take_step(claim, "payment_queue", people)
    payments.payment_mark_failed(
        payment_id=claim.payments.get().pk,
        actor=finance,
        reason=f"Bank returned it: account {ACCOUNT_NUMBER} sort code {SORT_CODE} closed",
    )
    # New details after a failure are a change: held until a caseworker confirms them.
    submission.bank_details_set(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        account_name=ACCOUNT_NAME,
        sort_code=SORT_CODE,
        account_number="87654321",
    )
    payments.bank_details_confirm(
        claim_id=claim.pk, actor=Actor.staff(people.caseworker), reason="Rang the claimant"
    )
    for step in ("payment_queue", "payment_confirm", "close"):
        take_step(claim, step, people)
    return claim, token


def test_each_status_update_shows_its_code_and_the_follow_link_and_never_a_secret(
    people: Any, scheme: Any
) -> None:
    claim, token = _claim_with_secrets(people, scheme)
    emails = deliver_all(claim)
    updates = list(claim.status_updates.order_by("pk"))
    assert [u.kind for u in updates] == [
        "acknowledgement",
        "in_triage",
        "in_assessment",
        "offer_made",
        "accepted",
        "payment_pending",
        "payment_failed",
        "bank_details_changed",
        "payment_pending",
        "paid",
        "closed",
    ]
    assert len(emails) == len(updates)
    for update, email in zip(updates, emails, strict=True):
        html = html_of(email)
        assert email.to == [CLAIMANT["email"]]
        assert email.extra_headers["Message-ID"] == f"<redress.status.{update.pk}@redress.invalid>"
        for body in (email.body, html):
            assert update.verification_code in body
            assert claim.reference in body
            assert f"{SITE}/follow/" in body
            for secret in (ACCOUNT_NUMBER, SORT_CODE, "30-94-57", ACCOUNT_NAME, token):
                assert secret not in body, (update.kind, secret)
        assert token not in email.subject and ACCOUNT_NUMBER not in email.subject
        assert f'href="{SITE}/follow/"' in html


def test_the_offer_email_itemises_the_offer_and_gives_its_accept_by_date(
    people: Any, scheme: Any
) -> None:
    claim = claim_in_stage(Stage.OFFER_MADE, scheme=scheme, people=people)
    offer = claim.offers.get()
    update = claim.status_updates.get(kind="offer_made")
    notifications.status_update_deliver(update.pk)
    (email,) = mail.outbox
    accept_by = f"{offer.accept_by:%-d %B %Y}"
    assert email.subject == f"Our offer for your claim {claim.reference}"
    assert "Unauthorised transactions: £35.00" in email.body
    assert "Total: £35.00" in email.body
    assert f"You can accept this offer until {accept_by}." in email.body
    assert "<td" in html_of(email) and "£35.00" in html_of(email)


def test_html_escapes_what_people_wrote_and_plain_text_keeps_it_as_written(
    people: Any, scheme: Any
) -> None:
    claim = draft_claim(scheme, full_name="Zoë O'Brien <b>")
    submission.head_of_loss_add(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), category="bank_charges",
        amount_claimed="12.00",
    )  # fmt: skip
    take_step(claim, "submit", people)
    take_step(claim, "triage_start", people)
    casework.claim_transition(
        claim_id=claim.pk,
        transition="triage_reject",
        actor=Actor.staff(people.caseworker),
        reason='You bought from "Flowers & Co" <not us>',
    )
    update = claim.status_updates.get(kind="rejected")
    notifications.status_update_deliver(update.pk)
    email = mail.outbox[0]
    assert "Dear Zoë O'Brien <b>," in email.body
    assert 'Why: You bought from "Flowers & Co" <not us>' in email.body
    html = html_of(email)
    assert "Zoë O&#x27;Brien &lt;b&gt;" in html
    assert "&quot;Flowers &amp; Co&quot; &lt;not us&gt;" in html
    assert "<not us>" not in html


def test_the_information_request_email_quotes_the_request_and_its_deadline(
    people: Any, scheme: Any
) -> None:
    claim = claim_in_stage(Stage.INFORMATION_REQUESTED, scheme=scheme, people=people)
    update = claim.status_updates.get(kind="information_requested")
    notifications.status_update_deliver(update.pk)
    email = mail.outbox[0]
    assert "Please send the bank statement for March 2017." in email.body
    assert f"Please send it by {claim.information_due:%-d %B %Y}." in email.body
    assert "\n\n\n" not in email.body


def test_a_review_that_upholds_says_so_and_a_revised_offer_shows_the_new_total(
    people: Any, scheme: Any, senior: Any
) -> None:
    upheld = claim_in_stage(Stage.REVIEW, scheme=scheme, people=people)
    offers.review_uphold(
        claim_id=upheld.pk, actor=Actor.staff(senior), reason="The award is within the band."
    )
    notifications.status_update_deliver(upheld.status_updates.get(kind="review_outcome").pk)
    assert "our decision stands" in mail.outbox[0].body
    assert "Why: The award is within the band." in mail.outbox[0].body
    assert "Total:" not in mail.outbox[0].body


# --- Queued only after commit ----------------------------------------------------


def test_a_stage_change_is_queued_for_delivery_only_once_its_transaction_commits(
    people: Any, scheme: Any, published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    with django_capture_on_commit_callbacks() as callbacks:
        casework.claim_transition(
            claim_id=claim.pk, transition="triage_start", actor=Actor.staff(people.caseworker)
        )
        assert published == []
    update = claim.status_updates.get(kind="in_triage")
    assert update.state == StatusUpdate.State.PENDING
    for callback in callbacks:
        callback()
    assert published == [("claims.tasks.status_update_send", (update.pk,))]


def test_a_change_that_rolls_back_leaves_no_status_update_and_queues_nothing(
    people: Any, scheme: Any, published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    before = claim.status_updates.count()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        casework.claim_transition(
            claim_id=claim.pk, transition="triage_start", actor=Actor.staff(people.caseworker)
        )
        raise RuntimeError("the request failed after the change")
    assert claim.status_updates.count() == before
    assert published == []


def test_a_broker_outage_at_commit_keeps_the_change_and_the_pending_row(
    scheme: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from config.celery import app

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(app, "send_task", broker_down)
    claim = draft_with_a_loss(scheme, amount="12.00")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submission.claim_submit(claim_id=claim.pk, actor=Actor.claimant(claim.pk),
                              statement_of_truth=True)  # fmt: skip
    # Queued inside the submission's one message (claims.outbox.published_together).
    assert any("claims.tasks.status_update_send" in repr(c.args) for c in callbacks)
    claim.refresh_from_db()
    assert claim.stage == Stage.SUBMITTED
    update = claim.status_updates.get()
    assert (update.kind, update.state, update.attempts) == ("acknowledgement", "pending", 0)


# --- Once, retried, or failed for good -------------------------------------------


def test_delivering_the_same_status_update_twice_sends_one_email(people: Any, scheme: Any) -> None:
    claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    update = claim.status_updates.get()
    assert notifications.status_update_deliver(update.pk).outcome is Outcome.SENT
    assert notifications.status_update_deliver(update.pk).outcome is Outcome.ALREADY_DONE
    assert len(mail.outbox) == 1
    update.refresh_from_db()
    assert (update.state, update.attempts) == ("sent", 1)
    assert update.sent_at is not None and update.next_attempt_at is None


class ScriptedBackend(LocmemBackend):
    """Raises the errors in `script`, one per send, then delivers to mail.outbox."""

    script: ClassVar[list[BaseException]] = []

    def send_messages(self, messages: Any) -> int:
        if ScriptedBackend.script:
            raise ScriptedBackend.script.pop(0)
        return super().send_messages(messages)


@pytest.fixture
def scripted(settings: Any) -> type[ScriptedBackend]:
    settings.EMAIL_BACKEND = "tests.delivery.test_notifications.ScriptedBackend"
    ScriptedBackend.script = []
    return ScriptedBackend


def test_a_provider_error_is_retried_with_growing_delays_until_it_goes(
    people: Any, scheme: Any, scripted: type[ScriptedBackend]
) -> None:
    claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    update = claim.status_updates.get()
    scripted.script = [
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        smtplib.SMTPResponseException(451, b"4.3.0 Try again later"),
    ]
    first = notifications.status_update_deliver(update.pk)
    # A run before the retry is due (a duplicate message) waits for it and sends nothing.
    early = notifications.status_update_deliver(update.pk)
    assert early.outcome is Outcome.BUSY and 23 <= early.retry_in <= 36
    second = deliver_when_due(update)
    assert (first.outcome, second.outcome) == (Outcome.RETRY, Outcome.RETRY)
    # 30 s, then 60 s, each with up to 20% jitter.
    assert 24 <= first.retry_in <= 36 and 48 <= second.retry_in <= 72
    update.refresh_from_db()
    assert update.attempts == 2
    assert update.last_error == "SMTPResponseException: 451 4.3.0 Try again later"
    assert update.next_attempt_at > timezone.now() + dt.timedelta(seconds=40)
    assert deliver_when_due(update).outcome is Outcome.SENT
    assert len(mail.outbox) == 1


def test_after_the_last_attempt_the_failure_is_recorded_and_nothing_more_is_tried(
    people: Any, scheme: Any, scripted: type[ScriptedBackend]
) -> None:
    claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    update = claim.status_updates.get()
    scripted.script = [ConnectionRefusedError(111, "Connection refused") for _ in range(4)]
    outcomes = [deliver_when_due(update).outcome for _ in range(4)]
    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.FAILED, Outcome.ALREADY_DONE]
    update.refresh_from_db()
    assert (update.state, update.attempts) == ("failed", 3)
    assert "Connection refused" in update.last_error
    assert len(scripted.script) == 1  # the fourth run never reached the provider
    assert mail.outbox == []


def test_an_address_the_provider_refuses_for_good_fails_at_once(
    people: Any, scheme: Any, scripted: type[ScriptedBackend]
) -> None:
    claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    update = claim.status_updates.get()
    scripted.script = [
        smtplib.SMTPRecipientsRefused({CLAIMANT["email"]: (550, b"5.1.1 No such user")})
    ]
    assert notifications.status_update_deliver(update.pk).outcome is Outcome.FAILED
    update.refresh_from_db()
    assert (update.state, update.attempts) == ("failed", 1)
    assert update.last_error == "SMTPRecipientsRefused: 550 5.1.1 No such user"


def test_a_provider_api_rejecting_the_address_fails_at_once_but_a_rate_limit_is_retried(
    people: Any, scheme: Any, scripted: type[ScriptedBackend]
) -> None:
    from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
    from requests import Response

    too_many = Response()
    too_many.status_code, too_many.reason = 429, "Too Many Requests"
    first = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    second = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    scripted.script = [
        AnymailRecipientsRefused("All message recipients were rejected"),
        AnymailAPIError("Slow down", status_code=429, response=too_many),
    ]
    assert notifications.status_update_deliver(first.status_updates.get().pk).outcome is (
        Outcome.FAILED
    )
    assert notifications.status_update_deliver(second.status_updates.get().pk).outcome is (
        Outcome.RETRY
    )


@pytest.mark.parametrize(
    "address",
    [
        "a@b.com\r\nBcc: x@evil.test",
        "a@b.com\nBcc: x@evil.test",
        "zoë@example.test",
        "Zoe <zoe@example.test>",
        "zoe@example.test, eve@evil.test",
        "not an address",
    ],
)
def test_a_stored_address_that_cannot_work_is_recorded_failed_and_never_sent(
    people: Any, scheme: Any, address: str
) -> None:
    claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    # As if it came in before the entry checks, or by an import that skipped them.
    Claim.objects.filter(pk=claim.pk).update(email=address)
    update = claim.status_updates.get()
    assert notifications.status_update_deliver(update.pk).outcome is Outcome.FAILED
    assert notifications.status_update_deliver(update.pk).outcome is Outcome.ALREADY_DONE
    update.refresh_from_db()
    assert (update.state, update.attempts) == ("failed", 1)
    assert update.last_error.startswith("UndeliverableAddress: ")
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("a@b.com\r\nBcc: x@evil.test", "line break"),
        ("zoë@example.test", "before the @"),
        ("Zoe <zoe@example.test>", "not a valid email address"),
        ("zoe@", "not a valid email address"),
    ],
)
def test_a_claim_cannot_be_started_or_changed_with_an_address_that_cannot_work(
    scheme: Any, address: str, problem: str
) -> None:
    with pytest.raises(ClaimError, match=problem) as refused:
        draft_claim(scheme, email=address)
    assert refused.value.code == "invalid_email"
    claim = draft_claim(scheme)
    with pytest.raises(ClaimError, match=problem):
        submission.claim_update_details(
            claim_id=claim.pk, actor=Actor.claimant(claim.pk), page="contact", email=address
        )
    claim.refresh_from_db()
    assert claim.email == CLAIMANT["email"]


@pytest.mark.parametrize("address", ["zoe.obrien+claims@example.com", "anne@bücher.example"])
def test_ordinary_and_international_domain_addresses_are_accepted(
    scheme: Any, address: str
) -> None:
    assert draft_claim(scheme, email=address).email == address


# --- The sweeper ---------------------------------------------------------------


def test_the_sweeper_requeues_only_pending_rows_overdue_by_the_sweep_interval(
    people: Any, scheme: Any, published: list[Any], settings: Any
) -> None:
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 300
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        lost = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people).status_updates.get()
        sent = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people).status_updates.get()
        notifications.status_update_deliver(sent.pk)
        failed = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
        Claim.objects.filter(pk=failed.pk).update(email="broken\r\n@x")
        notifications.status_update_deliver(failed.status_updates.get().pk)
        waiting = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people).status_updates.get()
        # A retry already scheduled for ten minutes on is not lost, just waiting.
        StatusUpdate.objects.filter(pk=waiting.pk).update(
            next_attempt_at=start + dt.timedelta(minutes=10)
        )
    with time_machine.travel(start + dt.timedelta(seconds=299), tick=False):
        assert outbox.outbox_sweep() == 0
    with time_machine.travel(start + dt.timedelta(seconds=301), tick=False):
        assert outbox.outbox_sweep() == 1
        assert published == [("claims.tasks.status_update_send", (lost.pk,))]
        # Swept rows get a fresh due time: the next sweep a minute later leaves them be.
    with time_machine.travel(start + dt.timedelta(seconds=361), tick=False):
        assert outbox.outbox_sweep() == 0
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert outbox.outbox_sweep() == 2
    assert sorted(args[0] for _, args in published[1:]) == sorted([lost.pk, waiting.pk])


def test_the_sweeper_keeps_a_row_pending_when_the_broker_is_still_down(
    people: Any, scheme: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.celery import app

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(app, "send_task", broker_down)
    update = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people).status_updates.get()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        assert outbox.outbox_sweep() == 0
    update.refresh_from_db()
    assert update.state == StatusUpdate.State.PENDING


# --- Send again --------------------------------------------------------------


def test_send_again_gives_a_failed_email_a_fresh_set_of_attempts_and_is_audited(
    people: Any, scheme: Any, caseworker: Any, published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    update = claim.status_updates.get()
    StatusUpdate.objects.filter(pk=update.pk).update(
        state="failed", attempts=3, last_error="SMTPResponseException: 451 Try again later"
    )
    sent = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people).status_updates.get()
    with django_capture_on_commit_callbacks(execute=True):
        resent = emails.outbox_resend(
            model=StatusUpdate, ids=[update.pk, sent.pk], actor=caseworker
        )
    assert resent == 1
    update.refresh_from_db()
    assert (update.state, update.attempts) == ("pending", 0)
    assert "451" in update.last_error  # kept until the next attempt replaces it
    assert published == [("claims.tasks.status_update_send", (update.pk,))]
    event = AuditEvent.objects.get(claim=claim, action="status_update_resend")
    assert event.actor == caseworker
    assert event.data == {"status_update": update.pk, "kind": update.kind}


def test_an_email_in_flight_is_left_to_its_sender_until_its_lease_runs_out(
    people: Any, scheme: Any, settings: Any
) -> None:
    settings.EMAIL_SEND_LEASE_SECONDS = 330
    update = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people).status_updates.get()
    # A worker claimed it and died before recording anything (killed mid-send).
    claimed_at = timezone.now()
    StatusUpdate.objects.filter(pk=update.pk).update(
        attempts=1, next_attempt_at=claimed_at + dt.timedelta(seconds=330)
    )
    with time_machine.travel(claimed_at + dt.timedelta(seconds=30), tick=False):
        busy = notifications.status_update_deliver(update.pk)
    # It looks again after the usual retry delay, not the whole lease: in flight is usually
    # sent within seconds.
    assert busy.outcome is Outcome.BUSY and busy.retry_in == pytest.approx(30)
    assert mail.outbox == []
    with time_machine.travel(claimed_at + dt.timedelta(seconds=331), tick=False):
        assert notifications.status_update_deliver(update.pk).outcome is Outcome.SENT
    update.refresh_from_db()
    assert (update.state, update.attempts, len(mail.outbox)) == ("sent", 2, 1)


def test_the_send_itself_runs_outside_any_transaction_of_ours(
    people: Any, scheme: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a transaction holds the whole database: a slow provider must not."""
    update = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people).status_updates.get()
    connection = transaction.get_connection()
    outside = len(connection.savepoint_ids)  # the test's own transaction, already open
    seen: list[tuple[int, str, Any]] = []

    def send(message: Any, fail_silently: bool = False) -> int:
        row = StatusUpdate.objects.get(pk=update.pk)
        seen.append((len(connection.savepoint_ids), row.state, row.next_attempt_at))
        return 1

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", send)
    assert notifications.status_update_deliver(update.pk).outcome is Outcome.SENT
    ((depth, state, lease),) = seen
    assert depth == outside
    assert state == "pending" and lease > timezone.now()  # claimed before the send


# --- Any provider -----------------------------------------------------------------


def test_a_provider_backend_from_anymail_sends_status_updates(
    people: Any, scheme: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"TEST_SAMPLE_SETTING": "sample"}
    update = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people).status_updates.get()
    assert notifications.status_update_deliver(update.pk).outcome is Outcome.SENT
    (email,) = mail.outbox
    assert email.anymail_status.status == {"sent"}
    assert update.verification_code in email.body


def test_the_email_provider_and_its_settings_come_from_the_environment() -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "EMAIL_URL": "smtp+tls://user:secret@smtp.example.test:587",
        "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
        "ANYMAIL_POSTMARK_SERVER_TOKEN": "token-from-the-environment",
    }
    printed = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings as s; import json; "
         "print(json.dumps([s.EMAIL_BACKEND, s.ANYMAIL, s.EMAIL_HOST, s.EMAIL_PORT, "
         "s.EMAIL_USE_TLS, s.EMAIL_TIMEOUT]))"],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    assert json.loads(printed) == [
        "anymail.backends.postmark.EmailBackend",
        {"POSTMARK_SERVER_TOKEN": "token-from-the-environment"},
        "smtp.example.test",
        587,
        True,
        20,
    ]


def test_the_task_keeps_retrying_until_the_rows_own_attempts_run_out(
    people: Any, scheme: Any, scripted: type[ScriptedBackend], settings: Any
) -> None:
    """Celery's own limit (3 retries unless a task says otherwise) must not cut in first."""
    from claims.delivery import tasks

    settings.EMAIL_MAX_ATTEMPTS = 6
    settings.EMAIL_RETRY_SECONDS = 0  # run as Celery would when each retry is due
    update = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people).status_updates.get()
    scripted.script = [ConnectionRefusedError(111, "Connection refused") for _ in range(5)]
    result = tasks.status_update_send.apply(args=(update.pk,))
    assert result.get() == "sent"
    update.refresh_from_db()
    assert (update.state, update.attempts, len(mail.outbox)) == ("sent", 6, 1)
