"""Follow my claim: the claimant's own page once they have opened a link."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from claims import core
from claims.actions import casework, offers, submission
from claims.actions.payments import needs_new_bank_details
from claims.claimant.forms import (
    AcceptForm,
    BankDetailsForm,
    DeclineForm,
    RejectionReviewForm,
    RespondForm,
    WithdrawForm,
)
from claims.claimant.views.common import claimant_required, form_error, page, posted, posted_files
from claims.core import Actor, ClaimError
from claims.domain.claimant_text import STAGE_NEXT, update_title
from claims.domain.stages import TRANSITIONS, Stage
from claims.domain.uploads import files_discarded_on_error
from claims.models import BankDetails, Claim
from claims.queries.letters import claimant_letters
from claims.queries.partial import accepted_total
from claims.queries.prorata import pro_rata_estimate


def _actor(request: HttpRequest) -> Actor:
    return Actor.claimant(request.claim.pk)  # type: ignore[attr-defined]


def _timeline(claim: Claim) -> list[dict[str, object]]:
    steps = []
    for event in claim.events.exclude(to_stage="").order_by("created_at", "id"):
        steps.append({"stage": Stage(event.to_stage).label, "at": event.created_at})
    return steps


@claimant_required
def my_claim(request: HttpRequest) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    if claim.stage == Stage.DRAFT:
        return redirect("claims:resume")
    offer = claim.offers.filter(made_at__isnull=False).order_by("-version").first()
    bank = BankDetails.objects.filter(claim=claim).first()
    updates = [
        {"title": update_title(u.kind), "code": u.verification_code, "at": u.created_at}
        for u in claim.status_updates.order_by("-created_at", "-id")
    ]
    return page(
        request,
        "claims/my_claim.html",
        claim=claim,
        timeline=_timeline(claim),
        next_step=STAGE_NEXT.get(claim.stage, ""),
        updates=updates,
        claim_messages=claim.messages.prefetch_related("evidence").order_by("-created_at"),
        evidence=claim.evidence.filter(message__isnull=True),
        offer=offer,
        bank=bank,
        can_withdraw=claim.stage in TRANSITIONS["withdraw"].sources,
        review_by=_rejection_review_by(claim),
        letters=claimant_letters(claim),
        # Partial acceptance (claims.queries.partial): what is paid, and the disputed part's review.
        payable=accepted_total(claim),
        part_review=claim.part_reviews.select_related("offer", "revised_offer").first(),
        pro_rata=pro_rata_estimate(claim),
        payment_failed=claim.stage == Stage.ACCEPTED and needs_new_bank_details(claim),
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    if claim.stage != Stage.INFORMATION_REQUESTED:
        return redirect("claims:my_claim")
    question = claim.messages.filter(direction="to_claimant").order_by("-created_at").first()
    form = RespondForm(posted(request), posted_files(request))
    if request.method == "POST" and form.is_valid():
        try:
            with files_discarded_on_error() as uploads, transaction.atomic():
                # Files first, while the claim still accepts them; the answer then moves it on.
                for upload in form.cleaned_data["files"]:
                    evidence = submission.evidence_add(
                        claim_id=claim.pk, actor=_actor(request), upload=upload
                    )
                    uploads.append(evidence)
                submission.claim_provide_information(
                    claim_id=claim.pk, actor=_actor(request), response=form.cleaned_data["response"]
                )
                answer = claim.messages.filter(direction="from_claimant").latest("created_at")
                claim.evidence.filter(pk__in=[u.pk for u in uploads]).update(message=answer)
        except ClaimError as error:
            form_error(form, error)
        else:
            messages.success(request, "Thank you. We have your answer and will look at it soon.")
            return redirect("claims:my_claim")
    return page(request, "claims/respond.html", claim=claim, form=form, question=question)


def _current_offer(claim: Claim):  # type: ignore[no-untyped-def]
    offer = claim.offers.filter(made_at__isnull=False).order_by("-version").first()
    if offer is None:
        raise Http404("There is no offer on this claim.")
    return offer


@claimant_required
@require_http_methods(["GET", "POST"])
def offer_view(request: HttpRequest) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    offer = _current_offer(claim)
    form = AcceptForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            offers.offer_accept(claim_id=claim.pk, actor=_actor(request))
        except ClaimError as error:
            form_error(form, error, "confirm")
        else:
            messages.success(request, "You have accepted the offer. Now tell us where to pay it.")
            return redirect("claims:bank_details")
    return page(
        request,
        "claims/offer.html",
        claim=claim,
        offer=offer,
        items=offer.items.all(),
        form=form,
        can_respond=claim.stage == Stage.OFFER_MADE,
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def offer_decline(request: HttpRequest) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    if claim.stage != Stage.OFFER_MADE:
        return redirect("claims:my_claim")
    form = DeclineForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            offers.offer_decline(
                claim_id=claim.pk, actor=_actor(request), reason=form.cleaned_data["reason"]
            )
        except ClaimError as error:
            form_error(form, error, "reason")
        else:
            messages.success(
                request, "You have declined the offer. A senior caseworker will review your claim."
            )
            return redirect("claims:my_claim")
    return page(request, "claims/offer_decline.html", claim=claim, form=form)


@sensitive_post_parameters("sort_code", "account_number")
@claimant_required
@require_http_methods(["GET", "POST"])
def bank_details(request: HttpRequest) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    if claim.stage != Stage.ACCEPTED:
        return redirect("claims:my_claim")
    existing = BankDetails.objects.filter(claim=claim).first()
    form = BankDetailsForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            submission.bank_details_set(
                claim_id=claim.pk, actor=_actor(request), **form.cleaned_data
            )
        except ClaimError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                "Thank you. We have emailed you about the change and will check it with you "
                "before we pay."
                if existing is not None
                else "Thank you. We will pay your compensation into this account.",
            )
            return redirect("claims:my_claim")
    # Never echo what was typed back into the page: a bank form re-shown is blank.
    if form.is_bound:
        blanked = request.POST.copy()
        for name in ("sort_code", "account_number"):
            blanked[name] = ""
        form.data = blanked
    return page(request, "claims/bank_details.html", claim=claim, form=form, existing=existing)


@claimant_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    if claim.stage not in TRANSITIONS["withdraw"].sources:
        return redirect("claims:my_claim")
    form = WithdrawForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            submission.claim_withdraw(
                claim_id=claim.pk, actor=_actor(request), reason=form.cleaned_data["reason"]
            )
        except ClaimError as error:
            form_error(form, error, "reason")
        else:
            messages.success(request, "You have withdrawn your claim.")
            return redirect("claims:my_claim")
    return page(request, "claims/withdraw.html", claim=claim, form=form)


def _rejection_review_by(claim: Claim) -> Any:
    """Until when a rejected claimant may ask us to look again; None if they may not."""
    if claim.stage != Stage.REJECTED:
        return None
    review_by = core.rejection_review_by(claim)
    return review_by if review_by is not None and core.today() <= review_by else None


@claimant_required
@require_http_methods(["GET", "POST"])
def rejection_review(request: HttpRequest) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    review_by = _rejection_review_by(claim)
    if review_by is None:
        return redirect("claims:my_claim")
    form = RejectionReviewForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            casework.rejection_review_request(
                claim_id=claim.pk, actor=_actor(request), reason=form.cleaned_data["reason"]
            )
        except ClaimError as error:
            form_error(form, error, "reason")
        else:
            messages.success(
                request,
                "You have asked us to look again at our decision. A senior caseworker who was "
                "not involved in it will review your claim and write to you.",
            )
            return redirect("claims:my_claim")
    return page(
        request, "claims/rejection_review.html", claim=claim, form=form, review_by=review_by
    )


def _attachment(file: Any, filename: str, content_type: str) -> FileResponse:
    """A stored file as a download that no browser will run or render inline."""
    response = FileResponse(
        file.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    add_never_cache_headers(response)
    return response


@claimant_required
def evidence_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A claimant's own uploaded file."""
    claim: Claim = request.claim  # type: ignore[attr-defined]
    evidence = claim.evidence.filter(pk=pk).first()
    if evidence is None:
        raise Http404("No such file on your claim.")
    return _attachment(evidence.file, evidence.original_name, evidence.content_type)


@claimant_required
def letter_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """One of the claimant's own letters, as a PDF."""
    claim: Claim = request.claim  # type: ignore[attr-defined]
    letter = claim.letters.filter(pk=pk).exclude(file="").first()
    if letter is None:
        raise Http404("No such letter on your claim.")
    return _attachment(letter.file, letter.download_name, "application/pdf")
