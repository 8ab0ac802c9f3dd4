"""A caseworker's decision on each head of loss: amount allowed and why."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from claims.actions import casework, offers, submission
from claims.core import Actor, ClaimError
from claims.domain.stages import Stage
from claims.models import Claim, Evidence, HeadOfLoss
from tests.support.factories import draft_claim, take_step


def _time_claim_in_assessment(people, *, hours: str, evidence: bool) -> HeadOfLoss:
    claim = draft_claim()
    head = submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        category=HeadOfLoss.Category.TIME_SPENT,
        hours=hours,
        description="Calls to the bank and the card company",
    )
    if evidence:
        data = b"%PDF-1.4 call log"
        Evidence.objects.create(
            claim=claim,
            head_of_loss=head,
            file=ContentFile(data, name="log.pdf"),
            original_name="call log.pdf",
            content_type="application/pdf",
            size=len(data),
            sha256=Evidence.checksum(data),
        )
    for step in ("submit", "triage_start", "triage_accept"):
        take_step(Claim.objects.get(pk=claim.pk), step, people)
    assert Claim.objects.get(pk=claim.pk).stage == Stage.ASSESSMENT
    return head


@pytest.mark.django_db
def test_time_without_evidence_is_allowed_up_to_the_lower_cap(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    head = _time_claim_in_assessment(people, hours="15", evidence=False)
    actor = Actor.staff(people.caseworker)

    with pytest.raises(ClaimError) as refused:
        casework.head_of_loss_assess(head_id=head.pk, actor=actor, amount_allowed="375.00")
    allowed = casework.head_of_loss_assess(
        head_id=head.pk, actor=actor, amount_allowed="250.00", reason="10 hours without a log"
    )

    assert refused.value.code == "above_cap"
    assert "10 hours without evidence" in refused.value.message
    assert allowed.amount_allowed == Decimal("250.00")


@pytest.mark.django_db
def test_time_with_evidence_is_allowed_up_to_the_higher_cap(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    head = _time_claim_in_assessment(people, hours="25", evidence=True)
    actor = Actor.staff(people.caseworker)

    with pytest.raises(ClaimError) as refused:
        casework.head_of_loss_assess(head_id=head.pk, actor=actor, amount_allowed="500.01")
    allowed = casework.head_of_loss_assess(head_id=head.pk, actor=actor, amount_allowed="500.00")

    assert refused.value.code == "above_cap"
    assert allowed.amount_allowed == Decimal("500.00")
    assert allowed.assessed_by == people.caseworker
    event = Claim.objects.get(pk=head.claim_id).events.get(action="assess_head")
    assert event.data == {"head_of_loss": head.pk, "amount_allowed": "500.00"}


@pytest.mark.django_db
def test_offer_total_is_the_sum_of_allowed_amounts_to_the_penny(people):
    claim = draft_claim()
    claimant = Actor.claimant(claim.pk)
    for amount in ("19.99", "0.01", "333.33"):
        submission.head_of_loss_add(
            claim_id=claim.pk,
            actor=claimant,
            category=HeadOfLoss.Category.BANK_CHARGES,
            amount_claimed=amount,
        )
    for step in ("submit", "triage_start", "triage_accept"):
        take_step(Claim.objects.get(pk=claim.pk), step, people)
    caseworker = Actor.staff(people.caseworker)
    allowed = {"19.99": "19.99", "0.01": "0.00", "333.33": "333.32"}
    for head in claim.heads_of_loss.all():
        casework.head_of_loss_assess(
            head_id=head.pk,
            actor=caseworker,
            amount_allowed=allowed[f"{head.amount_claimed}"],
            reason="Partly refunded by the bank",
        )

    offer = offers.offer_propose(claim_id=claim.pk, actor=caseworker)

    assert offer.total == Decimal("353.31")
    assert sum(i.amount_offered for i in offer.items.all()) == offer.total
