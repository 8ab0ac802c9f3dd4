"""Staff pages for privacy: the subject access export of one claim, and erasing
drafts from the claims list. Both call claims.actions.privacy, which checks the permission."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from claims.actions import privacy
from claims.core import Actor, ClaimError
from claims.domain.stages import Stage
from claims.models import Claim


@require_POST
def subject_access_view(request: HttpRequest, claim_id: int) -> Any:
    """POST only, so that an export is a deliberate act the history records."""
    try:
        archive = privacy.subject_access_export(claim_id=claim_id, actor=Actor.staff(request.user))
    except ClaimError as error:
        if error.code == "forbidden":
            raise PermissionDenied(error.message) from None
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("admin:claims_claim_changelist"))
    reference = Claim.objects.values_list("reference", flat=True).get(pk=claim_id)
    response = FileResponse(
        archive,
        as_attachment=True,
        filename=f"{reference}-subject-access.zip",
        content_type="application/zip",
    )
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    add_never_cache_headers(response)
    return response


@admin.action(
    description="Erase personal data of selected drafts (never submitted)",
    permissions=["erase_personal_data"],
)
def erase_drafts(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Claim]
) -> TemplateResponse | None:
    """First a page that lists what would be erased and what would be kept, as the
    admin's own "delete selected" does; the erasing happens only from its button."""
    if request.POST.get("post") != "yes":
        claims = list(
            queryset.select_related(None)
            .order_by("pk")
            .only("pk", "reference", "stage", "created_at")
        )
        return TemplateResponse(
            request,
            "admin/claims/claim/erase_drafts_confirm.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": "Erase the personal data of these drafts?",
                "opts": modeladmin.model._meta,
                "drafts": [c for c in claims if c.stage == Stage.DRAFT],
                "kept": [c for c in claims if c.stage != Stage.DRAFT],
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
    erased, refused = 0, []
    for claim_id in queryset.values_list("pk", flat=True):
        try:
            privacy.claim_erase_draft(
                claim_id=claim_id,
                actor=Actor.staff(request.user),
                reason=f"Erased by {request.user} from the claims list.",
            )
        except ClaimError as error:
            refused.append(error.message)
        else:
            erased += 1
    if erased:
        modeladmin.message_user(request, f"Erased {erased} draft(s).", messages.SUCCESS)
    for message in refused:
        modeladmin.message_user(request, message, messages.ERROR)
    return None
