"""The notice campaign, its tasks run here one by one as a worker would run them: chunks,
progress, pause and resume, failures, and never two notices to one person."""

from __future__ import annotations

import datetime as dt
import smtplib
from collections import Counter
from typing import Any, ClassVar

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

import claims.delivery.tasks  # noqa: F401  (registers the tasks run below)
from claims import outbox
from claims.actions.notices import (
    notice_campaign_pause,
    notice_campaign_resume,
    notice_campaign_start,
    notice_campaigns_revive,
)
from claims.core import ClaimError
from claims.delivery import emails as notifications
from claims.delivery import notices as notice_delivery
from claims.delivery.notices import notice_chunk_send
from claims.models import NoticeCampaign, RegisterEntry
from config.celery import app
from tests.support.factories import RegisterEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """The broker: tasks published (after commit) wait here until `drain` runs them."""
    waiting: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(outbox, "publish", lambda name, *args: waiting.append((name, args)))
    return waiting


@pytest.fixture
def drain(queue: list[Any], django_capture_on_commit_callbacks: Any) -> Any:
    def run(limit: int = 1000) -> list[Any]:
        results = []
        while queue and limit:
            name, args = queue.pop(0)
            with django_capture_on_commit_callbacks(execute=True):
                results.append(app.tasks[name](*args))
            limit -= 1
        return results

    return run


@pytest.fixture
def register(scheme: Any, settings: Any) -> list[RegisterEntry]:
    settings.NOTICE_CHUNK_SIZE = 4
    settings.SITE_URL = "https://claims.example.test"
    return RegisterEntryFactory.create_batch(10, scheme=scheme)


def start(scheme: Any, user: Any, capture: Any) -> NoticeCampaign:
    with capture(execute=True):
        return notice_campaign_start(scheme_id=scheme.pk, user=user)


def recipients() -> Counter[str]:
    return Counter(address for message in mail.outbox for address in message.to)


