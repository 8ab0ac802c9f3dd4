"""Status updates through a real Celery worker on Redis to a real SMTP server, and the
faults that must neither lose an email nor send it twice. Each fault test counts the
emails the server received exactly."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from claims import outbox
from claims.actions import casework, emails, submission
from claims.actions.notices import notice_campaign_start
from claims.core import Actor
from claims.domain.stages import Stage
from claims.models import Claim, RegisterEntry, StatusUpdate
from tests.delivery.conftest import (
    Broker,
    OwnRedis,
    SmtpSink,
    Worker,
    publishing_to,
    text_and_html,
    wait_for,
)
from tests.support.factories import CLAIMANT, RegisterEntryFactory, SchemeFactory, claim_in_stage

# The worker is another process: it sees only committed rows.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SITE = "https://claims.example.test"
SENT = r"status_update_send\[[^\]]+\] succeeded in [\d.]+s: 'sent'"
ALREADY_DONE = r"status_update_send\[[^\]]+\] succeeded in [\d.]+s: 'already_done'"
RECEIVED = r"Task claims\.tasks\.status_update_send\[[^\]]+\] received"
# A stalled SMTP conversation must outlast anything else the worker is busy with meanwhile
# (EMAIL_TIMEOUT), and the lease must outlast the stall, as in production it outlasts any
# send. A run that finds the email in flight looks again every EMAIL_RETRY_SECONDS.
STALL_SETTINGS = {"EMAIL_TIMEOUT": "60", "EMAIL_SEND_LEASE_SECONDS": "60",
                  "EMAIL_RETRY_SECONDS": "0.5"}  # fmt: skip


def state_of(update: StatusUpdate) -> tuple[str, int]:
    update.refresh_from_db()
    return update.state, update.attempts


def wait_until_sent(update: StatusUpdate, timeout: float = 20) -> None:
    wait_for(lambda: state_of(update)[0] == "sent", timeout=timeout, what=f"{update} sent")


def test_a_stage_change_arrives_as_an_email_with_its_code_and_follow_link(
    redis_broker: Broker, smtp_sink: SmtpSink, start_worker: Callable[..., Worker], people: Any
) -> None:
    start_worker(redis_broker, smtp_sink)
    claim = claim_in_stage(Stage.SUBMITTED, scheme=SchemeFactory(), people=people)
    (message,) = smtp_sink.wait_for_count(1)
    acknowledgement = claim.status_updates.get()
    wait_until_sent(acknowledgement)
    assert message["To"] == CLAIMANT["email"]
    assert message["Subject"] == f"We have your claim {claim.reference}"
    assert message["Message-ID"] == f"<redress.status.{acknowledgement.pk}@redress.invalid>"
    text, html = text_and_html(message)
    for body in (text, html):
        assert f"Verification code: {acknowledgement.verification_code}" in body.replace(
            '<strong style="font-family:monospace;font-size:24px;letter-spacing:2px">', ""
        ).replace("</strong>", "")
        assert f"{SITE}/follow/" in body
    assert "Dear Zoë O'Brien," in text

    casework.claim_transition(
        claim_id=claim.pk, transition="triage_start", actor=Actor.staff(people.caseworker)
    )
    messages = smtp_sink.wait_for_count(2)
    in_triage = claim.status_updates.get(kind="in_triage")
    assert messages[1]["Subject"] == f"We have started checking your claim {claim.reference}"
    assert in_triage.verification_code in text_and_html(messages[1])[0]
    assert in_triage.verification_code != acknowledgement.verification_code


def _submit(scheme: Any) -> Claim:
    claim = submission.claim_start(scheme=scheme, **CLAIMANT)
    submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        category="bank_charges",
        amount_claimed="25.00",
    )
    return submission.claim_submit(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), statement_of_truth=True
    )


def test_a_submission_is_one_message_the_worker_turns_into_its_email_and_flag_check(
    redis_broker: Broker, smtp_sink: SmtpSink, start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker(redis_broker, smtp_sink)
    claim = _submit(SchemeFactory())  # no notice code: not on the register

    (message,) = smtp_sink.wait_for_count(1)
    assert message["Subject"] == f"We have your claim {claim.reference}"
    wait_until_sent(claim.status_updates.get())
    wait_for(
        lambda: Claim.objects.filter(pk=claim.pk, flags_checked_at__isnull=False).exists(),
        what="the worker's flag check",
    )
    assert set(claim.flags.values_list("kind", flat=True)) == {"not_on_register"}
    assert worker.count(r"publish_together\[[^\]]+\] succeeded in [\d.]+s: 3") == 1


def test_redis_down_at_submit_delays_the_email_and_the_sweeper_sends_it_once(
    own_redis: OwnRedis, smtp_sink: SmtpSink, start_worker: Callable[..., Worker],
    settings: Any,
) -> None:  # fmt: skip
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 1  # in production, minutes
    broker = Broker(url=own_redis.url, prefix="")
    scheme = SchemeFactory()
    with publishing_to(broker):
        start_worker(own_redis, smtp_sink)
        own_redis.stop()

        started = time.monotonic()
        claim = _submit(scheme)  # the claimant's request, with the broker down
        elapsed = time.monotonic() - started

        claim.refresh_from_db()
        assert claim.stage == Stage.SUBMITTED
        update = claim.status_updates.get()
        assert state_of(update) == ("pending", 0)
        assert elapsed < 2, f"a dead broker held the request for {elapsed:.2f}s"

        own_redis.start()
        # The sweeper, as beat runs it, once the row is overdue.
        wait_for(lambda: outbox.outbox_sweep() == 1, what="the sweeper to queue it")
        (message,) = smtp_sink.wait_for_count(1, timeout=40)
        wait_until_sent(update)
        assert message["Subject"] == f"We have your claim {claim.reference}"
        assert update.verification_code in text_and_html(message)[0]
        assert outbox.outbox_sweep() == 0  # sent: nothing more to queue
    assert smtp_sink.count() == 1
    assert state_of(update) == ("sent", 1)


def test_a_worker_killed_while_sending_delivers_the_email_once(
    redis_broker: Broker, smtp_sink: SmtpSink, start_worker: Callable[..., Worker]
) -> None:
    # The dead sender's lease has to run out within the test: 5 s, not 330.
    settings = {**STALL_SETTINGS, "EMAIL_SEND_LEASE_SECONDS": "5"}
    worker = start_worker(redis_broker, smtp_sink, **settings)
    smtp_sink.stall_next = True
    claim = _submit(SchemeFactory())
    update = claim.status_updates.get()
    assert smtp_sink.stalled.wait(20), "the send never started"

    killed = worker.kill_pool_processes()  # mid-conversation with the SMTP server
    assert killed
    assert smtp_sink.stall_over.wait(10)  # the server saw the connection drop
    # The message went back to the queue; the next run waits out the dead sender's lease.
    wait_until_sent(update, timeout=30)
    worker.wait_for_log(SENT)
    assert smtp_sink.count() == 1
    assert state_of(update) == ("sent", 2)  # the killed attempt counts
    assert "SIGKILL" in worker.output()


def test_the_same_task_delivered_twice_sends_one_email(
    redis_broker: Broker, smtp_sink: SmtpSink, start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker(redis_broker, smtp_sink, **STALL_SETTINGS)
    smtp_sink.stall_next = True
    claim = _submit(SchemeFactory())
    update = claim.status_updates.get()
    assert smtp_sink.stalled.wait(20)
    # The first run holds the row while the SMTP server dawdles; a second message for
    # the same row arrives (a restored message, the sweeper racing a slow worker).
    assert outbox.publish(outbox.STATUS_UPDATE_TASK, update.pk)
    worker.wait_for_log(RECEIVED, count=2)
    worker.wait_for_log(r"status_update_send\[[^\]]+\] retry: Retry in")  # found it in flight
    smtp_sink.release.set()
    worker.wait_for_log(SENT)
    worker.wait_for_log(ALREADY_DONE, timeout=30)
    assert smtp_sink.count() == 1
    assert state_of(update) == ("sent", 1)


def test_an_smtp_server_refusing_then_accepting_gets_the_email_once(
    redis_broker: Broker, smtp_sink: SmtpSink, start_worker: Callable[..., Worker]
) -> None:
    start_worker(redis_broker, smtp_sink, EMAIL_MAX_ATTEMPTS="5")
    smtp_sink.refusals = 2
    claim = _submit(SchemeFactory())
    update = claim.status_updates.get()
    smtp_sink.wait_for_count(1)
    wait_until_sent(update)
    assert smtp_sink.count() == 1 and smtp_sink.refusals == 0
    assert state_of(update) == ("sent", 3)
    assert update.last_error == "SMTPDataError: 451 4.3.0 Try again later"


def test_a_server_that_keeps_refusing_fails_the_email_until_staff_send_it_again(
    redis_broker: Broker, smtp_sink: SmtpSink, start_worker: Callable[..., Worker],
    caseworker: Any,
) -> None:  # fmt: skip
    start_worker(redis_broker, smtp_sink, EMAIL_MAX_ATTEMPTS="3")
    smtp_sink.refusals = 3
    claim = _submit(SchemeFactory())
    update = claim.status_updates.get()
    wait_for(lambda: state_of(update) == ("failed", 3), what="the third refusal to fail it")
    assert smtp_sink.count() == 0
    assert emails.outbox_resend(model=StatusUpdate, ids=[update.pk], actor=caseworker) == 1
    (message,) = smtp_sink.wait_for_count(1)
    wait_until_sent(update)
    assert message["Subject"] == f"We have your claim {claim.reference}"
    assert state_of(update) == ("sent", 1)


def test_a_header_injection_address_is_failed_once_and_the_worker_goes_on(
    redis_broker: Broker, smtp_sink: SmtpSink, start_worker: Callable[..., Worker],
    people: Any,
) -> None:  # fmt: skip
    worker = start_worker(redis_broker, smtp_sink)
    scheme = SchemeFactory()
    claim = claim_in_stage(Stage.TRIAGE, scheme=scheme, people=people)
    smtp_sink.wait_for_count(2)
    Claim.objects.filter(pk=claim.pk).update(email="zoe@example.test\r\nBcc: eve@evil.test")
    casework.claim_transition(
        claim_id=claim.pk, transition="triage_accept", actor=Actor.staff(people.caseworker)
    )
    poisoned = claim.status_updates.get(kind="in_assessment")
    wait_for(lambda: state_of(poisoned)[0] == "failed", what="the bad address to be refused")
    assert state_of(poisoned) == ("failed", 1)
    assert "line break" in poisoned.last_error
    # The next claimant's email still goes, and nothing went to the injected address.
    other = _submit(scheme)
    messages = smtp_sink.wait_for_count(3)
    assert messages[2]["Subject"] == f"We have your claim {other.reference}"
    assert not any("evil" in str(m["To"]) + str(m["Bcc"]) for m in messages)
    assert worker.count(r"status_update_send\[[^\]]+\] succeeded in [\d.]+s: 'failed'") == 1


def test_a_notice_campaign_on_the_worker_sends_each_person_one_notice(
    redis_broker: Broker, smtp_sink: SmtpSink, start_worker: Callable[..., Worker],
    scheme_admin: Any,
) -> None:  # fmt: skip
    start_worker(redis_broker, smtp_sink, NOTICE_CHUNK_SIZE="7")
    scheme = SchemeFactory()
    entries = RegisterEntryFactory.create_batch(30, scheme=scheme)
    campaign = notice_campaign_start(scheme_id=scheme.pk, user=scheme_admin)
    messages = smtp_sink.wait_for_count(30, timeout=60)
    wait_for(lambda: type(campaign).objects.get(pk=campaign.pk).state == "finished",
             what="the campaign to finish")  # fmt: skip
    assert sorted(str(m["To"]) for m in messages) == sorted(e.email for e in entries)
    assert not RegisterEntry.objects.filter(scheme=scheme, notice_sent_at__isnull=True).exists()
    campaign.refresh_from_db()
    assert (campaign.sent, campaign.failed) == (30, 0)
