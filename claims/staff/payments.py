"""Payment batches in the admin, for finance officers: build a batch, download its
payment file, mark each payment paid or failed. Every change is a call to
claims.actions.payments; nothing here saves a model form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

from claims.actions import payments
from claims.core import Actor, ClaimError
from claims.domain.money import format_money
from claims.models import Payment, PaymentBatch, Scheme
from claims.staff.mixins import NoWritesMixin

if TYPE_CHECKING:
    from django.http import HttpRequest


def _to_batch(batch_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:claims_paymentbatch_change", args=[batch_id]))


class PaymentBatchAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ["__str__", "scheme", "created_at", "created_by", "count", "amount", "file"]
    list_filter = ["state", "scheme"]
    list_select_related = ["scheme", "created_by"]
    ordering = ["-created_at", "-id"]
    change_list_template = "admin/claims/paymentbatch/change_list.html"

    @admin.display(description="Total", ordering="total")
    def amount(self, batch: PaymentBatch) -> str:
        return format_money(batch.total)

    @admin.display(description="Payment file downloaded")
    def file(self, batch: PaymentBatch) -> str:
        return f"{batch.file_downloaded_at:%-d %b %Y %H:%M}" if batch.file_downloaded_at else "No"

    # Finance officers only, and only through the services.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("claims.manage_payments"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("build/", wrap(self.build_view), name="claims_paymentbatch_build"),
            path("<id:batch_id>/file/", wrap(self.file_view), name="claims_paymentbatch_file"),
            path(
                "<id:batch_id>/payment/<id:payment_id>/",
                wrap(self.decide_view),
                name="claims_paymentbatch_decide",
            ),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "title": title, "opts": self.opts, **extra}

    def _check(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def build_view(self, request: HttpRequest) -> HttpResponse:
        """Which schemes have claims ready to pay, and a button to batch them."""
        self._check(request)
        if request.method == "POST":
            scheme_id = request.POST.get("scheme", "")
            try:
                batch = payments.payment_batch_build(
                    scheme_id=int(scheme_id) if scheme_id.isdecimal() else 0,
                    actor=Actor.staff(request.user),
                )
            except ClaimError as error:
                if error.code == "forbidden":
                    raise PermissionDenied(error.message) from None
                self.message_user(request, error.message, messages.ERROR)
                return HttpResponseRedirect(reverse("admin:claims_paymentbatch_build"))
            self.message_user(
                request,
                f"Built {batch}: {batch.count} payment(s), {format_money(batch.total)}. "
                "Download the payment file for the bank next.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:claims_paymentbatch_change", args=[batch.pk])
            )
        ready = [
            (scheme, payments.payable_claims(scheme).count())
            for scheme in Scheme.objects.order_by("name")
        ]
        return TemplateResponse(
            request,
            "admin/claims/paymentbatch/build.html",
            self._context(request, "Build a payment batch", ready=ready),
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        self._check(request)
        if request.method == "POST":
            raise PermissionDenied
        batch = (
            PaymentBatch.objects.select_related("scheme", "created_by")
            .filter(pk=int(object_id) if object_id.isdecimal() else 0)
            .first()
        )
        if batch is None:
            raise Http404
        rows = batch.payments.select_related("claim", "decided_by").order_by("id")
        return TemplateResponse(
            request,
            "admin/claims/paymentbatch/batch.html",
            self._context(
                request,
                str(batch),
                batch=batch,
                rows=rows,
                pending=any(row.state == Payment.State.PENDING for row in rows),
                can_download=request.user.has_perm("claims.view_payment_details"),
            ),
        )

    @method_decorator(sensitive_variables())
    def file_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        """The payment file: by POST, as its download is recorded per claim."""
        self._check(request)
        if request.method != "POST":
            raise PermissionDenied
        try:
            name, text = payments.payment_file(batch_id=batch_id, actor=Actor.staff(request.user))
        except ClaimError as error:
            if error.code == "forbidden":
                raise PermissionDenied(error.message) from None
            if error.code == "not_found":
                raise Http404(error.message) from None
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:claims_paymentbatch_change", args=[batch_id])
            )
        response = HttpResponse(text, content_type="text/csv; charset=us-ascii")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["X-Content-Type-Options"] = "nosniff"
        add_never_cache_headers(response)
        return response

    def decide_view(self, request: HttpRequest, batch_id: int, payment_id: int) -> HttpResponse:
        self._check(request)
        if request.method != "POST":
            raise PermissionDenied
        payment = Payment.objects.filter(pk=payment_id, batch_id=batch_id).first()
        if payment is None:
            raise Http404
        actor = Actor.staff(request.user)
        outcome = request.POST.get("outcome", "")
        try:
            if outcome == "paid":
                payments.payment_mark_paid(payment_id=payment.pk, actor=actor)
                done = f"{payment.claim.reference} is marked paid; their letter is on its way."
            elif outcome == "failed":
                payments.payment_mark_failed(
                    payment_id=payment.pk, actor=actor, reason=request.POST.get("reason", "")
                )
                done = (
                    f"{payment.claim.reference} is marked failed and back to accepted; "
                    "the claimant is asked for new bank details."
                )
            else:
                raise ClaimError("Choose paid or failed.", code="invalid")
        except ClaimError as error:
            if error.code == "forbidden":
                raise PermissionDenied(error.message) from None
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return _to_batch(batch_id)
