"""The claim form: one question per page, saved as the claimant goes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from claims import core
from claims.actions import submission
from claims.actions.access import claimant_claim_id, claimant_sign_in
from claims.claimant.forms import (
    DISTRESS_EFFECTS,
    EVIDENCE_HELP,
    LOSS_HINTS,
    ContactForm,
    DistressForm,
    HoursForm,
    LossCategoryForm,
    LossForm,
    RepresentativeForm,
    SubmitForm,
    SupportForm,
    WhatHappenedForm,
)
from claims.claimant.views.common import (
    current_claim,
    draft_required,
    form_error,
    page,
    posted,
    posted_files,
    too_many,
)
from claims.claimant.views.public import IDENTITY_KEY, send_access_link
from claims.core import Actor, ClaimError
from claims.domain.lost_time import lost_time_amount
from claims.domain.uploads import MAX_FILES_PER_CLAIM, files_discarded_on_error
from claims.models import AccessLink, Claim, HeadOfLoss, Scheme
from config.security import client_ip

PAGE_TITLES = {
    "contact": "Your contact details",
    "representative": "Claiming for someone else",
    "what-happened": "What happened to you",
    "losses": "What you are claiming for",
    "distress": "How the breach affected you",
    "support": "Support and how we write to you",
}
PAGE_URLS = {
    "contact": "claims:contact",
    "representative": "claims:representative",
    "what-happened": "claims:what_happened",
    "losses": "claims:losses",
    "distress": "claims:distress",
    "support": "claims:support",
}


def next_page(claim: Claim, request: HttpRequest) -> HttpResponse:
    """The first page not yet answered, or the check page; back to check after a change."""
    if request.GET.get("from") == "check" or request.POST.get("from") == "check":
        return redirect("claims:check")
    for name in submission.DRAFT_PAGES:
        if name not in claim.answered_pages:
            return redirect(PAGE_URLS[name])
    return redirect("claims:check")


def _actor(request: HttpRequest) -> Actor:
    return Actor.claimant(request.claim.pk)  # type: ignore[attr-defined]


def _saved(request: HttpRequest, claim: Claim) -> HttpResponse:
    """After a page is saved: on to the next, or 'save and come back later'."""
    if "save_and_return" in request.POST:
        if not send_access_link(request, claim, AccessLink.Purpose.RESUME):
            return too_many(request)
        return redirect("claims:saved")
    return next_page(claim, request)


# --- Contact details: the first page, which opens the claim ----------------------


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    claim = current_claim(request)
    identity = request.session.get(IDENTITY_KEY)
    if claim is None and not identity:
        return redirect("claims:home")
    if claim is not None and claim.stage != "draft":
        return redirect("claims:my_claim")
    if claim is None:
        initial = {"postcode": identity.get("postcode", "")} if identity else {}
    else:
        initial = {f: getattr(claim, f) for f in ContactForm.base_fields}
    form = ContactForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if claim is None:
                assert identity is not None
                scheme = Scheme.objects.get(pk=identity["scheme"])
                with transaction.atomic():
                    claim = submission.claim_start(
                        scheme=scheme,
                        register_entry_id=identity.get("entry"),
                        no_notice=identity.get("entry") is None,
                        **form.cleaned_data,
                    )
                    submission.claim_mark_answered(
                        claim_id=claim.pk, actor=Actor.claimant(claim.pk), page="contact"
                    )
                request.session.pop(IDENTITY_KEY, None)
                claimant_sign_in(request, claim)
            else:
                claim = submission.claim_update_details(
                    claim_id=claim.pk,
                    actor=Actor.claimant(claim.pk),
                    page="contact",
                    **form.cleaned_data,
                )
        except ClaimError as error:
            form_error(form, error)
        else:
            claim.refresh_from_db()
            return _saved(request, claim)
    if claim is not None:
        scheme = claim.scheme
    else:  # before the claim exists, the header and title name the scheme identified
        assert identity is not None
        scheme = Scheme.objects.get(pk=identity["scheme"])
    return page(request, "claims/contact.html", form=form, claim=claim, scheme=scheme)


def _details_page(request: HttpRequest, form_class: type, page_name: str) -> HttpResponse:
    """A page of the claim form whose answers are fields on the claim itself."""
    claim: Claim = request.claim  # type: ignore[attr-defined]
    fields = submission.DETAIL_FIELDS[page_name]
    initial = {f: getattr(claim, f) for f in fields}
    if page_name == "representative" and "representative" in claim.answered_pages:
        initial["on_behalf"] = "yes" if claim.representative_name else "no"
    form = form_class(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        values = {f: form.cleaned_data.get(f) or "" for f in fields}
        if page_name == "representative" and form.cleaned_data["on_behalf"] == "no":
            values = {f: "" for f in fields}
        try:
            claim = submission.claim_update_details(
                claim_id=claim.pk, actor=_actor(request), page=page_name, **values
            )
        except ClaimError as error:
            form_error(form, error)
        else:
            return _saved(request, claim)
    return page(
        request, "claims/question.html", form=form, claim=claim, title=PAGE_TITLES[page_name]
    )


@draft_required
@require_http_methods(["GET", "POST"])
def representative(request: HttpRequest) -> HttpResponse:
    return _details_page(request, RepresentativeForm, "representative")


@draft_required
@require_http_methods(["GET", "POST"])
def what_happened(request: HttpRequest) -> HttpResponse:
    return _details_page(request, WhatHappenedForm, "what-happened")


@draft_required
@require_http_methods(["GET", "POST"])
def support(request: HttpRequest) -> HttpResponse:
    return _details_page(request, SupportForm, "support")


# --- Heads of loss -------------------------------------------------------------------


@draft_required
@require_http_methods(["GET", "POST"])
def losses(request: HttpRequest) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    heads = claim.heads_of_loss.exclude(category=HeadOfLoss.Category.DISTRESS).prefetch_related(
        "evidence"
    )
    if request.method == "POST":
        claim = submission.claim_mark_answered(
            claim_id=claim.pk, actor=_actor(request), page="losses"
        )
        return _saved(request, claim)
    return page(
        request,
        "claims/losses.html",
        claim=claim,
        heads=heads,
        file_count=claim.evidence.count(),
        max_files=MAX_FILES_PER_CLAIM,
    )


@draft_required
@require_http_methods(["GET", "POST"])
def loss_choose(request: HttpRequest) -> HttpResponse:
    form = LossCategoryForm(posted(request))
    if request.method == "POST" and form.is_valid():
        return redirect("claims:loss_add", category=form.cleaned_data["category"])
    return page(
        request,
        "claims/loss_choose.html",
        form=form,
        hints=LOSS_HINTS,
        claim=request.claim,  # type: ignore[attr-defined]
    )


def _loss_form(request: HttpRequest, category: str, existing: HeadOfLoss | None) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    scheme = claim.scheme
    is_time = category == HeadOfLoss.Category.TIME_SPENT
    form_class = HoursForm if is_time else LossForm
    initial: dict[str, Any] = {}
    if existing is not None:
        initial = {"description": existing.description}
        if is_time and existing.hours is not None:
            initial["hours"] = f"{existing.hours.normalize():f}"
        elif not is_time:
            initial.update(incurred_on=existing.incurred_on, amount=f"{existing.amount_claimed}")
    form = form_class(posted(request), posted_files(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        values: dict[str, Any] = {"description": data["description"]}
        if is_time:
            values["hours"] = data["hours"]
        else:
            values.update(amount_claimed=data["amount"], incurred_on=data["incurred_on"])
        try:
            # One transaction: the item and its files are saved together or not at all.
            with files_discarded_on_error() as saved, transaction.atomic():
                if existing is None:
                    head = submission.head_of_loss_add(
                        claim_id=claim.pk, actor=_actor(request), category=category, **values
                    )
                else:
                    head = submission.head_of_loss_change(
                        head_id=existing.pk, actor=_actor(request), **values
                    )
                for upload in data["files"]:
                    evidence = submission.evidence_add(
                        claim_id=claim.pk,
                        actor=_actor(request),
                        upload=upload,
                        head_of_loss_id=head.pk,
                    )
                    saved.append(evidence)
        except ClaimError as error:
            form_error(form, error)
        else:
            if "save_and_return" in request.POST:
                return _saved(request, claim)
            return redirect("claims:losses")
    return page(
        request,
        "claims/loss_form.html",
        form=form,
        head=existing,
        category=category,
        category_label=HeadOfLoss.Category(category).label,
        hint=LOSS_HINTS.get(category, ""),
        evidence_help=EVIDENCE_HELP.get(category, ""),
        scheme=scheme,
        is_time=is_time,
        estimate=_hours_estimate(scheme, request.POST.get("hours")) if is_time else None,
    )


def _hours_estimate(scheme: Scheme, typed: str | None) -> str | None:
    """The lost-time sum for what was typed, shown after a submit when JavaScript is off."""
    if not typed:
        return None
    try:
        hours = core.parse_hours(typed)
    except ClaimError:
        return None
    without = lost_time_amount(scheme, hours, with_evidence=False)
    with_evidence = lost_time_amount(scheme, hours, with_evidence=True)
    return (
        f"{hours.normalize():f} hours at £{scheme.lost_time_hourly_rate} an hour: "
        f"up to £{without:,.2f} without evidence, £{with_evidence:,.2f} with a log of your time."
    )


@draft_required
@require_http_methods(["GET", "POST"])
def loss_add(request: HttpRequest, category: str) -> HttpResponse:
    if category not in HeadOfLoss.Category.values or category == HeadOfLoss.Category.DISTRESS:
        raise Http404("No such kind of loss.")
    return _loss_form(request, category, None)


def _own_head(request: HttpRequest, pk: int) -> HeadOfLoss:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    head = claim.heads_of_loss.filter(pk=pk).exclude(category=HeadOfLoss.Category.DISTRESS).first()
    if head is None:
        raise Http404("No such item on your claim.")
    return head


@draft_required
@require_http_methods(["GET", "POST"])
def loss_change(request: HttpRequest, pk: int) -> HttpResponse:
    head = _own_head(request, pk)
    return _loss_form(request, head.category, head)


@draft_required
@require_http_methods(["GET", "POST"])
def loss_remove(request: HttpRequest, pk: int) -> HttpResponse:
    head = _own_head(request, pk)
    if request.method == "POST":
        submission.head_of_loss_remove(head_id=head.pk, actor=_actor(request))
        messages.success(request, f"Removed: {head.get_category_display()}.")
        return redirect("claims:losses")
    return page(request, "claims/loss_remove.html", head=head)


@draft_required
@require_POST
def evidence_remove(request: HttpRequest, pk: int) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    evidence = claim.evidence.filter(pk=pk).first()
    if evidence is None:
        raise Http404("No such file on your claim.")
    submission.evidence_remove(evidence_id=evidence.pk, actor=_actor(request))
    messages.success(request, f"Removed the file {evidence.original_name}.")
    return redirect("claims:check" if request.POST.get("next_page") == "check" else "claims:losses")


# --- Distress ------------------------------------------------------------------------


@draft_required
@require_http_methods(["GET", "POST"])
def distress(request: HttpRequest) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    head = claim.heads_of_loss.filter(category=HeadOfLoss.Category.DISTRESS).first()
    initial: dict[str, Any] = {}
    if "distress" in claim.answered_pages:
        initial = {
            "affected": "yes" if head else "no",
            "effects": (head.details or {}).get("effects", []) if head else [],
            "account": head.description if head else "",
        }
    form = DistressForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            submission.distress_set(
                claim_id=claim.pk,
                actor=_actor(request),
                affected=data["affected"] == "yes",
                effects=data["effects"] if data["affected"] == "yes" else [],
                account=data["account"] if data["affected"] == "yes" else "",
            )
        except ClaimError as error:
            form_error(form, error, "account")
        else:
            claim.refresh_from_db()
            return _saved(request, claim)
    return page(request, "claims/distress.html", form=form, claim=claim)


# --- Check, submit, confirmation --------------------------------------------------------


@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponseBase:
    form = SubmitForm(posted(request))
    refused: ClaimError | None = None
    claim_id = claimant_claim_id(request) if request.method == "POST" else None
    if claim_id is not None and form.is_valid():
        # Straight to the service, which locks and reads the claim: reading it here first
        # as well would cost every submission a query. Anything but a success (no claim,
        # not a draft, a rule refused) goes to the page, which reads it as every page does.
        try:
            submission.claim_submit(
                claim_id=claim_id,
                actor=Actor.claimant(claim_id),
                statement_of_truth=form.cleaned_data["statement_of_truth"],
                ip_address=client_ip(request),
            )
        except ClaimError as error:
            refused = error
        else:
            response = redirect("claims:submitted")
            add_never_cache_headers(response)
            return response
    return _check_page(request, form, refused)


@draft_required
def _check_page(request: HttpRequest, form: SubmitForm, refused: ClaimError | None) -> HttpResponse:
    claim: Claim = request.claim  # type: ignore[attr-defined]
    if refused is not None:
        form_error(form, refused)
    missing = [name for name in submission.DRAFT_PAGES if name not in claim.answered_pages]
    heads = list(claim.heads_of_loss.prefetch_related("evidence"))
    effects = dict(DISTRESS_EFFECTS)
    return page(
        request,
        "claims/check.html",
        claim=claim,
        form=form,
        heads=[h for h in heads if h.category != HeadOfLoss.Category.DISTRESS],
        distress=next((h for h in heads if h.category == HeadOfLoss.Category.DISTRESS), None),
        effects=effects,
        missing=[(PAGE_TITLES[name], reverse(PAGE_URLS[name])) for name in missing],
        total=claim.total_claimed(),
    )


def submitted(request: HttpRequest) -> HttpResponse:
    claim = current_claim(request)
    if claim is None:
        return redirect("claims:follow")
    if claim.stage == "draft":
        return redirect("claims:check")
    return page(request, "claims/submitted.html", claim=claim)


@draft_required
@require_POST
def save_and_return(request: HttpRequest) -> HttpResponse:
    if not send_access_link(request, request.claim, AccessLink.Purpose.RESUME):  # type: ignore[attr-defined]
        return too_many(request)
    return redirect("claims:saved")


@draft_required
def saved(request: HttpRequest) -> HttpResponse:
    return page(request, "claims/saved.html", claim=request.claim)  # type: ignore[attr-defined]


@draft_required
def resume(request: HttpRequest) -> HttpResponse:
    return next_page(request.claim, request)  # type: ignore[attr-defined]
