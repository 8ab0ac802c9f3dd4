"""The staff admin: every model visible, and nothing in it that can change a stage.

Stages, audit events and status updates change only through `claims.actions`,
so the claim and its record are shown read-only here, for superusers too. What
a person may see follows the Django groups of migration 0002: this module only
ever takes rights away, never grants them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils.text import Truncator

from claims.domain.money import format_money
from claims.domain.references import (
    generate_notice_code,
    normalise_notice_code,
    normalise_postcode,
    normalise_reference,
)
from claims.models import (
    AuditEvent,
    Claim,
    DistressBand,
    Evidence,
    HeadOfLoss,
    InternalNote,
    Letter,
    LetterBatch,
    LetterRequest,
    NoticeCampaign,
    Offer,
    OfferItem,
    PaymentBatch,
    RegisterEntry,
    Scheme,
    StaffAccess,
    StaffDigest,
    StatusUpdate,
)
from claims.staff.claims import ClaimAdmin, RegisterTransferMixin
from claims.staff.letters import LetterAdmin, LetterBatchAdmin, LetterRequestAdmin
from claims.staff.mixins import NoWritesMixin
from claims.staff.notifications import NoticeCampaignAdmin, OutboxAdminMixin, StaffDigestAdmin
from claims.staff.payments import PaymentBatchAdmin

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest


# --- Shared building blocks ---------------------------------------------------


class LooseSearchAdmin(admin.ModelAdmin):
    """The default search, plus exact matches on codes a person typed loosely."""

    def extra_search(self, search_term: str) -> Q:
        return Q()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        extra = self.extra_search(search_term)
        if extra:
            results |= queryset.filter(extra)
        return results, may_have_duplicates


class ReferenceSearchAdmin(LooseSearchAdmin):
    """Finds a claim by its reference however it was typed: lower case, without
    hyphens, with spaces, or with O/I/L for 0/1."""

    reference_lookup = "claim__reference"

    def extra_search(self, search_term: str) -> Q:
        reference = normalise_reference(search_term)
        if reference is None:
            return Q()
        return Q(**{self.reference_lookup: reference})


class ReadOnlyAdmin(NoWritesMixin, ReferenceSearchAdmin):
    """A record that only `claims.actions` writes: nobody adds, changes or deletes it
    here, superusers included."""

    actions = None


class ReadOnlyInline(NoWritesMixin, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    select_related: tuple[str, ...] = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field for field in self.fields or () if isinstance(field, str)]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related(*self.select_related)


class EvidenceDisplay:
    @admin.display(description="Size", ordering="size")
    def file_size(self, evidence: Evidence) -> str:
        return filesizeformat(evidence.size)


class AuditEventDisplay:
    @admin.display(description="Actor")
    def actor_name(self, event: AuditEvent) -> str:
        return event.actor_label


# --- Schemes and the register -------------------------------------------------


class DistressBandInline(admin.TabularInline):
    model = DistressBand
    extra = 0
    fields = ["position", "name", "description", "lower", "upper"]


class SchemeForm(forms.ModelForm):
    pro_rata_categories = forms.MultipleChoiceField(
        choices=HeadOfLoss.Category.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Pro-rata categories",
        help_text="The heads of loss whose awards share the pool (claims.queries.prorata).",
    )

    class Meta:
        model = Scheme
        # The admin adds the rest of its fieldsets' fields.
        fields = ["fund_amount", "pro_rata", "pro_rata_categories", "pro_rata_pool"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("pro_rata") and not data.get("pro_rata_categories"):
            self.add_error("pro_rata_categories", "Choose the categories that share the pool.")
        if data.get("pro_rata") and not data.get("pro_rata_pool"):
            self.add_error("pro_rata_pool", "Give the pool the categories share.")
        pool, fund = data.get("pro_rata_pool"), data.get("fund_amount")
        if pool is not None and fund is not None and pool > fund:
            self.add_error("pro_rata_pool", "The pool cannot be more than the fund.")
        return data


class SchemeAdmin(admin.ModelAdmin):
    form = SchemeForm
    list_display = ["name", "organisation", "claims_open", "claims_close", "fund"]
    search_fields = ["name", "organisation", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]
    inlines = [DistressBandInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "organisation", "incident_summary"]}),
        ("Dates", {"fields": ["breach_start", "breach_end", "notice_date", "claims_open",
                              "claims_close"]}),
        ("Lost time", {"fields": ["lost_time_hourly_rate", "lost_time_hours_cap",
                                  "lost_time_hours_cap_with_evidence"]}),
        ("Offers and deadlines", {"fields": ["offer_approval_threshold",
                                             "accept_by_working_days",
                                             "cure_window_working_days",
                                             "first_reminder_working_days",
                                             "second_reminder_working_days"]}),
        ("Fund and contact", {"fields": ["fund_amount", "contact_phone", "contact_email",
                                         "created_at"]}),
        ("Letters", {"fields": ["letter_logo", "letter_return_address"]}),
        ("Privacy", {"fields": ["retention_years"]}),
        ("Pro-rata mode", {"fields": ["pro_rata", "pro_rata_categories", "pro_rata_pool"]}),
    ]  # fmt: skip

    @admin.display(description="Fund", ordering="fund_amount")
    def fund(self, scheme: Scheme) -> str:
        return format_money(scheme.fund_amount)


class RegisterEntryForm(forms.ModelForm):
    class Meta:
        model = RegisterEntry
        fields = ["scheme", "notice_code", "full_name", "email", "address", "postcode",
                  "external_id"]  # fmt: skip

    def clean_notice_code(self) -> str:
        code = normalise_notice_code(self.cleaned_data["notice_code"])
        if code is None:
            raise forms.ValidationError("A notice code is twelve letters and digits.")
        return code

    def clean_postcode(self) -> str:
        return normalise_postcode(self.cleaned_data["postcode"])


class RegisterEntryAdmin(RegisterTransferMixin, LooseSearchAdmin):
    form = RegisterEntryForm
    change_list_template = "admin/claims/registerentry/change_list.html"  # import, export
    list_display = ["full_name", "notice_code", "scheme", "postcode", "email", "notice_sent_at"]
    list_filter = ["scheme", ("notice_sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["scheme"]
    search_fields = ["full_name", "email", "postcode", "notice_code", "external_id"]
    fields = [
        "scheme",
        "notice_code",
        "full_name",
        "email",
        "address",
        "postcode",
        "external_id",
        "notice_sent_at",
        "created_at",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A code already posted to someone must keep working; sending notices is
        # its own job, so the sent date is not typed in.
        readonly = ["notice_sent_at", "created_at"]
        return ["notice_code", *readonly] if obj is not None else readonly

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {
            "notice_code": generate_notice_code(),
            **super().get_changeform_initial_data(request),
        }

    def extra_search(self, search_term: str) -> Q:
        extra = Q()
        if code := normalise_notice_code(search_term):
            extra |= Q(notice_code=code)
        if search_term.strip():
            extra |= Q(postcode=normalise_postcode(search_term))
        return extra


# --- Claims -------------------------------------------------------------------


class HeadOfLossAdmin(ReadOnlyAdmin):
    list_display = ["claim", "category", "amount_claimed", "amount_allowed", "assessed_by"]
    list_filter = ["category"]
    list_select_related = ["claim", "assessed_by"]
    search_fields = ["claim__reference", "description"]
    ordering = ["-created_at"]
    fields = [
        "claim",
        "category",
        "description",
        "incurred_on",
        "hours",
        "amount_claimed",
        "distress_band",
        "amount_allowed",
        "assessment_reason",
        "assessed_by",
        "assessed_at",
        "created_at",
    ]


class EvidenceAdmin(EvidenceDisplay, ReadOnlyAdmin):
    """Metadata only: the stored file has no public URL and is never linked."""

    list_display = ["original_name", "claim", "content_type", "file_size", "uploaded_at"]
    list_filter = ["content_type"]
    list_select_related = ["claim"]
    search_fields = ["claim__reference", "original_name", "sha256"]
    ordering = ["-uploaded_at"]
    fields = [
        "claim",
        "head_of_loss",
        "original_name",
        "content_type",
        "file_size",
        "sha256",
        "uploaded_at",
    ]


class OfferItemInline(ReadOnlyInline):
    model = OfferItem
    fields = ["category", "amount_claimed", "amount_offered", "reason", "assessed_by"]
    select_related = ("assessed_by",)


class OfferAdmin(ReadOnlyAdmin):
    list_display = ["claim", "version", "total", "accept_by", "proposed_by", "approved_by",
                    "made_at"]  # fmt: skip
    list_select_related = ["claim", "proposed_by", "approved_by"]
    search_fields = ["claim__reference"]
    ordering = ["-proposed_at"]
    fields = [
        "claim",
        "version",
        "total",
        "accept_by",
        "proposed_by",
        "proposed_at",
        "approved_by",
        "approved_at",
        "made_at",
    ]
    inlines = [OfferItemInline]


class AuditEventAdmin(AuditEventDisplay, ReadOnlyAdmin):
    list_display = ["created_at", "claim", "action", "actor_name", "from_stage", "to_stage"]
    list_filter = ["action", "actor_kind", "to_stage"]
    list_select_related = ["claim", "actor"]
    search_fields = ["claim__reference", "action"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    fields = [
        "claim",
        "created_at",
        "action",
        "actor_kind",
        "actor",
        "from_stage",
        "to_stage",
        "reason",
        "data",
    ]


class InternalNoteAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "claim", "author", "excerpt"]
    list_select_related = ["claim", "author"]
    search_fields = ["claim__reference", "text"]
    ordering = ["-created_at"]
    fields = ["claim", "author", "created_at", "text"]

    @admin.display(description="Note")
    def excerpt(self, note: InternalNote) -> str:
        return Truncator(note.text).chars(80)


class StatusUpdateAdmin(OutboxAdminMixin, ReadOnlyAdmin):
    list_display = ["created_at", "claim", "kind", "stage", "state", "attempts",
                    "last_error_excerpt", "sent_at"]  # fmt: skip
    list_filter = ["state", "kind", "stage"]
    list_select_related = ["claim"]
    search_fields = ["claim__reference", "kind"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    fields = [
        "claim",
        "event",
        "kind",
        "stage",
        "verification_code",
        "state",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    ]


class StaffAccessAdmin(ReadOnlyAdmin):
    """The staff access log: who looked at which claim, what and when. For senior
    caseworkers and scheme administrators (claims.view_staffaccess); nobody can change
    or delete a row."""

    list_display = ["at", "user", "what", "claim", "object_id"]
    list_filter = ["what", "at"]
    list_select_related = ["user", "claim"]
    search_fields = ["claim__reference", "user__username"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("claims.view_staffaccess"))


def register(site: admin.AdminSite) -> None:
    """Put every Redress model on the staff site. Called once, by
    RedressAdminConfig.ready(): importing a module registers nothing."""
    site.register(Scheme, SchemeAdmin)
    site.register(RegisterEntry, RegisterEntryAdmin)
    site.register(HeadOfLoss, HeadOfLossAdmin)
    site.register(Evidence, EvidenceAdmin)
    site.register(Offer, OfferAdmin)
    site.register(AuditEvent, AuditEventAdmin)
    site.register(InternalNote, InternalNoteAdmin)
    site.register(StatusUpdate, StatusUpdateAdmin)
    site.register(StaffAccess, StaffAccessAdmin)
    site.register(Claim, ClaimAdmin)
    site.register(Letter, LetterAdmin)
    site.register(LetterBatch, LetterBatchAdmin)
    site.register(LetterRequest, LetterRequestAdmin)
    site.register(PaymentBatch, PaymentBatchAdmin)
    site.register(StaffDigest, StaffDigestAdmin)
    site.register(NoticeCampaign, NoticeCampaignAdmin)
