"""The claimant's answer to an offer item by item, and the revised offer for what they
disputed (claims.actions.reviews). Plain forms: no JavaScript needed."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from claims.actions import reviews
from claims.actions.reviews import ItemAnswer
from claims.claimant.forms import OfferAnswerForm, RevisedOfferDeclineForm, RevisedOfferForm
from claims.claimant.views.common import claimant_required, form_error, page, posted
from claims.core import Actor, ClaimError
from claims.domain.money import format_money
from claims.domain.stages import Stage
from claims.models import Claim, Offer, Review
from claims.queries import partial


def _own_offer(claim: Claim, pk: int) -> Offer:
    # Only this claim's offers: another claim's offer is a 404, as if it did not exist.
    offer = claim.offers.filter(pk=pk, made_at__isnull=False).first()
    if offer is None:
        raise Http404("There is no such offer on your claim.")
    return offer


@claimant_required
@require_http_methods(["GET", "POST"])
def offer_answer(request: HttpRequest, pk: int) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    offer = _own_offer(claim, pk)
    if claim.stage != Stage.OFFER_MADE:
        return redirect("claims:my_claim")
    items = list(offer.items.order_by("id"))
    form = OfferAnswerForm(posted(request), items=items, initial={"version": claim.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        answers = {
            item.pk: ItemAnswer(
                accept=data[f"item_{item.pk}"] == OfferAnswerForm.ACCEPT,
                reason=data.get(f"reason_{item.pk}") or "",
            )
            for item in items
        }
        try:
            reviews.offer_respond(
                claim_id=claim.pk,
                actor=Actor.claimant(claim.pk),
                offer_id=offer.pk,
                answers=answers,
                expected_version=data["version"],
            )
        except ClaimError as error:
            form_error(form, error)
        else:
            claim.refresh_from_db()
            offer.refresh_from_db()
            if claim.stage == Stage.DECLINED:
                messages.success(
                    request,
                    "You have disputed every item. A senior caseworker who did not assess "
                    "your claim will review it.",
                )
                return redirect("claims:my_claim")
            accepted = format_money(partial.accepted_amount(offer))
            if Review.objects.filter(offer=offer).exists():
                messages.success(
                    request,
                    f"You have accepted {accepted}. A senior caseworker who did not assess "
                    "your claim will review the items you disputed. Now tell us where to pay "
                    f"the {accepted}.",
                )
            else:
                messages.success(
                    request, "You have accepted the offer. Now tell us where to pay it."
                )
            return redirect("claims:bank_details")
    return page(
        request,
        "claims/offer_answer.html",
        claim=claim,
        offer=offer,
        form=form,
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def revised_offer(request: HttpRequest, pk: int) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    offer = _own_offer(claim, pk)
    review = Review.objects.filter(claim=claim, revised_offer=offer).select_related("offer").first()
    if review is None:
        raise Http404("There is no such offer on your claim.")
    form = RevisedOfferForm(posted(request), initial={"version": claim.version})
    if request.method == "POST" and form.is_valid():
        try:
            reviews.revised_offer_accept(
                claim_id=claim.pk,
                actor=Actor.claimant(claim.pk),
                offer_id=offer.pk,
                expected_version=form.cleaned_data["version"],
            )
        except ClaimError as error:
            form_error(form, error, "confirm" if error.code == "offer_expired" else None)
        else:
            messages.success(
                request,
                f"You have accepted the revised offer of {format_money(offer.total)}. We will "
                "pay it into the account you gave us.",
            )
            return redirect("claims:my_claim")
    return page(
        request,
        "claims/revised_offer.html",
        claim=claim,
        offer=offer,
        review=review,
        items=offer.items.order_by("id"),
        accepted_total=partial.accepted_amount(review.offer),
        form=form,
        can_accept=review.state == "revised" and claim.stage == Stage.PAID,
        can_decline=review.state == "revised",
        waiting_for_payment=review.state == "revised"
        and claim.stage in (Stage.ACCEPTED, Stage.PAYMENT_PENDING),
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def revised_offer_decline(request: HttpRequest, pk: int) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    offer = _own_offer(claim, pk)
    review = Review.objects.filter(claim=claim, revised_offer=offer).first()
    if review is None:
        raise Http404("There is no such offer on your claim.")
    if review.state != "revised":
        return redirect("claims:revised_offer", pk=offer.pk)
    form = RevisedOfferDeclineForm(posted(request), initial={"version": claim.version})
    if request.method == "POST" and form.is_valid():
        try:
            reviews.revised_offer_decline(
                claim_id=claim.pk,
                actor=Actor.claimant(claim.pk),
                offer_id=offer.pk,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except ClaimError as error:
            form_error(form, error, "reason")
        else:
            messages.success(
                request,
                "You have declined the revised offer. A senior caseworker who had no part in "
                "it will review it and write to you.",
            )
            return redirect("claims:my_claim")
    return page(request, "claims/revised_offer_decline.html", claim=claim, offer=offer, form=form)
