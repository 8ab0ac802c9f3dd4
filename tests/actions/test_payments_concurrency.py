"""Two finance officers at once: a payment is marked paid once, a claim goes into one
batch. PostgreSQL only (SQLite has no row locks); the race is forced each run by
holding the first call's locks until PostgreSQL reports the rival waiting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claims.actions import payments, submission
from claims.core import Actor, ClaimError
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import Payment, PaymentBatch
from claims.queries import funds
from tests.support.factories import People, claim_in_stage, staff
from tests.support.races import race


def _payable(people: People):
    claim = claim_in_stage(Stage.ACCEPTED, people=people)
    submission.bank_details_set(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        account_name="Zoë O'Brien",
        sort_code="401276",
        account_number="73915284",
    )
    return claim


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_officers_marking_one_payment_paid_at_once_pay_it_once(monkeypatch):
    people = People()
    claim = _payable(people)
    payments.payment_batch_build(scheme_id=claim.scheme_id, actor=Actor.staff(people.finance))
    payment = claim.payments.get()
    rival = staff(roles.FINANCE_OFFICER)

    def mark(user):
        return lambda: payments.payment_mark_paid(payment_id=payment.pk, actor=Actor.staff(user))

    first, second = race(mark(people.finance), mark(rival), monkeypatch)

    assert isinstance(first, Payment)
    assert isinstance(second, ClaimError) and second.code == "already_paid"
    claim.refresh_from_db()
    assert claim.stage == Stage.PAID
    assert claim.payments.filter(state=Payment.State.PAID).count() == 1
    assert claim.events.filter(action="payment_confirm").count() == 1
    assert claim.status_updates.filter(kind="paid").count() == 1
    assert claim.letter_requests.filter(kind="payment_confirmation").count() == 1
    assert funds.paid_total(claim.scheme) == Decimal("35.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_officers_building_batches_at_once_put_a_claim_in_one(monkeypatch):
    people = People()
    claim = _payable(people)
    rival = staff(roles.FINANCE_OFFICER)

    def build(user):
        return lambda: payments.payment_batch_build(
            scheme_id=claim.scheme_id, actor=Actor.staff(user)
        )

    first, second = race(build(people.finance), build(rival), monkeypatch)

    assert isinstance(first, PaymentBatch)
    assert isinstance(second, ClaimError) and second.code == "nothing_to_pay"
    assert claim.payments.count() == 1 and PaymentBatch.objects.count() == 1
    claim.refresh_from_db()
    assert claim.stage == Stage.PAYMENT_PENDING
    assert claim.events.filter(action="payment_queue").count() == 1
