"""What every public view shares: the claimant's claim, errors, rate limits, headers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django_ratelimit.core import is_ratelimited

from claims.access import claimant_claim_id
from claims.models import Claim, Stage
from claims.services import ClaimError

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


def too_many(request: HttpRequest) -> HttpResponse:
    return page(request, "claims/too_many.html", status=429)


def over_limit(request: HttpRequest, group: str, rates: dict[str, str]) -> bool:
    """Count this request against each `target: rate` (the address is one target); True
    if any is over. Every count is taken, so probing one target cannot hide in another."""
    limited = False
    for target, rate in rates.items():
        key: Any = "ip" if target == "ip" else (lambda g, r, value=target: value)
        name = f"{group}:{'ip' if target == 'ip' else 'target'}"
        if is_ratelimited(request, group=name, key=key, rate=rate, increment=True):
            limited = True
    return limited


def current_claim(request: HttpRequest) -> Claim | None:
    claim_id = claimant_claim_id(request)
    if claim_id is None:
        return None
    return Claim.objects.select_related("scheme").filter(pk=claim_id).first()


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
