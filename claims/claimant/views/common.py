"""What every public view shares: the claimant's claim, errors, rate limits, headers."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django_ratelimit.core import is_ratelimited

from claims.actions.access import claimant_claim_id
from claims.core import ClaimError
from claims.domain.stages import Stage
from claims.models import Claim

log = logging.getLogger(__name__)

View = Callable[..., HttpResponseBase]

# Which form field a service error belongs to, by its code; others go to the summary.
ERROR_FIELDS = {
    "invalid_amount": "amount",
    "invalid_date": "incurred_on",
    "invalid_hours": "hours",
    "invalid_file": "files",
    "too_many_files": "files",
    "statement_of_truth": "statement_of_truth",
    "invalid_sort_code": "sort_code",
    "invalid_account_number": "account_number",
    "invalid_email": "email",
}


def posted(request: HttpRequest) -> Any:
    """The POST data to bind a form to, or None on GET. Not `request.POST or None`:
    an empty POST (only an unticked box) must still bind, so its errors show."""
    return request.POST if request.method == "POST" else None


def posted_files(request: HttpRequest) -> Any:
    return request.FILES if request.method == "POST" else None


def form_error(form: Form, error: ClaimError, field: str | None = None) -> None:
    target = field or ERROR_FIELDS.get(error.code)
    form.add_error(target if target in form.fields else None, error.message)
    if target in form.fields:
        form.fields[target].widget.attrs["aria-invalid"] = "true"


def page(request: HttpRequest, template: str, status: int = 200, **context: Any) -> HttpResponse:
    """A claimant page: never cached, since it can show personal data."""
    claim = context.get("claim")
    if claim is not None and "scheme" not in context:
        context["scheme"] = claim.scheme
    response = render(request, template, context, status=status)
    add_never_cache_headers(response)
    return response


# Every anonymous endpoint that looks something up or sends an email, with its limits per
# network address and per target (docs/security.md lists them). Counted in the cache:
# Redis in production, so every web process and machine shares one count.
RATE_LIMITS: dict[str, tuple[str, str]] = {
    "identify": ("20/10m", "5/15m"),  # target: the notice code typed
    "follow": ("10/10m", "3/15m"),  # target: the claim reference typed
    "link": ("30/10m", "10/10m"),  # target: the link's token
    "link_email": ("20/h", "5/h"),  # any emailed link; target: the claim it opens
}
RETRY_AFTER_SECONDS = 15 * 60


def too_many(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The "try again later" page (also allauth's, through config.urls.handler429)."""
    response = page(request, "claims/too_many.html", status=429)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def over_limit(request: HttpRequest, group: str, target: str) -> bool:
    """Count this request against its address and against `target`; True if either is
    over. Both counts are always taken, so probing one target cannot hide in another."""
    ip_rate, target_rate = RATE_LIMITS[group]
    try:
        by_ip = is_ratelimited(request, group=f"{group}:ip", key="ip", rate=ip_rate, increment=True)
        by_target = is_ratelimited(
            request,
            group=f"{group}:target",
            key=lambda group, request: target or "-",
            rate=target_rate,
            increment=True,
        )
    except Exception:
        # The counts live in the cache (Redis). Unable to count, refuse politely ("try
        # again later") rather than look things up without a limit or fail the page.
        log.warning("Rate limit %s could not be counted; refusing for now.", group, exc_info=True)
        return True
    return bool(by_ip or by_target)


def current_claim(request: HttpRequest) -> Claim | None:
    claim_id = claimant_claim_id(request)
    if claim_id is None:
        return None
    # An erased claim (claims.actions.privacy) opens for no one, even a session opened before.
    return (
        Claim.objects.select_related("scheme")
        .filter(pk=claim_id, personal_data_erased_at__isnull=True)
        .first()
    )


def claimant_required(view: View) -> View:
    """The claim this browser's session was opened for, as `request.claim`."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        claim = current_claim(request)
        if claim is None:
            if request.session.pop("redress_timed_out", False):
                messages.info(
                    request,
                    "For your security we closed your claim after 30 minutes without activity. "
                    "Everything you saved is kept. Ask for a new link to carry on.",
                )
            return redirect("claims:follow")
        request.claim = claim  # type: ignore[attr-defined]
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return wrapper


def draft_required(view: View) -> View:
    """As claimant_required, for pages that change a claim not yet submitted."""

    @claimant_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.claim.stage != Stage.DRAFT:  # type: ignore[attr-defined]
            return redirect("claims:my_claim")
        return view(request, *args, **kwargs)

    return wrapper