def test_a_campaign_sends_each_person_their_notice_once_in_chunks(
    scheme: Any, scheme_admin: Any, register: list[RegisterEntry], drain: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    already = RegisterEntryFactory(scheme=scheme, notice_sent_at=timezone.now())
    RegisterEntryFactory(scheme=scheme, email="")
    campaign = start(scheme, scheme_admin, django_capture_on_commit_callbacks)
    assert campaign.total == 10
    results = drain()
    assert results == [3, "done", "done", "done"]  # the plan, then chunks of 4, 4 and 2
    assert recipients() == Counter(entry.email for entry in register)
    assert already.email not in recipients()
    campaign.refresh_from_db()
    assert (campaign.state, campaign.sent, campaign.failed) == ("finished", 10, 0)
    assert (campaign.chunks_done, campaign.chunks_total) == (3, 3)
    assert campaign.finished_at is not None
    assert RegisterEntry.objects.filter(scheme=scheme, notice_sent_at__isnull=True).count() == 1


def test_the_notice_gives_the_code_what_happened_and_how_to_claim(
    scheme: Any, scheme_admin: Any, register: list[RegisterEntry], drain: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    start(scheme, scheme_admin, django_capture_on_commit_callbacks)
    drain()
    entry = register[0]
    (email,) = [m for m in mail.outbox if m.to == [entry.email]]
    (html, _), *_ = email.alternatives
    assert email.subject == (
        f"Your personal data was stolen from {scheme.organisation}: you can claim compensation"
    )
    assert email.extra_headers["Message-ID"] == f"<redress.notice.{entry.pk}@redress.invalid>"
    for body in (email.body, str(html)):
        assert entry.notice_code in body
        assert "https://claims.example.test/" in body
        assert f"{scheme.claims_close:%-d %B %Y}" in body
        assert "Between 24 February and 11 April 2017" in body
    assert f"Dear {entry.full_name}," in email.body


def test_pausing_stops_the_chunks_and_resuming_sends_only_what_is_left(
    scheme: Any, scheme_admin: Any, register: list[RegisterEntry], drain: Any, queue: list[Any],
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any, settings: Any,
) -> None:  # fmt: skip
    monkeypatch.setattr(notice_delivery, "CHECK_EVERY", 2)
    settings.NOTICE_CHUNK_SIZE = 10  # one chunk
    campaign = start(scheme, scheme_admin, django_capture_on_commit_callbacks)
    drain(limit=1)  # the plan
    first_chunk = queue[0]
    # The administrator pauses while the first chunk is sending its third notice.
    sends = 0
    real_send = LocmemBackend.send_messages

    def send_then_pause(backend: Any, messages: Any) -> int:
        nonlocal sends
        sends += 1
        if sends == 3:
            notice_campaign_pause(campaign_id=campaign.pk, user=scheme_admin)
        return real_send(backend, messages)

    monkeypatch.setattr(LocmemBackend, "send_messages", send_then_pause)
    assert drain() == ["paused"]
    assert len(mail.outbox) == 4  # the check comes every two sends
    campaign.refresh_from_db()
    assert (campaign.state, campaign.sent) == ("paused", 4)

    with django_capture_on_commit_callbacks(execute=True):
        notice_campaign_resume(campaign_id=campaign.pk, user=scheme_admin)
    queue.append(first_chunk)  # a chunk from before the pause, delivered late
    assert drain() == [1, "stale", "done"]
    assert recipients() == Counter(entry.email for entry in register)
    campaign.refresh_from_db()
    assert (campaign.state, campaign.sent, campaign.generation) == ("finished", 10, 2)


def test_the_same_chunk_run_twice_sends_nothing_the_second_time(
    scheme: Any, scheme_admin: Any, register: list[RegisterEntry], drain: Any, queue: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    start(scheme, scheme_admin, django_capture_on_commit_callbacks)
    drain(limit=1)
    queue.insert(1, queue[0])  # the broker delivers the first chunk twice
    assert drain() == ["done", "done", "done", "done"]
    assert recipients() == Counter(entry.email for entry in register)
    assert NoticeCampaign.objects.get().state == "finished"


class FlakyBackend(LocmemBackend):
    """Fails the sends listed in `fail_on` (counting from 1) with their error."""

    fail_on: ClassVar[dict[int, BaseException]] = {}
    count = 0

    def send_messages(self, messages: Any) -> int:
        FlakyBackend.count += 1
        if error := FlakyBackend.fail_on.get(FlakyBackend.count):
            raise error
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings: Any) -> type[FlakyBackend]:
    settings.EMAIL_BACKEND = "tests.delivery.test_notifications_notices.FlakyBackend"
    FlakyBackend.count, FlakyBackend.fail_on = 0, {}
    return FlakyBackend


def test_a_provider_error_mid_chunk_keeps_what_was_sent_and_the_retry_sends_the_rest(
    scheme: Any, scheme_admin: Any, register: list[RegisterEntry], drain: Any, queue: list[Any],
    flaky: type[FlakyBackend], django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    flaky.fail_on = {3: smtplib.SMTPServerDisconnected("Connection unexpectedly closed")}
    campaign = start(scheme, scheme_admin, django_capture_on_commit_callbacks)
    drain(limit=1)
    (_, args), *_ = queue
    with pytest.raises(smtplib.SMTPServerDisconnected):
        notice_chunk_send(campaign_id=args[0], generation=args[1], first_id=args[2],
                                  last_id=args[3])  # fmt: skip
    assert len(mail.outbox) == 2
    drain()  # the chunk again (as Celery's retry would), then the others
    assert recipients() == Counter(entry.email for entry in register)
    campaign.refresh_from_db()
    assert (campaign.state, campaign.sent) == ("finished", 10)


def test_an_address_that_cannot_work_is_recorded_and_a_later_campaign_tries_it_again(
    scheme: Any, scheme_admin: Any, register: list[RegisterEntry], drain: Any, flaky: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    injected, refused = register[1], register[6]
    RegisterEntry.objects.filter(pk=injected.pk).update(email="a@b.test\r\nBcc: x@evil.test")
    flaky.fail_on = {6: smtplib.SMTPRecipientsRefused({refused.email: (550, b"No such user")})}
    campaign = start(scheme, scheme_admin, django_capture_on_commit_callbacks)
    drain()
    campaign.refresh_from_db()
    assert (campaign.state, campaign.sent, campaign.failed) == ("finished", 8, 2)
    injected.refresh_from_db()
    refused.refresh_from_db()
    assert injected.notice_sent_at is None and "line break" in injected.notice_error
    assert refused.notice_sent_at is None and "550 No such user" in refused.notice_error
    assert not any("evil" in address for address in recipients())

    RegisterEntry.objects.filter(pk=injected.pk).update(email="fixed@example.test")
    mail.outbox.clear()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1)):
        again = start(scheme, scheme_admin, django_capture_on_commit_callbacks)
        drain()
    assert again.total == 2
    assert recipients() == Counter({"fixed@example.test": 1, refused.email: 1})


def test_a_campaign_cannot_start_without_the_right_or_with_nobody_left(
    scheme: Any, scheme_admin: Any, caseworker: Any, register: list[RegisterEntry],
) -> None:  # fmt: skip
    with pytest.raises(ClaimError, match="does not allow"):
        notice_campaign_start(scheme_id=scheme.pk, user=caseworker)
    RegisterEntry.objects.update(notice_sent_at=timezone.now())
    with pytest.raises(ClaimError, match="has been sent a notice") as refused:
        notice_campaign_start(scheme_id=scheme.pk, user=scheme_admin)
    assert refused.value.code == "nothing_to_send"


def test_the_sweeper_plans_again_a_campaign_whose_tasks_were_lost(
    scheme: Any, scheme_admin: Any, register: list[RegisterEntry], drain: Any, queue: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    campaign = start(scheme, scheme_admin, django_capture_on_commit_callbacks)
    queue.clear()  # the plan never reached the broker
    assert notice_campaigns_revive() == 0  # not stalled yet
    later = timezone.now() + dt.timedelta(minutes=6)
    with django_capture_on_commit_callbacks(execute=True):
        assert notice_campaigns_revive(now=later) == 1
    drain()
    campaign.refresh_from_db()
    assert (campaign.state, campaign.sent, campaign.generation) == ("finished", 10, 2)
    assert recipients() == Counter(entry.email for entry in register)


def test_a_chunk_that_gives_up_marks_its_entries_failed_so_the_campaign_can_finish(
    scheme: Any, scheme_admin: Any, register: list[RegisterEntry], drain: Any, queue: list[Any],
    flaky: type[FlakyBackend], settings: Any, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    settings.EMAIL_MAX_ATTEMPTS = 1
    flaky.fail_on = {1: ConnectionRefusedError(111, "Connection refused")}
    campaign = start(scheme, scheme_admin, django_capture_on_commit_callbacks)
    drain(limit=1)
    (name, args), *_ = queue
    queue.pop(0)
    chunk = app.tasks[name]
    with django_capture_on_commit_callbacks(execute=True):
        assert chunk.apply(args=args).get() == "gave_up"  # as on a worker: its retry logic
    drain()
    campaign.refresh_from_db()
    assert (campaign.state, campaign.sent, campaign.failed) == ("finished", 6, 4)
    assert "Gave up after 1 attempts: ConnectionRefusedError" in campaign.last_error
    failed = RegisterEntry.objects.filter(scheme=scheme, notice_failed_at__isnull=False)
    assert sorted(failed.values_list("pk", flat=True)) == [e.pk for e in register[:4]]


def test_a_chunk_is_retried_up_to_the_email_attempts_not_celerys_default_three(
    scheme: Any, scheme_admin: Any, register: list[RegisterEntry], drain: Any, queue: list[Any],
    flaky: type[FlakyBackend], settings: Any, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    monkeypatch.setattr(notifications, "retry_delay", lambda attempts: 0)
    settings.EMAIL_MAX_ATTEMPTS = 6
    flaky.fail_on = {n: ConnectionRefusedError(111, "Connection refused") for n in range(1, 6)}
    campaign = start(scheme, scheme_admin, django_capture_on_commit_callbacks)
    drain(limit=1)
    name, args = queue.pop(0)
    with django_capture_on_commit_callbacks(execute=True):
        assert app.tasks[name].apply(args=args).get() == "done"  # the 6th attempt
    drain()
    campaign.refresh_from_db()
    assert (campaign.state, campaign.sent, campaign.failed) == ("finished", 10, 0)


def test_a_lost_progress_increment_does_not_leave_the_campaign_totals_wrong(
    scheme: Any, scheme_admin: Any, register: list[RegisterEntry], drain: Any,
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # As if a task were killed between committing its sends and recording them.
    monkeypatch.setattr(notice_delivery, "_record_progress", lambda *args: None)
    campaign = start(scheme, scheme_admin, django_capture_on_commit_callbacks)

    drain()

    campaign.refresh_from_db()
    assert (campaign.state, campaign.sent, campaign.failed) == ("finished", 10, 0)
