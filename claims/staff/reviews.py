"""The claim page's section for the review of a disputed part (claims.actions.reviews): what
the claimant disputed and why, and, for a senior caseworker, the form that upholds the
decision or makes a revised offer. The page only offers; the services decide who may."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse

from claims import core
from claims.actions import reviews
from claims.core import Actor, ClaimError
from claims.domain.money import format_money
from claims.domain.stages import ItemResponse, ReviewState
from claims.models import DistressBand, Offer, OfferItem, Review
from claims.queries.partial import accepted_before


@dataclass
class ReviewSection:
    review: Review
    disputed: list[OfferItem]
    accepted_total: str
    disputed_total: str
    can_decide: bool
    # Why a senior caseworker who may decide reviews cannot decide this one.
    held_back: str
    # A revised offer above the threshold, waiting: may this user approve or return it?
    can_approve: bool = False
    bands: list[DistressBand] = field(default_factory=list)


def review_sections(
    claim_id: int, user: Any, offers: list[Offer] | None = None
) -> list[ReviewSection]:
    """The claim's reviews of disputed items. Given the claim's offers with their items
    (the claim page has them), a claim none of whose items was disputed, as most, has
    none, and nothing is asked of the database."""
    if not user.has_perm("claims.view_offer"):
        return []
    if offers is not None and not any(
        item.response == ItemResponse.DISPUTED for offer in offers for item in offer.items.all()
    ):
        return []
    sections = []
    bands: list[DistressBand] | None = None
    for review in (
        Review.objects.filter(claim_id=claim_id)
        .select_related("offer__approved_by", "decided_by", "revised_offer", "claim__scheme")
        .prefetch_related("offer__items", "revised_offer__items")
        .order_by("-opened_at", "-id")
    ):
        disputed = [i for i in review.offer.items.all() if i.response == ItemResponse.DISPUTED]
        may_decide = user.has_perm("claims.decide_review") and review.state == ReviewState.OPEN
        held_back = ""
        if may_decide:
            try:
                core.check_may_review(review.offer, Actor.staff(user))
            except ClaimError:
                may_decide = False
                held_back = (
                    "You assessed, proposed or approved this offer, so another senior "
                    "caseworker must decide the review."
                )
        may_approve = (
            user.has_perm("claims.approve_offer")
            and review.state == ReviewState.PENDING_APPROVAL
            and review.revised_offer is not None
        )
        if may_approve:
            assert review.revised_offer is not None
            try:
                core.check_may_approve(
                    review.revised_offer, Actor.staff(user), under_review=review.offer
                )
            except ClaimError as refused:
                may_approve, held_back = False, refused.message
        if may_decide and bands is None:
            bands = list(review.claim.scheme.distress_bands.order_by("lower"))
        sections.append(
            ReviewSection(
                review=review,
                disputed=disputed,
                accepted_total=format_money(accepted_before(review)),
                disputed_total=format_money(
                    sum((i.amount_offered for i in disputed), Decimal("0.00"))
                ),
                can_decide=may_decide,
                held_back=held_back,
                can_approve=may_approve,
                bands=(bands or []) if may_decide else [],
            )
        )
    return sections


def review_decide_view(
    model_admin: Any, request: HttpRequest, claim_id: int, review_id: int
) -> HttpResponseRedirect:
    """Uphold or revise, by the button pressed. A refusal is a message on the claim
    page; a role that may not decide reviews gets a 403."""
    if request.method != "POST":
        raise PermissionDenied
    review = get_object_or_404(Review, pk=review_id, claim_id=claim_id)
    back = reverse("admin:claims_claim_change", args=[claim_id]) + "#part-review"
    actor = Actor.staff(request.user)
    decision = request.POST.get("decision", "")
    reason = request.POST.get("reason", "")
    try:
        version_text = request.POST.get("version", "")
        if not version_text.isdecimal():
            raise ClaimError("The page was missing its version: reload it and try again.")
        version = int(version_text)
        if decision == "uphold":
            reviews.part_review_uphold(
                review_id=review.pk, actor=actor, reason=reason, expected_version=version
            )
            done = "The decision on the disputed items is upheld. The claimant is told by letter."
        elif decision == "revise":
            disputed = list(review.disputed_items())
            amounts = {item.pk: request.POST.get(f"amount-{item.pk}", "") for item in disputed}
            bands = {
                item.pk: int(request.POST[f"band-{item.pk}"])
                for item in disputed
                if request.POST.get(f"band-{item.pk}", "").isdecimal()
            }
            offer = reviews.part_review_revise(
                review_id=review.pk,
                actor=actor,
                reason=reason,
                amounts=amounts,
                bands=bands,
                expected_version=version,
            )
            if offer.made_at is None:
                done = (
                    f"A revised offer of {format_money(offer.total)} is proposed. It is above "
                    "the approval threshold, so another senior caseworker must approve it."
                )
            else:
                done = (
                    f"A revised offer of {format_money(offer.total)} for the disputed items is "
                    "made. The claimant is told by letter."
                )
        elif decision == "approve":
            offer = reviews.part_review_approve(
                review_id=review.pk, actor=actor, expected_version=version
            )
            done = (
                f"The revised offer of {format_money(offer.total)} is approved. The claimant is "
                "told by letter."
            )
        elif decision == "return":
            reviews.part_review_return(
                review_id=review.pk, actor=actor, reason=reason, expected_version=version
            )
            done = "The revised offer is returned: the review is open again."
        else:
            raise ClaimError("Choose to uphold the decision or to make a revised offer.")
    except ClaimError as error:
        if error.code == "forbidden":
            raise PermissionDenied(error.message) from None
        model_admin.message_user(request, error.message, messages.ERROR)
        return HttpResponseRedirect(back)
    model_admin.message_user(request, done, messages.SUCCESS)
    return HttpResponseRedirect(back)
