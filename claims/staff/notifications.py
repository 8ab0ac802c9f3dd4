"""Admin for email delivery: "send again" for failed status updates and digests, and the
notice campaign (start, progress, pause, resume). Imported by claims.staff.admin.

Everything here goes through claims.delivery.emails and claims.actions.notices; the admin
never sets a state itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.text import Truncator

from claims.actions import emails, notices
from claims.core import ClaimError
from claims.models import NoticeCampaign, Scheme, StaffDigest, StatusUpdate
from claims.staff.mixins import NoWritesMixin

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest

RESEND_PERMISSION = "claims.resend_statusupdate"
SEND_NOTICES_PERMISSION = "claims.send_notices"


class OutboxAdminMixin:
    """A failed email's error in the list, and "send again" for those who may."""

    model: type[StatusUpdate] | type[StaffDigest]
    actions: Any = ["send_again"]

    @admin.action(description="Send the selected failed emails again", permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        resent = emails.outbox_resend(model=self.model, ids=ids, actor=request.user)
        note = f"{resent} failed email{'s' if resent != 1 else ''} will be sent again."
        if left := len(ids) - resent:
            note += f" {left} not failed, so left as {'they were' if left != 1 else 'it was'}."
        self.message_user(request, note, messages.SUCCESS if resent else messages.WARNING)  # type: ignore[attr-defined]

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESEND_PERMISSION)

    @admin.display(description="Last error")
    def last_error_excerpt(self, row: StatusUpdate | StaffDigest) -> str:
        return Truncator(row.last_error).chars(90)


class StaffDigestAdmin(NoWritesMixin, OutboxAdminMixin, admin.ModelAdmin):
    list_display = ["day", "user", "claim_count", "state", "attempts", "last_error_excerpt",
                    "sent_at"]  # fmt: skip
    list_filter = ["state", "day"]
    list_select_related = ["user"]
    ordering = ["-day", "user"]
    fields = ["user", "day", "claim_count", "state", "attempts", "last_error", "created_at",
              "sent_at"]  # fmt: skip

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(RESEND_PERMISSION)


class NoticeCampaignForm(forms.ModelForm):
    class Meta:
        model = NoticeCampaign
        fields = ["scheme"]

    request: HttpRequest

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scheme = self.fields["scheme"]
        assert isinstance(scheme, forms.ModelChoiceField)
        scheme.queryset = Scheme.objects.order_by("name")
        scheme.help_text = (
            "Everyone on this scheme's register with an email address and no notice yet is "
            "sent one. Nobody is ever sent two."
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        scheme = cleaned.get("scheme")
        if scheme is not None:
            try:
                notices.notice_campaign_check(scheme_id=scheme.pk, user=self.request.user)
            except ClaimError as refused:
                raise forms.ValidationError(refused.message) from None
        return cleaned


class NoticeCampaignAdmin(admin.ModelAdmin):
    """Start a campaign with "Add"; watch its progress in the list; pause and resume it
    with the actions."""

    form = NoticeCampaignForm
    list_display = ["scheme", "state", "progress", "sent", "failed", "total", "created_by",
                    "created_at", "finished_at"]  # fmt: skip
    list_filter = ["state", "scheme"]
    list_select_related = ["scheme", "created_by"]
    ordering = ["-created_at"]
    actions = ["pause", "resume"]
    readonly_fields = ["scheme", "state", "progress", "total", "sent", "failed", "remaining",
                       "generation", "chunks_done", "chunks_total", "last_error", "created_by",
                       "created_at", "updated_at", "finished_at"]  # fmt: skip

    def _may_send(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SEND_NOTICES_PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_send(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_send(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_send_notices_permission(self, request: HttpRequest) -> bool:
        return self._may_send(request)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["scheme"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> Any:  # fmt: skip
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        campaign = notices.notice_campaign_start(scheme_id=obj.scheme_id, user=request.user)
        obj.pk = campaign.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass

    @admin.display(description="Progress")
    def progress(self, campaign: NoticeCampaign) -> str:
        done = campaign.sent + campaign.failed
        total = max(campaign.total, 1)
        return format_html(
            '<progress value="{}" max="{}" aria-label="Notices sent">{}%</progress> {} of {}',
            done,
            total,
            done * 100 // total,
            f"{done:,}",
            f"{campaign.total:,}",
        )

    @admin.display(description="Still to send")
    def remaining(self, campaign: NoticeCampaign) -> str:
        return f"{notices.notice_campaign_remaining(campaign):,}"

    def _each(self, request: HttpRequest, queryset: QuerySet[Any], service: Any, verb: str) -> None:
        done = 0
        for campaign in queryset:
            try:
                service(campaign_id=campaign.pk, user=request.user)
            except ClaimError as refused:
                self.message_user(request, f"{campaign}: {refused.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"{verb} {done} campaign(s).", messages.SUCCESS)

    @admin.action(description="Pause the selected campaigns", permissions=["send_notices"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._each(request, queryset, notices.notice_campaign_pause, "Paused")

    @admin.action(description="Resume the selected campaigns", permissions=["send_notices"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._each(request, queryset, notices.notice_campaign_resume, "Resumed")
