"""The caseworker workspace: the claims list and the claim page in the Django admin.

The list has the queues (one click each), filters, a search that knows what a
reference, an email and a postcode look like, and bulk assignment. The claim page
shows the submission read-only, the heads of loss with their assessment entered
inline, evidence through an authorised view, flags, offers, messages, notes and
the audit timeline, and a button for each move this user may make now.

Every change is a call to `claims.actions`, carrying the claim's version from
when the page was drawn, so a stale page is told "someone changed this" instead of
overwriting. Queries live in `claims.queries` (queues, claim_page, dashboard).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import DatabaseError, connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_variables

from claims.actions import access_audit, casework, offers, payments
from claims.core import Actor, ClaimError
from claims.domain.csv_export import csv_response
from claims.domain.money import format_money
from claims.domain.references import normalise_postcode, normalise_reference, parse_id
from claims.domain.stages import Stage
from claims.models import Claim, ClaimFlag, Evidence, HeadOfLoss, Scheme, StaffAccess
from claims.queries import caching, claim_page, dashboard, queues
from claims.staff.letters import generate_letters
from claims.staff.mixins import NoWritesMixin
from claims.staff.privacy import erase_drafts
from claims.staff.reviews import review_decide_view, review_sections

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse, HttpResponseBase

# Evidence is only ever a PDF, JPEG or PNG (checked by content on upload); anything
# else recorded is downloaded, never shown.
INLINE_TYPES = {"application/pdf", "image/jpeg", "image/png"}
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
_HAS_DIGIT = re.compile(r"\d")


# --- The claims list --------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(queues.QUEUES.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        value = self.value()
        return queues.queue(queryset, value, request.user) if value else queryset


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned caseworker"
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("none", "Unassigned"), *caseworker_choices(request)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        value = self.value()
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        user_id = parse_id(value)
        return queryset if user_id is None else queryset.filter(assigned_to_id=user_id)


class FlagFilter(admin.SimpleListFilter):
    title = "flag"
    parameter_name = "flag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("any", "Any flag"), *ClaimFlag.Kind.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        value = self.value()
        if value == "any":
            return queryset.filter(Exists(ClaimFlag.objects.filter(claim=OuterRef("pk"))))
        if value in ClaimFlag.Kind.values:
            return queryset.filter(
                Exists(ClaimFlag.objects.filter(claim=OuterRef("pk"), kind=value))
            )
        return queryset


class AgeFilter(admin.SimpleListFilter):
    title = "age since submitted"
    parameter_name = "age"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(i), label) for i, (label, _, _) in enumerate(dashboard.AGEING_BUCKETS)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        value = self.value()
        if not (value and value.isdecimal() and int(value) < len(dashboard.AGEING_BUCKETS)):
            return queryset
        _, low, high = dashboard.AGEING_BUCKETS[int(value)]
        return queryset.filter(queues.ageing_q(timezone.localdate(), low, high))


class CappedCountPaginator(Paginator):
    """Counts up to CAP rows and no further: an exact count of a million claims costs
    more than the page itself, and nobody pages that far. Past the cap the list says
    "more than 1,000" and adds the database planner's estimate, labelled as one."""

    CAP = 1_000
    ESTIMATE_SECONDS = 300

    def _ids(self) -> QuerySet[Any]:
        # Only the ids, in no order: the columns' subqueries need not run to be counted.
        return self.object_list.order_by().values("pk")  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def count(self) -> int:
        # The count of a sliced queryset: COUNT(*) over the first CAP + 1 ids.
        return self._ids()[: self.CAP + 1].count()

    @cached_property
    def num_pages(self) -> int:
        # Pages through the first CAP rows only, each of them full.
        return max(1, -(-min(self.count, self.CAP) // self.per_page))

    @property
    def capped(self) -> bool:
        return self.count > self.CAP

    @cached_property
    def estimate(self) -> int | None:
        """PostgreSQL's estimate of the rows past the cap, from EXPLAIN (no rows read);
        None when under the cap or on a database that gives none."""
        ids = self._ids()
        if not self.capped or connections[ids.db].vendor != "postgresql":
            return None
        # An estimate of a list over a thousand long need not be read on every page:
        # the same filters (the same query) reuse it for a few minutes.
        query = repr(ids.query.sql_with_params())
        key = "redress:list-estimate:" + hashlib.sha256(query.encode()).hexdigest()
        rows = caching.remembered(key, self.ESTIMATE_SECONDS, self._planner_rows)
        return rows if rows > self.CAP else None

    def _planner_rows(self) -> int:
        try:
            plan = json.loads(self._ids().explain(format="json"))
            return int(plan[0]["Plan"]["Plan Rows"])
        except (DatabaseError, ValueError, LookupError, TypeError):
            return 0

    @property
    def summary(self) -> str:
        if self.capped:
            about = (
                f" (about {self.estimate:,} by the database's estimate)" if self.estimate else ""
            )
            return f"More than {self.CAP:,} claims{about}"
        return f"{self.count:,} claim{'' if self.count == 1 else 's'}"


def caseworker_choices(request: HttpRequest) -> list[tuple[str, str]]:
    """Who may be assigned claims, for the assigned-caseworker filter and the
    bulk-assign menu: kept in the cache until someone's role changes."""
    return caching.cached(
        "redress:caseworker-choices",
        caching.ROLES,
        lambda: [(str(user.pk), str(user)) for user in queues.caseworkers()],
    )


class SchemeFilter(admin.SimpleListFilter):
    """The admin's filter for a foreign key, with the schemes kept in the cache."""

    title = "scheme"
    parameter_name = "scheme__id__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return caching.scheme_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        value = self.value()
        return queryset.filter(scheme_id=int(value)) if value and value.isdecimal() else queryset


class WorkspaceChangeList(ChangeList):
    """The admin's ChangeList, fetching for the page only what the list's columns show
    (queues.claims_list_rows). Actions re-query in full."""

    def get_results(self, request: HttpRequest) -> None:
        self.queryset = queues.claims_list_rows(self.queryset)
        super().get_results(request)


class AssignForm(ActionForm):
    # Choices are filled per request (ClaimAdmin.changelist_view); the chosen person
    # is checked against the caseworkers when the action runs.
    assignee = forms.CharField(required=False, label="Caseworker", widget=forms.Select)


# --- The claim page's changes, each through one service -------------------------------


def _run_transition(claim_id: int, name: str, actor: Actor, reason: str, version: int) -> object:
    common: dict[str, Any] = {"claim_id": claim_id, "actor": actor, "expected_version": version}
    if name == "information_request":
        return casework.claim_request_information(request=reason, **common)
    if name == "information_resume":
        return casework.claim_resume_assessment(reason=reason, **common)
    if name == "offer_propose":
        return offers.offer_propose(**common)
    if name == "offer_approve":
        return offers.offer_approve(**common)
    if name == "offer_return":
        return offers.offer_return(reason=reason, **common)
    if name == "review_revise":
        return offers.review_revise(reason=reason, **common)
    if name == "review_uphold":
        return offers.review_uphold(reason=reason, **common)
    if name in {"rejection_review_uphold", "rejection_review_reopen"}:
        decision = name.removeprefix("rejection_review_")
        return casework.rejection_review_decide(decision=decision, reason=reason, **common)
    # The rest have no rule beyond the table; anything else is refused there.
    return casework.claim_transition(transition=name, reason=reason, **common)


def _posted_version(request: HttpRequest) -> int:
    value = request.POST.get("version", "")
    if not value.isdecimal():
        raise ClaimError("The page was missing its version: reload it and try again.")
    return int(value)


class ClaimAdmin(NoWritesMixin, admin.ModelAdmin):
    """Claims come from claimants and change only through the services: nothing here
    saves a claim form. The list is the caseworker's queues; the page is the case."""

    list_display = [
        "reference",
        "claimant",
        "stage",
        "days_in_stage",
        "due",
        "assigned_to",
        "amount",
        "flag_badges",
    ]
    list_display_links = ["reference", "claimant"]
    list_filter = [QueueFilter, "stage", SchemeFilter, AssignedFilter, FlagFilter, AgeFilter]
    search_fields = ["reference", "full_name", "email", "postcode"]
    search_help_text = "A reference (with or without hyphens), a name, an email or a postcode."
    ordering = ["-id"]
    list_per_page = 50
    # A row's link opens the claim page, which has nothing to save and return from:
    # carrying the list's filters in each link would cost a URL resolve per row.
    preserve_filters = False
    # The rows' joins and columns are chosen by queues.claims_list_rows.
    list_select_related = ()
    empty_value_display = "—"
    show_full_result_count = False
    # Counts beside each filter choice would each count a million rows.
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    action_form = AssignForm
    actions = ["assign_to_me", "assign_to_chosen", "export_csv", generate_letters, erase_drafts]
    change_list_template = "admin/claims/claim/change_list.html"
    change_form_template = "admin/claims/claim/change_form.html"
    fieldsets = [
        ("Claimant", {"fields": ["full_name", "email", "phone", "address", "postcode",
                                 "representative_name", "representative_reason",
                                 "support_needs", "preferred_format", "preferred_language"]}),
        ("Eligibility", {"fields": ["scheme", "register_entry", "no_notice"]}),
        ("What happened", {"fields": ["what_happened"]}),
        ("Record", {"fields": ["reference", "stage", "stage_changed_at", "assigned_to",
                               "submitted_at", "information_due", "version", "created_at",
                               "updated_at"]}),
    ]  # fmt: skip

    # --- permissions: view only (NoWritesMixin), and only ever narrower than the roles ---

    def has_triage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("claims.triage_claim")

    def has_generate_letters_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("claims.generate_letters")

    def has_reports_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("claims.view_reports")

    def has_erase_personal_data_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("claims.erase_personal_data")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [str(name) for _, options in self.fieldsets for name in options["fields"]]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        # The register entry carries the notice code; only roles that may see the
        # register see which entry a claim matched.
        model_fields = {f.name for f in Claim._meta.get_fields()}
        hidden = set() if request.user.has_perm("claims.view_registerentry") else {"register_entry"}
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        f for f in options["fields"] if f not in hidden and f in model_fields
                    ],
                },
            )
            for name, options in self.fieldsets
        ]

    # --- the list ---

    def get_queryset(self, request: HttpRequest) -> QuerySet[Claim]:
        return queues.claims_list(super().get_queryset(request))

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return WorkspaceChangeList

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Claim], search_term: str
    ) -> tuple[QuerySet[Claim], bool]:
        """One indexed look-up for what is clearly a reference or a postcode; names and
        emails by substring."""
        term = search_term.strip()
        if not term:
            return queryset, False
        reference = normalise_reference(term)
        looks_like_reference = reference is not None and (
            _HAS_DIGIT.search(term) or term.upper().replace(" ", "").startswith("RDR")
        )
        if looks_like_reference:
            return queryset.filter(reference=reference), False
        match = Q(full_name__icontains=term) | Q(email__icontains=term)
        if reference is not None:  # eight letters: a reference or a name
            match |= Q(reference=reference)
        postcode = normalise_postcode(term)
        if _POSTCODE.match(postcode):
            match = Q(postcode=postcode)
        return queryset.filter(match), False

    @admin.display(description="Claimant", ordering="full_name")
    def claimant(self, claim: Claim) -> str:
        return claim.full_name

    @admin.display(description="Working days in stage", ordering="stage_changed_at")
    def days_in_stage(self, claim: Claim) -> int:
        return queues.working_days_in_stage(claim)

    @admin.display(description="Due by")
    def due(self, claim: Claim) -> str:
        due = queues.due_by(claim)
        if due is None:
            return "—"
        if due < timezone.localdate() and claim.stage in queues.OPEN_STAGES:
            return format_html('<strong class="redress-overdue">{} (overdue)</strong>',
                               f"{due:%-d %b %Y}")  # fmt: skip
        return f"{due:%-d %b %Y}"

    @admin.display(description="Amount claimed", ordering="amount_claimed")
    def amount(self, claim: Claim) -> str:
        return format_money(claim.amount_claimed)  # type: ignore[attr-defined]

    @admin.display(description="Flags")
    def flag_badges(self, claim: Claim) -> str:
        # all(), not order_by(): the page's flags are prefetched in kind order
        # (queues.claims_list_rows), and order_by() would query again for each row.
        return format_html_join(
            " ",
            '<span class="redress-flag" title="{}">{}</span>',
            ((flag.reason, flag.get_kind_display()) for flag in claim.flags.all()),
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        current = request.GET.get("queue", "")
        base = reverse("admin:claims_claim_changelist")
        extra = {
            "queues": [
                (key, label, f"{base}?{urlencode({'queue': key})}", key == current)
                for key, label in queues.QUEUES.items()
            ],
            "all_claims_url": base,
            "dashboard_url": reverse("admin:claims_claim_dashboard")
            if request.user.has_perm("claims.view_reports")
            else "",
        }
        response = super().changelist_view(request, {**extra, **(extra_context or {})})
        context = getattr(response, "context_data", None) or {}
        if (action_form := context.get("action_form")) is not None:
            action_form.fields["assignee"].widget.choices = [
                ("", "---------"),
                *caseworker_choices(request),
            ]
        return response

    # --- bulk actions ---

    def _assign(self, request: HttpRequest, queryset: QuerySet[Claim], assignee: Any) -> None:
        actor = Actor.staff(request.user)
        done, refused = 0, []
        for claim_id, reference in queryset.values_list("pk", "reference"):
            try:
                casework.claim_assign(claim_id=claim_id, actor=actor, assignee=assignee)
                done += 1
            except ClaimError as error:
                refused.append(f"{reference}: {error.message}")
        who = "you" if assignee == request.user else str(assignee or "nobody")
        if done:
            self.message_user(request, f"Assigned {done} claim(s) to {who}.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description="Assign to me", permissions=["triage"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        self._assign(request, queryset, request.user)

    @admin.action(description="Assign to the caseworker chosen", permissions=["triage"])
    def assign_to_chosen(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        chosen = request.POST.get("assignee", "")
        assignee = queues.caseworkers().filter(pk=chosen).first() if chosen.isdecimal() else None
        if assignee is None:
            self.message_user(request, "Choose a caseworker to assign to.", messages.ERROR)
            return
        self._assign(request, queryset, assignee)

    @admin.action(description="Export to CSV", permissions=["reports"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Claim]) -> HttpResponseBase:
        rows = (
            (
                claim.reference,
                claim.scheme.name,
                claim.get_stage_display(),
                claim.submitted_at.isoformat() if claim.submitted_at else "",
                claim.full_name,
                claim.email,
                claim.phone,
                claim.postcode,
                str(claim.assigned_to or ""),
                claim.amount_claimed,  # type: ignore[attr-defined]
                "; ".join(flag.get_kind_display() for flag in claim.flags.all()),
            )
            for claim in queryset.select_related("scheme", "assigned_to")
            .prefetch_related("flags")
            .order_by("pk")
            .iterator(chunk_size=2000)
        )
        header = ["reference", "scheme", "stage", "submitted_at", "full_name", "email", "phone",
                  "postcode", "assigned_to", "amount_claimed", "flags"]  # fmt: skip
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return csv_response(f"claims-{stamp}.csv", header, rows)

    # --- the claim page and its forms ---

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(self.dashboard_view), name="claims_claim_dashboard"),
            path(
                "<id:claim_id>/transition/",
                wrap(self.transition_view),
                name="claims_claim_transition",
            ),
            path("<id:claim_id>/assess/", wrap(self.assess_view), name="claims_claim_assess"),
            path("<id:claim_id>/note/", wrap(self.note_view), name="claims_claim_note"),
            path(
                "<id:claim_id>/assign-to-me/",
                wrap(self.assign_to_me_view),
                name="claims_claim_assign_to_me",
            ),
            path(
                "<id:claim_id>/evidence/<id:evidence_id>/",
                wrap(self.evidence_view),
                name="claims_claim_evidence",
            ),
            path(
                "<id:claim_id>/bank-details/",
                wrap(self.bank_details_view),
                name="claims_claim_bank_details",
            ),
            path(
                "<id:claim_id>/part-review/<id:review_id>/",
                wrap(self.part_review_view),
                name="claims_claim_part_review",
            ),
            path(
                "<id:claim_id>/bank-details/confirm/",
                wrap(self.bank_details_confirm_view),
                name="claims_claim_bank_details_confirm",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The claim page: the admin's change view, read-only (NoWritesMixin: a POST is
        refused there), drawn by change_form.html with the sections of
        claim_page.claim_page (render_change_form)."""
        if not object_id.isdecimal() and self.has_view_permission(request):
            # Not any claim's address, rather than a claim that is not there (the
            # admin's redirect). Who may not view claims is refused first all the same.
            raise Http404
        return super().change_view(request, object_id, form_url, extra_context)

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        claim_id = parse_id(object_id)
        if claim_id is None:
            return None
        try:
            return claim_page.claim_for_page(claim_id, request.user)
        except Claim.DoesNotExist:
            return None

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        """The admin's change form of the claim, given what else its page shows."""
        page = claim_page.claim_page(obj, request.user)
        context.update(
            claim=obj,
            page=page,
            part_reviews=review_sections(obj.pk, request.user, page.offers),
        )
        # Every look at a claim is recorded, by whom and when.
        access_audit.staff_access_record(
            claim_id=obj.pk, user=request.user, what=StaffAccess.What.CLAIM_PAGE
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _claim_for_change(self, request: HttpRequest, claim_id: int) -> Claim:
        if request.method != "POST":
            raise PermissionDenied
        claim = get_object_or_404(Claim, pk=claim_id)
        if not self.has_view_permission(request, claim):
            raise PermissionDenied
        return claim

    def _back(self, claim: Claim, anchor: str = "") -> HttpResponseRedirect:
        url = reverse("admin:claims_claim_change", args=[claim.pk])
        return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)

    def _refused(
        self, request: HttpRequest, claim: Claim, error: ClaimError, anchor: str = ""
    ) -> HttpResponseRedirect:
        if error.code == "forbidden":
            raise PermissionDenied(error.message)
        self.message_user(request, error.message, messages.ERROR)
        return self._back(claim, anchor)

    def transition_view(self, request: HttpRequest, claim_id: int) -> HttpResponse:
        claim = self._claim_for_change(request, claim_id)
        name = request.POST.get("transition", "")
        reason = request.POST.get("reason", "")
        try:
            _run_transition(
                claim.pk, name, Actor.staff(request.user), reason, _posted_version(request)
            )
        except ClaimError as error:
            return self._refused(request, claim, error, "actions")
        claim.refresh_from_db(fields=["stage"])
        self.message_user(
            request,
            f"{claim.reference} is now {claim.get_stage_display().lower()}.",
            messages.SUCCESS,
        )
        return self._back(claim)

    def assess_view(self, request: HttpRequest, claim_id: int) -> HttpResponse:
        """Save the assessment of every head of loss changed on the page, all or none.
        Each service call bumps the version by one, so each expects the next."""
        claim = self._claim_for_change(request, claim_id)
        actor = Actor.staff(request.user)
        post = request.POST
        try:
            version = _posted_version(request)
            with transaction.atomic():
                changed = 0
                for head in HeadOfLoss.objects.filter(claim=claim).order_by("id"):
                    amount = post.get(f"allowed-{head.pk}", "").strip()
                    reason = post.get(f"reason-{head.pk}", "").strip()
                    band = post.get(f"band-{head.pk}", "").strip()
                    band_id = int(band) if band.isdecimal() else None
                    if not amount:
                        continue
                    unchanged = (
                        head.amount_allowed is not None
                        and f"{head.amount_allowed:.2f}" == amount.replace(",", "").lstrip("£")
                        and head.assessment_reason == reason
                        and head.distress_band_id == band_id
                    )
                    if unchanged:
                        continue
                    try:
                        casework.head_of_loss_assess(
                            head_id=head.pk,
                            actor=actor,
                            amount_allowed=amount,
                            reason=reason,
                            distress_band_id=band_id,
                            expected_version=version + changed,
                        )
                    except ClaimError as error:
                        raise ClaimError(
                            f"{head.get_category_display()}: {error.message} Nothing was saved.",
                            code=error.code,
                        ) from None
                    changed += 1
        except ClaimError as error:
            return self._refused(request, claim, error, "heads")
        self.message_user(
            request,
            f"Saved the assessment of {changed} head(s) of loss." if changed else "No changes.",
            messages.SUCCESS if changed else messages.INFO,
        )
        return self._back(claim, "heads")

    def note_view(self, request: HttpRequest, claim_id: int) -> HttpResponse:
        claim = self._claim_for_change(request, claim_id)
        try:
            casework.note_add(
                claim_id=claim.pk,
                actor=Actor.staff(request.user),
                text=request.POST.get("text", ""),
            )
        except ClaimError as error:
            return self._refused(request, claim, error, "notes")
        self.message_user(request, "Note added.", messages.SUCCESS)
        return self._back(claim, "notes")

    def assign_to_me_view(self, request: HttpRequest, claim_id: int) -> HttpResponse:
        claim = self._claim_for_change(request, claim_id)
        try:
            casework.claim_assign(
                claim_id=claim.pk,
                actor=Actor.staff(request.user),
                assignee=request.user,
                expected_version=_posted_version(request),
            )
        except ClaimError as error:
            return self._refused(request, claim, error)
        self.message_user(request, f"{claim.reference} is assigned to you.", messages.SUCCESS)
        return self._back(claim)

    def evidence_view(
        self, request: HttpRequest, claim_id: int, evidence_id: int
    ) -> HttpResponseBase:
        """A file opened only by staff whose role may see evidence: shown in the browser
        if it is a PDF or an image, downloaded otherwise, never sniffed or scripted."""
        if not request.user.has_perm("claims.view_evidence"):
            raise PermissionDenied
        evidence = get_object_or_404(Evidence, pk=evidence_id, claim_id=claim_id)
        try:
            handle = evidence.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404("The file is missing from storage.") from None
        inline = evidence.content_type in INLINE_TYPES and request.GET.get("download") != "1"
        response = FileResponse(
            handle,
            as_attachment=not inline,
            filename=evidence.original_name or f"evidence-{evidence.pk}",
            content_type=evidence.content_type if inline else "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
            if not inline or evidence.content_type != "application/pdf"
            else "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
        ) + "; frame-ancestors 'none'"
        response["Cache-Control"] = "private, no-store"
        response["Cross-Origin-Resource-Policy"] = "same-origin"
        access_audit.staff_access_record(
            claim_id=claim_id,
            user=request.user,
            what=StaffAccess.What.EVIDENCE,
            object_id=evidence.pk,
        )
        return response

    def part_review_view(self, request: HttpRequest, claim_id: int, review_id: int) -> HttpResponse:
        """Decide the review of a disputed part (claims.staff.reviews)."""
        return review_decide_view(self, request, claim_id, review_id)

    # --- bank details ---

    @method_decorator(sensitive_variables("full"))
    def bank_details_view(self, request: HttpRequest, claim_id: int) -> HttpResponse:
        """The full bank details, for a finance officer, by POST only so that a look is
        an act the audit trail records (claims.actions.payments.bank_details_reveal)."""
        claim = self._claim_for_change(request, claim_id)
        try:
            full = payments.bank_details_reveal(claim_id=claim.pk, actor=Actor.staff(request.user))
        except ClaimError as error:
            return self._refused(request, claim, error, "bank-details")
        access_audit.staff_access_record(
            claim_id=claim.pk, user=request.user, what=StaffAccess.What.BANK_DETAILS
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Bank details for {claim.reference}",
            "opts": self.opts,
            "claim": claim,
            "full": full,
        }
        response = TemplateResponse(request, "admin/claims/claim/bank_details.html", context)
        add_never_cache_headers(response)
        return response

    def bank_details_confirm_view(self, request: HttpRequest, claim_id: int) -> HttpResponse:
        claim = self._claim_for_change(request, claim_id)
        try:
            payments.bank_details_confirm(
                claim_id=claim.pk,
                actor=Actor.staff(request.user),
                reason=request.POST.get("reason", ""),
                expected_version=_posted_version(request),
            )
        except ClaimError as error:
            return self._refused(request, claim, error, "bank-details")
        self.message_user(
            request,
            "The changed bank details are confirmed: payment can go ahead.",
            messages.SUCCESS,
        )
        return self._back(claim, "bank-details")

    # --- the scheme dashboard ---

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("claims.view_reports"):
            raise PermissionDenied
        schemes = list(Scheme.objects.order_by("name"))
        chosen = request.GET.get("scheme", "")
        scheme = next((s for s in schemes if str(s.pk) == chosen), schemes[0] if schemes else None)
        board = dashboard.dashboard(scheme) if scheme else None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Dashboard: {scheme}" if scheme else "Dashboard",
            "opts": self.opts,
            "schemes": schemes,
            "scheme": scheme,
            "board": board,
            "changelist_url": reverse("admin:claims_claim_changelist"),
            "stage_colours": STAGE_COLOURS,
        }
        return TemplateResponse(request, "admin/claims/dashboard.html", context)


STAGE_COLOURS = {
    Stage.DRAFT: "#9e9e9e",
    Stage.REJECTED: "#9e9e9e",
    Stage.WITHDRAWN: "#9e9e9e",
    Stage.CLOSED_INCOMPLETE: "#9e9e9e",
    Stage.OFFER_EXPIRED: "#9e9e9e",
    Stage.CLOSED: "#616161",
    Stage.PAID: "#2e7d32",
}


# --- The register: import and export -------------------------------------------------


class RegisterImportForm(forms.Form):
    scheme = forms.ModelChoiceField(queryset=Scheme.objects.order_by("name"))
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: notice_code (blank: one is made), full_name, email, address, "
        "postcode, external_id. The first line names them.",
    )


