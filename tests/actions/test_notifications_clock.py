"""The scheme's clock, run on chosen days with time-machine: reminders, closing, offer
warnings and expiry, and the staff digest, each counting England and Wales working
days across real bank holidays, and each safe to run twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from claims.actions import casework, clock, offers, submission
from claims.core import Actor
from claims.delivery import emails as notifications
from claims.domain.stages import Stage
from claims.models import Claim, StaffDigest, StatusUpdate
from claims.queries.queues import SERVICE_LEVEL_WORKING_DAYS, overdue_q
from tests.support.factories import CLAIMANT, SchemeFactory, claim_in_stage

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@contextmanager
def on(day: dt.date, hour: int = 8) -> Iterator[None]:
    with time_machine.travel(dt.datetime(day.year, day.month, day.day, hour, tzinfo=LONDON),
                             tick=False):  # fmt: skip
        yield


def run_twice(job: Any, day: dt.date) -> int:
    """Run a clock job twice on `day`, as two beats might; the second must do nothing."""
    with on(day):
        first = job()
        assert job() == 0, f"{job.__name__} did more on its second run on {day}"
    return int(first)


def kinds(claim: Claim) -> list[str]:
    return list(claim.status_updates.order_by("pk").values_list("kind", flat=True))


def deliver_new(claim: Claim) -> list[Any]:
    mail.outbox.clear()
    for update in claim.status_updates.filter(state=StatusUpdate.State.PENDING):
        notifications.status_update_deliver(update.pk)
    return list(mail.outbox)


# --- Information requests over Christmas and New Year ---------------------------------

ASKED = dt.date(2025, 12, 19)  # a Friday; 25, 26 December and 1 January are bank holidays


@pytest.fixture
def asked(people: Any) -> Claim:
    with on(ASKED, hour=10):
        claim = claim_in_stage(Stage.INFORMATION_REQUESTED, scheme=SchemeFactory(), people=people)
    # 20 working days: a calendar count would say 8 January.
    assert claim.information_due == dt.date(2026, 1, 21)
    deliver_new(claim)  # the emails of the journey so far
    return claim


def test_reminders_go_on_the_10th_and_17th_working_days_after_the_request(asked: Claim) -> None:
    before = kinds(asked)
    # Ten calendar days on is 29 December; ten working days on is 7 January.
    for day in (dt.date(2025, 12, 29), dt.date(2026, 1, 2), dt.date(2026, 1, 6)):
        assert run_twice(clock.send_reminders, day) == 0
    assert run_twice(clock.send_reminders, dt.date(2026, 1, 7)) == 1
    (first,) = deliver_new(asked)
    assert first.subject == f"Reminder: we need more information for your claim {asked.reference}"
    assert "Please send it by 21 January 2026." in first.body
    assert "Please send the bank statement for March 2017." in first.body
    for day in (dt.date(2026, 1, 8), dt.date(2026, 1, 15)):
        assert run_twice(clock.send_reminders, day) == 0
    assert run_twice(clock.send_reminders, dt.date(2026, 1, 16)) == 1
    (second,) = deliver_new(asked)
    assert second.subject.startswith("Final reminder: ")
    assert kinds(asked) == [*before, "reminder", "reminder"]
    assert run_twice(clock.send_reminders, dt.date(2026, 1, 21)) == 0


def test_a_clock_stopped_past_both_reminder_days_sends_only_the_final_one(asked: Claim) -> None:
    assert run_twice(clock.send_reminders, dt.date(2026, 1, 19)) == 1
    assert asked.status_updates.get(kind="reminder").dedupe_key.endswith(":2")
    assert run_twice(clock.send_reminders, dt.date(2026, 1, 20)) == 0


def test_no_reminder_once_the_claimant_has_answered(asked: Claim) -> None:
    with on(dt.date(2026, 1, 5)):
        submission.claim_provide_information(
            claim_id=asked.pk, actor=Actor.claimant(asked.pk), response="Attached."
        )
    assert run_twice(clock.send_reminders, dt.date(2026, 1, 7)) == 0
    assert run_twice(clock.close_expired_information_requests, dt.date(2026, 1, 22)) == 0
    asked.refresh_from_db()
    assert asked.stage == Stage.ASSESSMENT


def test_a_claim_is_closed_the_working_day_after_its_cure_window_ends(asked: Claim) -> None:
    assert run_twice(clock.close_expired_information_requests, dt.date(2026, 1, 21)) == 0
    asked.refresh_from_db()
    assert asked.stage == Stage.INFORMATION_REQUESTED
    assert run_twice(clock.close_expired_information_requests, dt.date(2026, 1, 22)) == 1
    asked.refresh_from_db()
    assert asked.stage == Stage.CLOSED_INCOMPLETE
    event = asked.events.get(action="close_incomplete")
    assert event.actor_kind == "system"
    (closed,) = deliver_new(asked)
    assert closed.subject == f"We have closed your claim {asked.reference}"


# --- Offers over Easter ----------------------------------------------------------

OFFERED = dt.date(2026, 3, 9)  # a Monday; Good Friday is 3 April, Easter Monday 6 April


@pytest.fixture
def offered(people: Any) -> Claim:
    with on(OFFERED, hour=11):
        claim = claim_in_stage(Stage.OFFER_MADE, scheme=SchemeFactory(), people=people)
    assert claim.offers.get().accept_by == dt.date(2026, 4, 8)
    deliver_new(claim)
    return claim


def test_the_offer_expiring_warning_goes_five_working_days_before_the_accept_by_date(
    offered: Claim,
) -> None:
    # Five calendar days before 8 April is Good Friday; five working days before is 30 March.
    assert run_twice(clock.warn_expiring_offers, dt.date(2026, 3, 27)) == 0
    assert run_twice(clock.warn_expiring_offers, dt.date(2026, 3, 30)) == 1
    assert run_twice(clock.warn_expiring_offers, dt.date(2026, 4, 7)) == 0
    (warning,) = deliver_new(offered)
    assert warning.subject == (f"Our offer for your claim {offered.reference} ends on 8 April 2026")
    assert "You have until 8 April 2026 to accept our offer of £35.00." in warning.body


def test_an_offer_expires_the_day_after_its_accept_by_date_and_only_once(offered: Claim) -> None:
    assert run_twice(clock.expire_offers, dt.date(2026, 4, 8)) == 0
    assert run_twice(clock.expire_offers, dt.date(2026, 4, 9)) == 1
    offered.refresh_from_db()
    assert offered.stage == Stage.OFFER_EXPIRED
    assert kinds(offered)[-1] == "offer_expired"
    assert offered.events.filter(action="offer_expire").count() == 1


def test_an_accepted_offer_is_neither_warned_about_nor_expired(offered: Claim) -> None:
    with on(dt.date(2026, 3, 20)):
        offers.offer_accept(claim_id=offered.pk, actor=Actor.claimant(offered.pk))
    assert run_twice(clock.warn_expiring_offers, dt.date(2026, 4, 1)) == 0
    assert run_twice(clock.expire_offers, dt.date(2026, 4, 20)) == 0
    offered.refresh_from_db()
    assert offered.stage == Stage.ACCEPTED


# --- The staff digest around the spring bank holiday ----------------------------------

TRIAGED = dt.date(2026, 5, 18)  # a Monday; 25 May is the spring bank holiday


@pytest.fixture
def waiting(people: Any) -> Claim:
    with on(TRIAGED, hour=10):
        claim = claim_in_stage(Stage.TRIAGE, scheme=SchemeFactory(), people=people)
    assert claim.assigned_to == people.caseworker
    return claim


def test_a_claim_enters_the_digest_once_its_stage_is_overdue(
    waiting: Claim, people: Any, settings: Any
) -> None:
    settings.SITE_URL = "https://claims.example.test"
    # Triage's service standard is 5 working days: due on 26 May, the 5th working day
    # after 18 May (skipping the bank holiday), so overdue, as in the claims list's
    # queue, from 27 May.
    assert SERVICE_LEVEL_WORKING_DAYS[Stage.TRIAGE] == 5
    assert run_twice(clock.send_digests, dt.date(2026, 5, 26)) == 0
    assert run_twice(clock.send_digests, dt.date(2026, 5, 27)) == 1
    assert Claim.objects.filter(overdue_q(dt.date(2026, 5, 27))).get() == waiting
    digest = StaffDigest.objects.get()
    assert (digest.user, digest.day, digest.claim_count) == (
        people.caseworker,
        dt.date(2026, 5, 27),
        1,
    )
    assert notifications.staff_digest_deliver(digest.pk).outcome is notifications.Outcome.SENT
    (email,) = mail.outbox
    assert email.to == [people.caseworker.email]
    assert email.subject == "1 overdue claim assigned to you"
    assert f"{waiting.reference}: Triage since 18 May 2026" in email.body
    assert f"https://claims.example.test/admin/claims/claim/{waiting.pk}/change/" in email.body
    assert CLAIMANT["full_name"] not in email.body and CLAIMANT["email"] not in email.body


def test_no_digest_on_a_bank_holiday_or_a_weekend(waiting: Claim) -> None:
    for day in (dt.date(2026, 6, 6), dt.date(2026, 6, 7), dt.date(2026, 8, 31)):
        assert run_twice(clock.send_digests, day) == 0
    assert run_twice(clock.send_digests, dt.date(2026, 9, 1)) == 1


def test_a_claim_that_moved_on_leaves_the_digest(waiting: Claim, people: Any) -> None:
    with on(dt.date(2026, 6, 1)):
        casework.claim_transition(
            claim_id=waiting.pk,
            transition="triage_accept",
            actor=Actor.staff(people.caseworker),
        )
    assert run_twice(clock.send_digests, dt.date(2026, 6, 3)) == 0
