"""Every kind of letter, read back from the PDF: its figures and its wording."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings

from claims.actions import casework, offers, submission
from claims.core import Actor
from claims.delivery import letters
from claims.delivery.letter_samples import (
    SAMPLE_DISTRESS_AWARD,
    SAMPLE_HEADS,
    SAMPLE_TOTAL,
    sample_claim_assessed,
    sample_claim_with_offer,
)
from claims.domain import roles
from claims.domain.stages import LetterKind, Stage
from claims.models import HeadOfLoss
from tests.support.factories import claim_in_stage, staff, take_step
from tests.support.letters import money, pdf_text, render

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer_claim(scheme, people):
    return sample_claim_with_offer(scheme=scheme, staff=people)


def test_settlement_letter_lists_each_head_claimed_offered_and_why_they_differ(offer_claim):
    text = pdf_text(render(offer_claim, LetterKind.SETTLEMENT_OFFER).pdf)

    for category, claimed, description, _, allowed, reason in SAMPLE_HEADS:
        label = HeadOfLoss.Category(category).label
        if category == HeadOfLoss.Category.TIME_SPENT:
            label = f"{label} ({claimed} hours)"
            claimed = str(Decimal(claimed) * offer_claim.scheme.lost_time_hourly_rate)
        assert f"{label} You said: {description}" in text
        row = re.search(re.escape(label) + r".*?(£[\d,]+\.\d\d) (£[\d,]+\.\d\d)", text)
        assert row is not None, label
        assert row.groups() == (money(claimed), money(allowed)), label
        if Decimal(claimed) != Decimal(allowed):
            assert f"Why the amount is different: {reason}" in text
    assert "Distress (moderate band)" in text
    assert f"Not a set amount {money(SAMPLE_DISTRESS_AWARD)}" in text


def test_settlement_total_is_the_sum_of_allowed_heads_plus_distress_to_the_penny(offer_claim):
    offer = offer_claim.offers.get()
    allowed = sum((Decimal(h[4]) for h in SAMPLE_HEADS), Decimal("0.00"))
    text = pdf_text(render(offer_claim, LetterKind.SETTLEMENT_OFFER).pdf)

    assert allowed + SAMPLE_DISTRESS_AWARD == SAMPLE_TOTAL == offer.total
    total_row = re.search(r"Total (£[\d,]+\.\d\d) (£[\d,]+\.\d\d)", text)
    assert total_row is not None
    assert total_row.group(2) == money(SAMPLE_TOTAL) == "£1,970.00"
    assert f"We offer you {money(SAMPLE_TOTAL)}" in text
    assert (
        f"{money(allowed)} for your financial losses and {money(SAMPLE_DISTRESS_AWARD)} "
        "for distress" in text
    )
    # Every amount printed in the "We offer" column adds up to the total printed.
    table = text[text.index("You claimed We offer") : text.index("Total £")]
    offered = re.findall(r"(?:£[\d,]+\.\d\d|Not a set amount) £([\d,]+\.\d\d)", table)
    assert len(offered) == len(SAMPLE_HEADS) + 1
    assert sum((Decimal(v.replace(",", "")) for v in offered), Decimal("0.00")) == SAMPLE_TOTAL


def test_settlement_letter_says_how_to_accept_by_when_and_what_acceptance_means(offer_claim):
    offer = offer_claim.offers.get()
    text = pdf_text(render(offer_claim, LetterKind.SETTLEMENT_OFFER).pdf)

    assert f"Accept online by {offer.accept_by:%A %-d %B %Y}" in text
    assert f"{settings.SITE_URL}/my-claim/" in text
    assert "You never need a password" in text
    assert f"You have {offer_claim.scheme.accept_by_working_days} working days to decide" in text
    assert f"{money(SAMPLE_TOTAL)} in full and final settlement" in text
    assert "You cannot claim again for this breach" in text


def test_settlement_letter_gives_the_review_then_the_ico_and_court(offer_claim):
    text = pdf_text(render(offer_claim, LetterKind.SETTLEMENT_OFFER).pdf)

    review = text.index("A senior caseworker who did not assess your claim will then review it")
    ico = text.index("complain to the Information Commissioner's Office (ICO)")
    court = text.index("take your claim to court")
    assert review < ico < court
    assert "If you are still unhappy after the review" in text


def test_every_letter_carries_reference_date_address_and_page_numbers(scheme, people):
    claim = claim_in_stage(Stage.OFFER_MADE, scheme=scheme, people=people)
    claim.address = "Flat 2\n14 St Mary's Road\nCardiff"
    claim.save(update_fields=["address"])
    text = pdf_text(render(claim, LetterKind.SETTLEMENT_OFFER, today=None).pdf)

    assert f"Our reference {claim.reference}" in text
    assert "Flat 2 14 St Mary's Road Cardiff SW1A 1AA" in text
    assert "Dear Zoë O'Brien," in text
    assert re.search(r"Page 1 of (\d)", text)
    assert "Page 2 of 2" in text


def test_acknowledgement_confirms_what_was_claimed(scheme, people):
    claim = sample_claim_assessed(scheme=scheme, staff=people)
    text = pdf_text(render(claim, LetterKind.ACKNOWLEDGEMENT).pdf)

    assert "We have received your claim" in text
    assert f"We received your claim for compensation under the {scheme.name} on" in text
    assert f"Your claim reference {claim.reference}" in text
    assert "Unauthorised transactions You said: Three card payments" in text
    claimed = claim.total_claimed()
    assert f"Total of the amounts you gave {money(claimed)}" in text
    assert "Distress You said:" in text and "Not a set amount" in text
    assert "A caseworker checks that your claim is part of this scheme" in text


def test_information_request_quotes_the_question_and_the_date_to_answer_by(scheme, people):
    claim = claim_in_stage(Stage.INFORMATION_REQUESTED, scheme=scheme, people=people)
    text = pdf_text(render(claim, LetterKind.INFORMATION_REQUEST).pdf)

    assert "We need more information about your claim" in text
    assert "Please send the bank statement for March 2017." in text
    assert f"Please reply by {claim.information_due:%-d %B %Y}" in text
    assert f"{scheme.cure_window_working_days} working days from when we asked" in text
    assert "we will close your claim as incomplete" in text


def test_decision_gives_the_reasons_and_the_review_route(scheme, people):
    claim = claim_in_stage(Stage.REJECTED, scheme=scheme, people=people)
    text = pdf_text(render(claim, LetterKind.DECISION).pdf)

    assert "Our decision on your claim" in text
    assert "we cannot accept it" in text
    assert "Why we cannot accept your claim Not a Debenhams Flowers customer" in text
    assert "You can ask us to look at our decision again" in text
    assert f"{letters.REVIEW_REQUEST_WORKING_DAYS} working days from the date of this letter" in (
        text
    )
    assert "A senior caseworker who was not involved in this decision will review it" in text
    assert text.index("look at our decision again") < text.index("Information Commissioner")


def test_review_outcome_with_a_revised_offer_sets_out_the_new_offer(scheme, people):
    claim = sample_claim_with_offer(scheme=scheme, staff=people)
    first = claim.offers.get()
    offers.offer_decline(claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="Too low")
    # Four eyes: one senior caseworker re-assesses, another makes the revised offer.
    reassessor = Actor.staff(staff(roles.SENIOR_CASEWORKER))
    casework.claim_transition(claim_id=claim.pk, transition="review_start", actor=reassessor)
    other_costs = claim.heads_of_loss.get(category=HeadOfLoss.Category.OTHER_COSTS)
    casework.head_of_loss_assess(head_id=other_costs.pk, actor=reassessor, amount_allowed="19.99")
    # Not people.senior, who approved the first offer and so may not decide its review.
    offers.review_revise(
        claim_id=claim.pk,
        actor=Actor.staff(staff(roles.SENIOR_CASEWORKER)),
        reason="The postage receipt is good.",
    )
    # Above the threshold, so a senior who had no hand in either offer approves it.
    offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(staff(roles.SENIOR_CASEWORKER)))
    claim.refresh_from_db()
    text = pdf_text(render(claim, LetterKind.REVIEW_OUTCOME).pdf)

    new_total = first.total + Decimal("19.99")
    assert claim.offers.order_by("-version").first().total == new_total
    assert f"It replaces our earlier offer of {money(first.total)}" in text
    assert f"Our new offer {money(new_total)}" in text
    assert "What the reviewer decided The postage receipt is good." in text
    assert re.search(rf"Total £[\d,.]+ {re.escape(money(new_total))}", text)
    assert f"{money(new_total)} in full and final settlement" in text


def test_review_outcome_upheld_is_final_and_points_to_the_ico_and_court(scheme, people):
    claim = claim_in_stage(Stage.REVIEW, scheme=scheme, people=people)
    offers.review_uphold(
        claim_id=claim.pk,
        actor=Actor.staff(people.senior),
        reason="The payments were refunded in full by your bank.",
    )
    claim.refresh_from_db()
    text = pdf_text(render(claim, LetterKind.REVIEW_OUTCOME).pdf)

    assert "We have not changed our decision" in text
    assert "Why The payments were refunded in full by your bank." in text
    assert "This is our final decision, and we have now closed your claim" in text
    assert "complain to the Information Commissioner's Office (ICO)" in text
    assert "take your claim to court" in text


def test_payment_confirmation_gives_amount_date_and_masked_account(scheme, people):
    claim = claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    submission.bank_details_set(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        account_name="Z O'Brien",
        sort_code="30-94-57",
        account_number="12345678",
    )
    take_step(claim, "payment_queue", people)
    take_step(claim, "payment_confirm", people)
    claim.refresh_from_db()
    offer = claim.offers.get()
    text = pdf_text(render(claim, LetterKind.PAYMENT_CONFIRMATION).pdf)

    assert f"We paid you {money(offer.total)}" in text
    assert "into the account ending 5678 (Z O'Brien)" in text
    assert "12345678" not in text and "309457" not in text and "30-94-57" not in text
    assert f"Payment reference {claim.reference}" in text
    assert "in full and final settlement" in text


def test_a_letter_whose_items_do_not_add_up_to_the_offer_is_refused(offer_claim):
    offer = offer_claim.offers.get()
    type(offer).objects.filter(pk=offer.pk).update(total=offer.total + Decimal("0.01"))

    with pytest.raises(letters.LetterError, match=re.escape("add up to £1,970.00, not £1,970.01")):
        render(offer_claim, LetterKind.SETTLEMENT_OFFER)