class RegisterTransferMixin:
    """Import the register from CSV (all or nothing, every bad row reported with its
    line) and export it as formula-safe CSV. For roles that may import it."""

    admin_site: Any
    opts: Any

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="claims_registerentry_import"),
            path("export/", wrap(self.export_view), name="claims_registerentry_export"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        from claims.actions.register import register_import

        if not request.user.has_perm("claims.import_register"):
            raise PermissionDenied
        result = None
        form = RegisterImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            scheme = form.cleaned_data["scheme"]
            result = register_import(
                scheme_id=scheme.pk,
                upload=form.cleaned_data["file"],
                actor=Actor.staff(request.user),
            )
            if result.ok:
                messages.success(
                    request, f"Imported {result.imported:,} people to the register of {scheme}."
                )
                url = reverse("admin:claims_registerentry_changelist")
                return HttpResponseRedirect(f"{url}?scheme__id__exact={scheme.pk}")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import the register",
            "opts": self.opts,
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/claims/registerentry/import.html", context)

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        from claims.models import RegisterEntry

        if not request.user.has_perm("claims.import_register"):
            raise PermissionDenied
        entries = RegisterEntry.objects.select_related("scheme").order_by("pk")
        if (scheme := request.GET.get("scheme__id__exact", "")).isdecimal():
            entries = entries.filter(scheme_id=int(scheme))
        rows = (
            (e.scheme.slug, e.notice_code, e.full_name, e.email, e.address, e.postcode,
             e.external_id, e.notice_sent_at.isoformat() if e.notice_sent_at else "")
            for e in entries.iterator(chunk_size=5000)
        )  # fmt: skip
        header = ["scheme", "notice_code", "full_name", "email", "address", "postcode",
                  "external_id", "notice_sent_at"]  # fmt: skip
        return csv_response("register.csv", header, rows)
