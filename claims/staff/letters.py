"""Letters in the staff admin: every letter read-only with a download, the bulk action
that makes chosen claims' letters again, and each batch's progress.

Imported by claims.staff.admin. Nothing here changes a letter: a letter is made only by
claims.delivery.letters, and a new version never replaces an old one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html

from claims.actions.access_audit import staff_access_record
from claims.actions.letters import letter_batch_create
from claims.models import Claim, Letter, LetterBatch, LetterRequest, StaffAccess
from claims.queries.letters import letter_batch_progress
from claims.staff.mixins import NoWritesMixin

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse


def letter_download_url(letter: Letter) -> str:
    return reverse("admin:claims_letter_download", args=[letter.pk])


@admin.action(
    description="Make the latest letter again, as a new version",
    permissions=["generate_letters"],
)
def generate_letters(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Claim]
) -> HttpResponse | None:
    """A bulk action for the claims list: each chosen claim's latest letter, made again
    on the letters queue; the batch page shows how far it has got."""
    if not request.user.has_perm("claims.generate_letters"):
        raise PermissionDenied
    batch = letter_batch_create(claims=queryset, user=request.user)
    skipped = f" {batch.skipped} chosen claim(s) have no letter yet." if batch.skipped else ""
    modeladmin.message_user(
        request,
        f"Making {batch.total} letter(s) on the letters queue.{skipped}",
        messages.SUCCESS,
    )
    return HttpResponseRedirect(reverse("admin:claims_letterbatch_change", args=[batch.pk]))


class ReadOnlyLetterAdmin(NoWritesMixin, admin.ModelAdmin):
    actions = None


class LetterAdmin(ReadOnlyLetterAdmin):
    list_display = ["claim", "kind", "version", "created_at", "file_size", "download"]
    list_filter = ["kind"]
    list_select_related = ["claim"]
    search_fields = ["claim__reference"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    fields = [
        "claim",
        "kind",
        "version",
        "created_at",
        "download",
        "file_size",
        "sha256",
        "template_version",
        "offer",
        "event",
    ]
    readonly_fields = fields  # type: ignore[assignment]

    @admin.display(description="Size", ordering="size")
    def file_size(self, letter: Letter) -> str:
        return filesizeformat(letter.size)

    @admin.display(description="PDF")
    def download(self, letter: Letter) -> str:
        return format_html('<a href="{}">Download</a>', letter_download_url(letter))

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<id:letter_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="claims_letter_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, letter_id: int) -> FileResponse:
        letter = get_object_or_404(Letter.objects.select_related("claim"), pk=letter_id)
        if not self.has_view_permission(request, letter):
            raise PermissionDenied
        if not letter.file:
            raise Http404("This letter was erased with the claim's personal data.")
        # A letter names the claimant and their award: each download is a look at the claim.
        staff_access_record(
            claim_id=letter.claim_id, user=request.user, what=StaffAccess.What.LETTER,
            object_id=letter.pk,
        )  # fmt: skip
        response = FileResponse(
            letter.file.open("rb"),
            as_attachment=True,
            filename=letter.download_name,
            content_type="application/pdf",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
        add_never_cache_headers(response)
        return response


class LetterRequestInline(admin.TabularInline):
    model = LetterRequest
    fields = ["claim", "kind", "state", "attempts", "last_error", "letter", "finished_at"]
    readonly_fields = fields  # type: ignore[assignment]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[LetterRequest]:
        # The ones that need a look first; a batch can be thousands of rows.
        queryset = super().get_queryset(request).select_related("claim", "letter")
        return queryset.order_by("state", "-id")


class LetterBatchAdmin(ReadOnlyLetterAdmin):
    list_display = ["created_at", "created_by", "total", "progress"]
    list_select_related = ["created_by"]
    ordering = ["-created_at"]
    fields = ["created_at", "created_by", "total", "skipped", "progress"]
    readonly_fields = fields  # type: ignore[assignment]
    inlines = [LetterRequestInline]
    change_form_template = "admin/claims/letterbatch/change_form.html"

    @admin.display(description="Progress")
    def progress(self, batch: LetterBatch) -> str:
        counts = letter_batch_progress(batch)
        finished = counts["done"] + counts["failed"]
        return format_html(
            '<progress max="{}" value="{}"></progress> {} of {} made, {} failed, {} waiting',
            max(counts["total"], 1),
            finished,
            counts["done"],
            counts["total"],
            counts["failed"],
            counts["pending"],
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        batch = LetterBatch.objects.filter(pk=object_id).first() if object_id.isdecimal() else None
        if batch is None:
            raise Http404
        pending = batch.requests.filter(state=LetterRequest.State.PENDING).exists()
        context = {"batch_pending": pending, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)


class LetterRequestAdmin(ReadOnlyLetterAdmin):
    list_display = ["created_at", "claim", "kind", "state", "attempts", "batch"]
    list_filter = ["state", "kind"]
    list_select_related = ["claim", "batch"]
    search_fields = ["claim__reference"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    fields = [
        "claim",
        "kind",
        "event",
        "batch",
        "state",
        "attempts",
        "last_error",
        "letter",
        "created_at",
        "next_attempt_at",
        "finished_at",
    ]
    readonly_fields = fields  # type: ignore[assignment]
