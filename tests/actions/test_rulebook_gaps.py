"""The decision gaps of issue 15: a rejection can be reviewed, a revised part offer can
be declined, a revised part offer's accept-by date waits for the first payment, and a
revised part offer above the threshold waits for a second senior caseworker."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from claims import core
from claims.actions import casework, clock, offers, reviews
from claims.core import Actor, ClaimError
from claims.delivery import emails as notifications
from claims.delivery.letters import letter_context
from claims.domain import roles
from claims.domain.stages import LetterKind, ReviewState, Stage
from claims.domain.workdays import add_working_days
from claims.models import LetterRequest, Review, StatusUpdate
from tests.support import partial as ps
from tests.support.factories import People, claim_in_stage, staff
from tests.support.hostile import sign_in_as_claimant
from tests.support.letters import pdf_text, render

pytestmark = pytest.mark.django_db


def _snapshot(claim):
    claim.refresh_from_db()
    return (
        claim.stage,
        claim.version,
        claim.events.count(),
        claim.status_updates.count(),
        Review.objects.filter(claim=claim).count(),
    )


# --- A rejection looked at again -----------------------------------------------------


def _rejected_by_a_senior(people: People, senior=None):
    claim = claim_in_stage(Stage.TRIAGE, people=people)
    rejecter = senior or staff(roles.SENIOR_CASEWORKER)
    casework.claim_transition(
        claim_id=claim.pk,
        transition="triage_reject",
        actor=Actor.staff(rejecter),
        reason="Your order was placed after the breach ended.",
    )
    claim.refresh_from_db()
    return claim, rejecter


def test_a_rejected_claimant_asks_for_a_review_within_the_window(people):
    claim, _ = _rejected_by_a_senior(people)

    casework.rejection_review_request(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="I ordered on 1 March 2017."
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.REJECTION_REVIEW
    event = claim.events.get(action="rejection_review_request")
    assert event.reason == "I ordered on 1 March 2017."
    assert claim.status_updates.get(event=event).kind == "rejection_review_requested"


def test_a_review_asked_for_after_the_window_is_refused_and_changes_nothing(people):
    claim, _ = _rejected_by_a_senior(people)
    review_by = core.rejection_review_by(claim)
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        casework.rejection_review_request(
            claim_id=claim.pk,
            actor=Actor.claimant(claim.pk),
            reason="Late",
            today=review_by + dt.timedelta(days=1),
        )

    assert refused.value.code == "review_window_closed"
    assert f"{review_by:%-d %B %Y}" in refused.value.message
    assert _snapshot(claim) == before


def test_the_last_day_of_the_window_is_still_in_it(people):
    claim, _ = _rejected_by_a_senior(people)

    casework.rejection_review_request(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        reason="Just in time",
        today=core.rejection_review_by(claim),
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.REJECTION_REVIEW


def test_the_decision_letter_promises_the_date_the_rule_keeps(people):
    claim, _ = _rejected_by_a_senior(people)
    event = claim.events.get(action="triage_reject")

    # Rendered days later (a letter remade after a template change, say): the date is
    # still 20 working days from the rejection, as the service enforces.
    context, _ = letter_context(
        claim, LetterKind.DECISION, event=event, today=dt.date.today() + dt.timedelta(days=9)
    )

    assert context["review_by"] == core.rejection_review_by(claim)
    assert context["review_by"] == add_working_days(dt.date.today(), 20)


def test_the_senior_who_rejected_a_claim_cannot_decide_its_review(people):
    claim, rejecter = _rejected_by_a_senior(people)
    casework.rejection_review_request(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="I was a customer."
    )
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        casework.rejection_review_decide(
            claim_id=claim.pk, actor=Actor.staff(rejecter), decision="uphold", reason="Right."
        )

    assert refused.value.code == "four_eyes"
    assert _snapshot(claim) == before


def test_upholding_a_rejection_closes_the_claim_with_a_letter(people):
    claim, _ = _rejected_by_a_senior(people)
    casework.rejection_review_request(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="I was a customer."
    )
    reviewer = staff(roles.SENIOR_CASEWORKER)

    casework.rejection_review_decide(
        claim_id=claim.pk,
        actor=Actor.staff(reviewer),
        decision="uphold",
        reason="The order in your email is from 2018, after the breach.",
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.CLOSED
    event = claim.events.get(action="rejection_review_uphold")
    assert event.actor == reviewer and event.from_stage == Stage.REJECTION_REVIEW
    assert claim.status_updates.get(event=event).kind == "review_outcome"
    assert LetterRequest.objects.get(event=event).kind == LetterKind.REVIEW_OUTCOME
    text = pdf_text(render(claim, LetterKind.REVIEW_OUTCOME).pdf)
    assert "look again at our decision not to accept your claim" in text
    assert "We have not changed our decision" in text
    assert "The order in your email is from 2018, after the breach." in text
    assert "Information Commissioner" in text


def test_reopening_a_rejection_sends_the_claim_back_to_triage(people):
    claim, _ = _rejected_by_a_senior(people)
    casework.rejection_review_request(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="I was a customer."
    )

    casework.rejection_review_decide(
        claim_id=claim.pk,
        actor=Actor.staff(staff(roles.SENIOR_CASEWORKER)),
        decision="reopen",
        reason="Your bank statement shows the order.",
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.TRIAGE
    event = claim.events.get(action="rejection_review_reopen")
    update = claim.status_updates.get(event=event)
    assert update.kind == "rejection_reopened"
    email = notifications._status_update_email(update)
    assert "Your bank statement shows the order." in email.body
    assert "we have changed it" in email.body


def test_a_caseworker_cannot_decide_a_rejection_review(people):
    claim, _ = _rejected_by_a_senior(people)
    casework.rejection_review_request(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="I was a customer."
    )
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        casework.rejection_review_decide(
            claim_id=claim.pk,
            actor=Actor.staff(people.caseworker),
            decision="reopen",
            reason="Looks fine",
        )

    assert refused.value.code == "forbidden"
    assert _snapshot(claim) == before


def test_the_claimant_asks_for_a_review_on_their_claim_page(client, people):
    claim, _ = _rejected_by_a_senior(people)
    sign_in_as_claimant(client, claim)

    page = client.get("/my-claim/").content.decode()
    assert 'href="/my-claim/ask-for-review/"' in page
    form = client.get("/my-claim/ask-for-review/").content.decode()
    assert '<label for="id_reason"' in form
    response = client.post("/my-claim/ask-for-review/", {"reason": "I ordered in March."})

    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.stage == Stage.REJECTION_REVIEW


def test_an_empty_review_request_is_refused_politely_and_changes_nothing(client, people):
    claim, _ = _rejected_by_a_senior(people)
    sign_in_as_claimant(client, claim)
    before = _snapshot(claim)

    response = client.post("/my-claim/ask-for-review/", {"reason": "   "})

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Tell us why you think our decision is wrong." in page
    assert _snapshot(claim) == before


def test_after_the_window_the_claim_page_offers_no_review(client, people, time_machine):
    claim, _ = _rejected_by_a_senior(people)
    review_by = core.rejection_review_by(claim)
    time_machine.move_to(dt.datetime.combine(review_by + dt.timedelta(days=1), dt.time(12)))
    sign_in_as_claimant(client, claim)

    page = client.get("/my-claim/").content.decode()
    response = client.post("/my-claim/ask-for-review/", {"reason": "Late"})

    assert "ask-for-review" not in page
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.stage == Stage.REJECTED


# --- A revised offer for a disputed part: its date, its decline ------------------------


def test_a_revised_part_offers_date_starts_when_the_first_part_is_paid(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.revise(ps.accept_part(claim), people)
    offer.refresh_from_db()
    assert offer.made_at is not None and offer.accept_by is None
    ps.give_bank_details(claim)
    mail.outbox.clear()

    ps.pay(claim, people)

    offer.refresh_from_db()
    assert offer.accept_by == add_working_days(dt.date.today(), claim.scheme.accept_by_working_days)
    paid = claim.status_updates.get(kind="paid")
    body = notifications._status_update_email(paid).body
    assert "You can now accept our revised offer of £66.66" in body
    assert f"{offer.accept_by:%-d %B %Y}" in body


def test_the_clock_warns_before_a_revised_part_offer_expires_once(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.revise(ps.accept_part(claim), people)
    ps.give_bank_details(claim)
    ps.pay(claim, people)
    offer.refresh_from_db()

    assert clock.warn_expiring_offers(today=offer.accept_by - dt.timedelta(days=1)) == 1
    assert clock.warn_expiring_offers(today=offer.accept_by) == 0

    warning = StatusUpdate.objects.get(claim=claim, kind="offer_expiring")
    assert warning.dedupe_key == f"offer_expiring:{offer.pk}"
    assert "£66.66" in notifications._status_update_email(warning).body


def test_the_claimant_declines_a_revised_part_offer_and_a_new_review_opens(people):
    claim = ps.offer_made_with_three_heads(people)
    first = ps.accept_part(claim)
    offer = ps.revise(first, people)
    ps.give_bank_details(claim)
    ps.pay(claim, people)

    again = reviews.revised_offer_decline(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        offer_id=offer.pk,
        reason="Both charges were £33.33: I am owed the full £66.67.",
    )

    claim.refresh_from_db()
    first.refresh_from_db()
    assert claim.stage == Stage.PAID  # the first part stays paid
    assert first.state == ReviewState.DECLINED
    assert again.offer == offer and again.state == ReviewState.OPEN
    assert list(again.disputed_items()) == list(offer.items.all())
    assert again.disputed_items().get().dispute_reason.startswith("Both charges")
    event = claim.events.get(action="revised_offer_decline")
    assert claim.status_updates.get(event=event).kind == "declined"


def test_the_reviewer_of_a_revised_offer_cannot_decide_its_review_another_can(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.revise(ps.accept_part(claim), people)  # revised by people.senior
    again = reviews.revised_offer_decline(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), offer_id=offer.pk, reason="Too low"
    )

    with pytest.raises(ClaimError) as refused:
        reviews.part_review_uphold(
            review_id=again.pk, actor=Actor.staff(people.senior), reason="Stands."
        )
    reviews.part_review_uphold(
        review_id=again.pk, actor=Actor.staff(staff(roles.SENIOR_CASEWORKER)), reason="Stands."
    )

    assert refused.value.code == "four_eyes"
    again.refresh_from_db()
    assert again.state == ReviewState.UPHELD


def test_staff_cannot_decline_a_revised_offer_for_the_claimant(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.revise(ps.accept_part(claim), people)
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        reviews.revised_offer_decline(
            claim_id=claim.pk, actor=Actor.staff(people.senior), offer_id=offer.pk, reason="x"
        )

    assert refused.value.code == "forbidden"
    assert _snapshot(claim) == before


def test_the_claimant_declines_a_revised_offer_on_its_page(client, people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.revise(ps.accept_part(claim), people)
    sign_in_as_claimant(client, claim)

    page = client.get(f"/my-claim/offers/{offer.pk}/revised/").content.decode()
    assert f'href="/my-claim/offers/{offer.pk}/revised/decline/"' in page
    claim.refresh_from_db()
    empty = client.post(
        f"/my-claim/offers/{offer.pk}/revised/decline/",
        {"version": claim.version, "reason": " "},
    )
    before = _snapshot(claim)
    done = client.post(
        f"/my-claim/offers/{offer.pk}/revised/decline/",
        {"version": claim.version, "reason": "Still too low."},
    )

    assert "Tell us why you are declining the revised offer." in empty.content.decode()
    assert done.status_code == 302
    assert _snapshot(claim) != before
    assert Review.objects.get(offer=offer).state == ReviewState.OPEN


# --- A revised part offer above the threshold: a second senior approves -------------


def _proposed_above_threshold(people: People, *, first_approver=None):
    review = ps.distress_disputed(people, approver=first_approver)
    disputed = review.disputed_items().get()
    serious = review.claim.scheme.distress_bands.get(name__iexact="serious")
    offer = reviews.part_review_revise(
        review_id=review.pk,
        actor=Actor.staff(people.senior),
        reason="Serious distress: months of calls from the bank.",
        amounts={disputed.pk: "1500.00"},
        bands={disputed.pk: serious.pk},
    )
    review.refresh_from_db()
    return review, offer


def test_a_revision_above_the_threshold_waits_unseen_for_approval(people):
    review, offer = _proposed_above_threshold(people)

    assert review.state == ReviewState.PENDING_APPROVAL and review.revised_offer == offer
    assert offer.made_at is None and offer.approved_by is None
    assert offer.total > review.claim.scheme.offer_approval_threshold
    event = review.claim.events.get(action="part_review_propose")
    update = review.claim.status_updates.get(event=event)
    assert update.kind == "offer_being_checked"
    assert "worked out a revised offer" in notifications._status_update_email(update).body
    assert "£1,500" not in notifications._status_update_email(update).body
    assert not LetterRequest.objects.filter(event=event).exists()
    # The revised item carries the band the reviewer chose; the head keeps its own.
    (item,) = offer.items.all()
    assert item.distress_band.name.lower() == "serious"
    assert item.head_of_loss.distress_band.name.lower() == "minimal"


def test_the_reviewer_cannot_approve_their_own_revision(people):
    review, _ = _proposed_above_threshold(people)
    before = _snapshot(review.claim)

    with pytest.raises(ClaimError) as refused:
        reviews.part_review_approve(review_id=review.pk, actor=Actor.staff(people.senior))

    assert refused.value.code == "four_eyes"
    assert _snapshot(review.claim) == before


def test_whoever_approved_the_offer_under_review_cannot_approve_its_revision(people):
    first_approver = staff(roles.SENIOR_CASEWORKER)
    review, _ = _proposed_above_threshold(people, first_approver=first_approver)
    assert review.offer.approved_by == first_approver
    before = _snapshot(review.claim)

    with pytest.raises(ClaimError) as refused:
        reviews.part_review_approve(review_id=review.pk, actor=Actor.staff(first_approver))

    assert refused.value.code == "four_eyes"
    assert "offer under review" in refused.value.message
    assert _snapshot(review.claim) == before


def test_a_caseworker_cannot_approve_a_revision(people):
    review, _ = _proposed_above_threshold(people)

    with pytest.raises(ClaimError) as refused:
        reviews.part_review_approve(review_id=review.pk, actor=Actor.staff(people.caseworker))

    assert refused.value.code == "forbidden"


def test_another_senior_approves_and_the_claimant_is_told_by_letter(people):
    review, offer = _proposed_above_threshold(people)
    approver = staff(roles.SENIOR_CASEWORKER)

    reviews.part_review_approve(review_id=review.pk, actor=Actor.staff(approver))

    review.refresh_from_db()
    offer.refresh_from_db()
    assert review.state == ReviewState.REVISED
    assert offer.approved_by == approver and offer.made_at is not None
    # The first part is not paid yet, so its accept-by date waits.
    assert offer.accept_by is None
    event = review.claim.events.get(action="part_review_approve")
    assert event.reason == "Serious distress: months of calls from the bank."
    assert LetterRequest.objects.get(event=event).kind == LetterKind.REVIEW_OUTCOME
    text = pdf_text(render(review.claim, LetterKind.REVIEW_OUTCOME).pdf)
    assert "£1,500.00" in text
    assert "Distress (serious band)" in text


def test_a_returned_revision_reopens_the_review_unseen(people):
    review, offer = _proposed_above_threshold(people)
    updates = review.claim.status_updates.count()

    reviews.part_review_return(
        review_id=review.pk,
        actor=Actor.staff(staff(roles.SENIOR_CASEWORKER)),
        reason="The serious band needs the GP letter.",
    )

    review.refresh_from_db()
    offer.refresh_from_db()
    assert review.state == ReviewState.OPEN and review.revised_offer is None
    assert offer.made_at is None
    assert review.claim.status_updates.count() == updates  # nothing for the claimant
    assert review.claim.events.filter(action="part_review_return").exists()


def test_the_claim_page_shows_approval_only_to_an_independent_senior(client, people):
    review, _ = _proposed_above_threshold(people)
    url = reverse("admin:claims_claim_change", args=[review.claim_id])

    client.force_login(people.senior)
    as_reviewer = client.get(url).content.decode()
    client.force_login(staff(roles.SENIOR_CASEWORKER))
    as_other = client.get(url).content.decode()

    assert "Approve the revised offer" not in as_reviewer
    assert "another senior caseworker must approve it" in as_reviewer
    assert "Approve the revised offer" in as_other
    assert "Return it to the review" in as_other


def test_approving_through_the_claim_page(client, people):
    review, _ = _proposed_above_threshold(people)
    claim = review.claim
    claim.refresh_from_db()
    client.force_login(staff(roles.SENIOR_CASEWORKER))

    client.post(
        reverse("admin:claims_claim_part_review", args=[claim.pk, review.pk]),
        {"decision": "approve", "reason": "", "version": claim.version},
    )

    review.refresh_from_db()
    assert review.state == ReviewState.REVISED


def test_a_closed_claim_waits_while_a_revision_awaits_approval(people):
    review, _ = _proposed_above_threshold(people)
    claim = review.claim
    ps.give_bank_details(claim)
    ps.pay(claim, people)

    with pytest.raises(ClaimError) as refused:
        casework.claim_transition(
            claim_id=claim.pk, transition="close", actor=Actor.staff(people.finance)
        )

    assert refused.value.code == "review_open"


def test_a_distress_revision_outside_the_chosen_band_is_refused(people):
    review = ps.distress_disputed(people)
    disputed = review.disputed_items().get()
    moderate = review.claim.scheme.distress_bands.get(name__iexact="moderate")

    with pytest.raises(ClaimError) as refused:
        reviews.part_review_revise(
            review_id=review.pk,
            actor=Actor.staff(people.senior),
            reason="More.",
            amounts={disputed.pk: "800.00"},
            bands={disputed.pk: moderate.pk},
        )

    assert refused.value.code == "outside_band"
    assert Decimal("800.00") > moderate.upper


# --- Found by a review of this change: each fixed, each with its test -----------------


def test_whoever_approved_the_offer_under_review_cannot_reassess_it_in_the_review(people):
    from tests.support.factories import large_offer_in_review

    claim = large_offer_in_review(people)
    approver = claim.offers.get().approved_by
    head = claim.heads_of_loss.get()
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        casework.head_of_loss_assess(
            head_id=head.pk, actor=Actor.staff(approver), amount_allowed="900.00", reason="Less."
        )

    assert refused.value.code == "four_eyes"
    assert _snapshot(claim) == before
    head.refresh_from_db()
    assert head.assessed_by_id != approver.pk


def test_the_claim_page_offers_no_reassessment_to_who_shaped_the_offer(client, people):
    from tests.support.factories import large_offer_in_review

    claim = large_offer_in_review(people)
    url = reverse("admin:claims_claim_change", args=[claim.pk])
    client.force_login(claim.offers.get().approved_by)
    shaped = client.get(url).content.decode()
    client.force_login(people.senior)
    independent = client.get(url).content.decode()

    assert "Save assessment" not in shaped
    assert "Save assessment" in independent


def test_a_part_revision_is_judged_with_what_was_accepted_before_it(people):
    # £333.34 accepted; a revision of the £66.67 bank charges would keep the disputed
    # part far below the threshold, so lower the threshold under the whole.
    claim = ps.offer_made_with_three_heads(people)
    claim.scheme.offer_approval_threshold = Decimal("350.00")
    claim.scheme.save()
    review = ps.accept_part(claim)

    offer = ps.revise(review, people, amount="66.66")  # 333.34 + 66.66 = 400.00

    review.refresh_from_db()
    assert review.state == ReviewState.PENDING_APPROVAL
    assert offer.made_at is None and offer.approved_by is None


def test_a_second_review_says_what_was_accepted_first(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.revise(ps.accept_part(claim), people)
    again = reviews.revised_offer_decline(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), offer_id=offer.pk, reason="Low"
    )
    reviews.part_review_uphold(
        review_id=again.pk, actor=Actor.staff(staff(roles.SENIOR_CASEWORKER)), reason="Stands."
    )

    event = claim.events.get(action="part_review_uphold", data__review=again.pk)
    context, _ = letter_context(claim, LetterKind.REVIEW_OUTCOME, event=event)

    assert context["accepted_total"] == "£333.34"


def test_as_assessed_in_a_second_review_is_the_band_the_item_was_last_set_in(people):
    review = ps.distress_disputed(people)
    moderate = review.claim.scheme.distress_bands.get(name__iexact="moderate")
    disputed = review.disputed_items().get()
    offer = reviews.part_review_revise(
        review_id=review.pk,
        actor=Actor.staff(people.senior),
        reason="Moderate.",
        amounts={disputed.pk: "700.00"},
        bands={disputed.pk: moderate.pk},
    )
    claim = review.claim
    again = reviews.revised_offer_decline(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), offer_id=offer.pk, reason="Low"
    )

    revised = reviews.part_review_revise(
        review_id=again.pk,
        actor=Actor.staff(staff(roles.SENIOR_CASEWORKER)),
        reason="Top of moderate.",
        amounts={again.disputed_items().get().pk: "750.00"},
    )

    assert revised.items.get().distress_band == moderate


def test_numbers_that_are_not_plain_digits_never_break_the_review_page(client, people):
    review = ps.distress_disputed(people)
    claim = review.claim
    item = review.disputed_items().get()
    client.force_login(staff(roles.SENIOR_CASEWORKER))
    url = reverse("admin:claims_claim_part_review", args=[claim.pk, review.pk])
    claim.refresh_from_db()
    before = _snapshot(claim)

    # "²" is a digit to str.isdigit but not a number to int().
    stale = client.post(
        url,
        {"decision": "revise", "reason": "More.", f"amount-{item.pk}": "200.00", "version": "²"},
    )
    assert stale.status_code == 302
    assert _snapshot(claim) == before
    revised = client.post(
        url,
        {
            "decision": "revise",
            "reason": "More.",
            f"amount-{item.pk}": "200.00",
            f"band-{item.pk}": "²",
            "version": claim.version,
        },
    )

    # Not a band: the item keeps the band it was assessed in.
    assert revised.status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.REVISED
    assert review.revised_offer.items.get().distress_band.name.lower() == "minimal"


def test_the_fund_counts_the_offer_under_review_not_a_returned_revision(people):
    from claims.queries.funds import fund_summary
    from tests.support.factories import large_offer_in_review, revise_above_threshold

    claim = large_offer_in_review(people)
    under_review = claim.offers.get().total
    before = fund_summary(claim.scheme).offered
    revise_above_threshold(claim)
    offers.offer_return(claim_id=claim.pk, actor=Actor.staff(people.senior), reason="Not yet.")

    claim.refresh_from_db()
    assert claim.stage == Stage.REVIEW
    assert fund_summary(claim.scheme).offered == before
    assert before >= under_review


def test_whoever_rejected_a_claim_before_cannot_decide_a_later_rejection_review(people):
    claim, first = _rejected_by_a_senior(people)
    me = Actor.claimant(claim.pk)
    second = staff(roles.SENIOR_CASEWORKER)
    casework.rejection_review_request(claim_id=claim.pk, actor=me, reason="Customer.")
    casework.rejection_review_decide(
        claim_id=claim.pk, actor=Actor.staff(second), decision="reopen", reason="Fair."
    )
    casework.claim_transition(
        claim_id=claim.pk,
        transition="triage_reject",
        actor=Actor.staff(second),
        reason="Still no order.",
    )
    casework.rejection_review_request(claim_id=claim.pk, actor=me, reason="Look again.")

    with pytest.raises(ClaimError) as refused:
        casework.rejection_review_decide(
            claim_id=claim.pk, actor=Actor.staff(first), decision="uphold", reason="Right."
        )

    assert refused.value.code == "four_eyes"


def test_the_claim_page_offers_the_rejection_review_only_to_who_did_not_reject(client, people):
    claim, rejecter = _rejected_by_a_senior(people)
    casework.rejection_review_request(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="I was a customer."
    )
    url = reverse("admin:claims_claim_change", args=[claim.pk])

    client.force_login(rejecter)
    as_rejecter = client.get(url).content.decode()
    client.force_login(staff(roles.SENIOR_CASEWORKER))
    as_other = client.get(url).content.decode()

    assert "Uphold the rejection and close" not in as_rejecter
    assert "You rejected this claim" in as_rejecter
    assert "Uphold the rejection and close" in as_other
    assert "Reopen the claim for triage" in as_other


def test_reopening_a_rejection_through_the_claim_page(client, people):
    claim, _ = _rejected_by_a_senior(people)
    casework.rejection_review_request(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="I was a customer."
    )
    claim.refresh_from_db()
    client.force_login(staff(roles.SENIOR_CASEWORKER))

    client.post(
        reverse("admin:claims_claim_transition", args=[claim.pk]),
        {
            "transition": "rejection_review_reopen",
            "reason": "The order is on your statement.",
            "version": claim.version,
        },
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.TRIAGE
