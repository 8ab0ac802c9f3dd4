"""Pages anyone can open: the start page, finding your notice, and single-use links."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from claims.actions.access import (
    LINK_LIFETIME,
    LinkRefused,
    access_link_issue,
    access_link_peek,
    access_link_redeem,
    claimant_sign_in,
    claimant_sign_out,
)
from claims.claimant.forms import FollowForm, IdentifyForm
from claims.claimant.views.common import over_limit, page, posted, too_many
from claims.domain.references import normalise_postcode
from claims.domain.stages import Stage
from claims.models import AccessLink, Claim, RegisterEntry, Scheme

logger = logging.getLogger(__name__)
IDENTITY_KEY = "redress_identity"


def open_schemes() -> list[Scheme]:
    today = timezone.localdate()
    return list(Scheme.objects.filter(claims_open__lte=today, claims_close__gte=today))


def home(request: HttpRequest) -> HttpResponse:
    schemes = open_schemes()
    if len(schemes) == 1:
        return scheme_page(request, schemes[0])
    return page(request, "claims/home.html", schemes=schemes)


def scheme_start(request: HttpRequest, slug: str) -> HttpResponse:
    scheme = get_object_or_404(Scheme, slug=slug)
    return scheme_page(request, scheme)


def scheme_page(request: HttpRequest, scheme: Scheme) -> HttpResponse:
    today = timezone.localdate()
    return page(
        request,
        "claims/start.html",
        scheme=scheme,
        is_open=scheme.is_open_on(today),
        bands=scheme.distress_bands.all(),
    )


def _open_scheme_or_404(slug: str) -> Scheme:
    scheme = get_object_or_404(Scheme, slug=slug)
    if not scheme.is_open_on(timezone.localdate()):
        raise Http404("This scheme is not taking claims.")
    return scheme


@require_http_methods(["GET", "POST"])
def identify(request: HttpRequest, slug: str) -> HttpResponse:
    scheme = _open_scheme_or_404(slug)
    form = IdentifyForm(posted(request))
    if request.method == "POST":
        code_key = (request.POST.get("notice_code") or "").upper().replace("-", "").strip()[:40]
        if over_limit(request, "identify", code_key):
            return too_many(request)
        if form.is_valid():
            # One query whether or not the code exists, and one answer for any mismatch:
            # a guess learns nothing about which codes are real.
            entry = (
                RegisterEntry.objects.filter(
                    scheme=scheme, notice_code=form.cleaned_data["notice_code"]
                )
                .only("pk", "postcode")
                .first()
            )
            typed = normalise_postcode(form.cleaned_data["postcode"])
            if entry is not None and entry.postcode == typed:
                live = (
                    Claim.objects.filter(register_entry=entry)
                    .exclude(stage=Stage.WITHDRAWN)
                    .first()
                )
                if live is not None:
                    send_access_link(request, live, AccessLink.Purpose.FOLLOW)
                    return redirect("claims:already_claimed", slug=scheme.slug)
                request.session[IDENTITY_KEY] = {
                    "scheme": scheme.pk,
                    "entry": entry.pk,
                    "postcode": typed,
                }
                return redirect("claims:contact")
            form.add_error(
                None,
                "We could not match that notice code and postcode. Check both against your "
                "letter or email. If you still cannot match them, continue without a notice.",
            )
    return page(request, "claims/identify.html", scheme=scheme, form=form)


@require_http_methods(["GET", "POST"])
def no_notice(request: HttpRequest, slug: str) -> HttpResponse:
    scheme = _open_scheme_or_404(slug)
    if request.method == "POST":
        request.session[IDENTITY_KEY] = {"scheme": scheme.pk, "entry": None, "postcode": ""}
        return redirect("claims:contact")
    return page(request, "claims/no_notice.html", scheme=scheme)


def already_claimed(request: HttpRequest, slug: str) -> HttpResponse:
    scheme = get_object_or_404(Scheme, slug=slug)
    return page(request, "claims/already_claimed.html", scheme=scheme)


# --- Single-use links ------------------------------------------------------------


def send_access_link(request: HttpRequest, claim: Claim, purpose: str) -> bool:
    """Email `claim`'s address a new link (the token exists only in this email); False,
    sending nothing, when this address or this claim has asked for too many."""
    if over_limit(request, "link_email", str(claim.pk)):
        return False
    token = access_link_issue(claim=claim, purpose=purpose)
    context = {
        "claim": claim,
        "scheme": claim.scheme,
        "link": settings.SITE_URL + reverse("claims:link", args=[token]),
        "minutes": int(LINK_LIFETIME.total_seconds() // 60),
        "purpose": purpose,
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("emails/access_link.subject.txt", context).strip(),
        body=render_to_string("emails/access_link.txt", context),
        to=[claim.email],
    )
    message.attach_alternative(render_to_string("emails/access_link.html", context), "text/html")
    message.send()
    return True


@require_http_methods(["GET", "POST"])
def follow(request: HttpRequest) -> HttpResponse:
    form = FollowForm(posted(request))
    if request.method == "POST":
        target = (request.POST.get("reference") or "").upper()[:40]
        if over_limit(request, "follow", target):
            return too_many(request)
        if form.is_valid():
            claim = (
                Claim.objects.select_related("scheme")
                .filter(reference=form.cleaned_data["reference"])
                .filter(Q(email__iexact=form.cleaned_data["email"]))
                .first()
            )
            if claim is not None:
                send_access_link(request, claim, AccessLink.Purpose.FOLLOW)
            # The same page whether or not the claim exists or the email matched.
            return redirect("claims:follow_sent")
    return page(request, "claims/follow.html", form=form)


def follow_sent(request: HttpRequest) -> HttpResponse:
    return page(request, "claims/follow_sent.html")


LINK_KEY = "redress_link"


@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed address, which carries the token, is only a hop: GET keeps the token's
    hash in this browser's session and moves on to a confirm page whose address holds no
    token (email scanners follow links, so GET uses nothing). A POST here uses it at once.

    Every response here says `Referrer-Policy: no-referrer`, so the token is never sent
    on, not even to our own pages. The confirm page cannot say that itself: under it a
    browser posts its form with `Origin: null`, which Django's CSRF check refuses."""
    if over_limit(request, "link", token[:64]):
        response = too_many(request)
        response["Referrer-Policy"] = "no-referrer"
        return response
    try:
        if request.method == "POST":
            response = _link_open(request, access_link_redeem(token))
        else:
            found = access_link_peek(token)
            request.session[LINK_KEY] = found.token_hash
            response = redirect("claims:link_confirm")
    except LinkRefused as refused:
        response = page(request, "claims/link_refused.html", status=410, reason=refused.reason)
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["GET", "POST"])
def link_confirm(request: HttpRequest) -> HttpResponse:
    """ "Open my claim": the POST uses the link this session was given."""
    token_hash = request.session.get(LINK_KEY) or "-"
    if request.method == "POST" and over_limit(request, "link", token_hash):
        return too_many(request)
    try:
        if request.method == "POST":
            found = access_link_redeem("", token_hash=token_hash)
            request.session.pop(LINK_KEY, None)
            return _link_open(request, found)
        found = access_link_peek("", token_hash=token_hash)
    except LinkRefused as refused:
        return page(request, "claims/link_refused.html", status=410, reason=refused.reason)
    return page(request, "claims/link_confirm.html", purpose=found.purpose)


def _link_open(request: HttpRequest, found: AccessLink) -> HttpResponse:
    request.session.pop(IDENTITY_KEY, None)
    claimant_sign_in(request, found.claim)
    return redirect("claims:resume" if found.claim.stage == Stage.DRAFT else "claims:my_claim")


@require_http_methods(["POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    claimant_sign_out(request)
    return page(request, "claims/signed_out.html")
