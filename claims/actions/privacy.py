"""Privacy: the retention schedule, subject access exports and erasure of drafts.

- Retention: a closed claim's personal data and files are erased `scheme.retention_years`
  after it closed; a draft never submitted, DRAFT_RETENTION_DAYS after it was last
  changed. Figures, stages and dates stay, so the scheme's reports still add up. Celery
  beat runs it daily (claims.tasks.retention_run); `manage.py retention --dry-run` and
  the weekly report task say what the next run would erase, changing nothing.
- Subject access: everything held about a claimant as one ZIP (data as JSON, their
  uploads, their letters, the messages), for staff with `export_personal_data`.
- Erasure: a claim that never got past draft is erased on request by staff with
  `erase_personal_data`.
Each is recorded in the claim's history, and each export in the staff access log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from claims.actions.access_audit import staff_access_record
from claims.core import Actor, ActorKind, ClaimError, check_staff, lock_claim, record_event
from claims.domain.stages import TERMINAL_STAGES, Stage
from claims.models import (
    AccessLink,
    AuditEvent,
    BankDetails,
    Claim,
    ClaimFlag,
    ClaimMatchKey,
    Evidence,
    HeadOfLoss,
    InternalNote,
    Letter,
    Message,
    Offer,
    OfferItem,
    Payment,
    RegisterEntry,
    Review,
    Scheme,
    StaffAccess,
    StatusUpdate,
)

logger = logging.getLogger(__name__)

PERSONAL_CLAIM_FIELDS = {
    "full_name": "",
    "email": "",
    "phone": "",
    "address": "",
    "postcode": "",
    "representative_name": "",
    "representative_reason": "",
    "what_happened": "",
    "support_needs": "",
    "preferred_language": "",
    "submitted_ip": None,
}


def _erase(claim: Claim, *, register_entry: bool) -> int:
    """Blank every personal field of `claim` and of the rows that hang off it, and remove
    its files (after commit: a rollback keeps them). Returns how many files go."""
    files = [(e.file.storage, e.file.name) for e in Evidence.objects.filter(claim=claim)]
    files += [
        (letter.file.storage, letter.file.name)
        for letter in Letter.objects.filter(claim=claim).exclude(file="")
    ]
    Evidence.objects.filter(claim=claim).delete()
    Letter.objects.filter(claim=claim).update(file="")
    # A new version, so that a change or submission that read the claim before cannot
    # write after it (services: the version guards).
    Claim.objects.filter(pk=claim.pk).update(
        **PERSONAL_CLAIM_FIELDS, personal_data_erased_at=timezone.now(), version=F("version") + 1
    )
    HeadOfLoss.objects.filter(claim=claim).update(description="", details={}, assessment_reason="")
    OfferItem.objects.filter(offer__claim=claim).update(reason="", dispute_reason="")
    Review.objects.filter(claim=claim).update(reason="")
    Message.objects.filter(claim=claim).update(body="")
    # The old address a bank-details change was sent to (the rest go to claim.email).
    StatusUpdate.objects.filter(claim=claim).update(recipient="")
    InternalNote.objects.filter(claim=claim).update(text="")
    AuditEvent.objects.filter(claim=claim).update(reason="", data={})
    ClaimFlag.objects.filter(claim=claim).update(reason="")
    Payment.objects.filter(claim=claim).update(account_last4="")
    ClaimMatchKey.objects.filter(claim=claim).delete()
    BankDetails.objects.filter(claim=claim).delete()
    AccessLink.objects.filter(claim=claim).delete()
    if register_entry and claim.register_entry_id:
        RegisterEntry.objects.filter(pk=claim.register_entry_id).update(
            full_name="", email="", address="", postcode="", external_id=""
        )

    def remove_files() -> None:
        for storage, name in files:
            try:
                storage.delete(name)
            except OSError:  # gone already, or storage down: logged, the row is gone
                logger.warning("could not delete a stored file of claim %s", claim.pk)

    transaction.on_commit(remove_files)
    return len(files)


@transaction.atomic
def claim_erase_draft(*, claim_id: int, actor: Actor, reason: str) -> None:
    """Erase a claim that never got past draft: at the claimant's request (staff) or
    when abandoned (the retention run)."""
    if actor.kind != ActorKind.SYSTEM:
        check_staff(actor, "claims.erase_personal_data")
    claim = lock_claim(claim_id)
    if claim.stage != Stage.DRAFT or claim.submitted_at is not None:
        raise ClaimError(
            f"{claim.reference} has been submitted, so its data is kept until the scheme's "
            "retention period ends. Only claims never submitted can be erased.",
            code="not_draft",
        )
    if claim.personal_data_erased_at is not None:
        raise ClaimError(f"{claim.reference} is already erased.", code="already_erased")
    if not reason.strip():
        raise ClaimError("Say why this claim is being erased.", code="reason_required")
    files = _erase(claim, register_entry=False)
    record_event(claim, action="draft_erased", actor=actor, reason=reason, data={"files": files})


@transaction.atomic
def claim_retention_erase(*, claim_id: int, now: dt.datetime | None = None) -> None:
    """Erase a closed claim's personal data once its scheme's retention period is over."""
    claim = lock_claim(claim_id)
    if claim.personal_data_erased_at is not None:
        return  # a second run of the same day's job
    cutoff = retention_cutoff(claim.scheme, now or timezone.now())
    if claim.stage not in TERMINAL_STAGES or claim.stage_changed_at >= cutoff:
        raise ClaimError(f"{claim.reference} is not due for erasure.", code="not_due")
    files = _erase(claim, register_entry=True)
    record_event(
        claim,
        action="retention_erased",
        actor=Actor.system(),
        reason=f"Closed more than {claim.scheme.retention_years} years ago.",
        data={"files": files},
    )


# --- The retention schedule -----------------------------------------------------------


def retention_cutoff(scheme: Scheme, now: dt.datetime) -> dt.datetime:
    """Claims that closed before this are due: `retention_years` before `now`."""
    try:
        return now.replace(year=now.year - scheme.retention_years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - scheme.retention_years, day=28)


def _closed_due(scheme: Scheme, now: dt.datetime) -> QuerySet[Claim]:
    return Claim.objects.filter(
        scheme=scheme,
        stage__in=TERMINAL_STAGES,
        stage_changed_at__lt=retention_cutoff(scheme, now),
        personal_data_erased_at__isnull=True,
    )


def _drafts_due(scheme: Scheme, now: dt.datetime) -> QuerySet[Claim]:
    return Claim.objects.filter(
        scheme=scheme,
        stage=Stage.DRAFT,
        submitted_at__isnull=True,
        updated_at__lt=now - dt.timedelta(days=settings.DRAFT_RETENTION_DAYS),
        personal_data_erased_at__isnull=True,
    )


@dataclass
class SchemeRetention:
    scheme: str
    retention_years: int
    closed_before: dt.date
    closed: list[str] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)
    files: int = 0
    file_bytes: int = 0


@dataclass
class RetentionReport:
    dry_run: bool
    schemes: list[SchemeRetention] = field(default_factory=list)
    erased: int = 0
    failed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would erase" if self.dry_run else "erased"
        out = []
        for s in self.schemes:
            out.append(
                f"{s.scheme}: {verb} {len(s.closed)} closed claim(s) (closed before "
                f"{s.closed_before:%d %b %Y}, {s.retention_years} years) and {len(s.drafts)} "
                f"draft(s) untouched for {settings.DRAFT_RETENTION_DAYS} days; {s.files} "
                f"file(s), {s.file_bytes:,} bytes"
            )
            out.extend(f"  {reference}" for reference in s.closed + s.drafts)
        if not self.dry_run:
            out.append(f"Erased {self.erased} claim(s); failed: {len(self.failed)}")
            out.extend(f"  failed: {line}" for line in self.failed)
        return out


def retention_run(*, dry_run: bool, now: dt.datetime | None = None) -> RetentionReport:
    """What is due under each scheme's schedule; erased unless `dry_run`. Each claim is
    its own transaction, so one failure stops nothing else."""
    now = now or timezone.now()
    report = RetentionReport(dry_run=dry_run)
    for scheme in Scheme.objects.order_by("name"):
        closed = _closed_due(scheme, now)
        drafts = _drafts_due(scheme, now)
        ids = list(closed.values_list("pk", flat=True)) + list(drafts.values_list("pk", flat=True))
        evidence = Evidence.objects.filter(claim_id__in=ids)
        entry = SchemeRetention(
            scheme=scheme.name,
            retention_years=scheme.retention_years,
            closed_before=retention_cutoff(scheme, now).date(),
            closed=list(closed.order_by("pk").values_list("reference", flat=True)),
            drafts=list(drafts.order_by("pk").values_list("reference", flat=True)),
            files=evidence.count()
            + Letter.objects.filter(claim_id__in=ids).exclude(file="").count(),
            file_bytes=(evidence.aggregate(total=Sum("size"))["total"] or 0)
            + (
                Letter.objects.filter(claim_id__in=ids)
                .exclude(file="")
                .aggregate(total=Sum("size"))["total"]
                or 0
            ),
        )
        report.schemes.append(entry)
        if dry_run:
            continue
        for claim_id, reference in closed.values_list("pk", "reference"):
            _run_one(
                report, reference, lambda c=claim_id: claim_retention_erase(claim_id=c, now=now)
            )
        for claim_id, reference in drafts.values_list("pk", "reference"):
            _run_one(
                report,
                reference,
                lambda c=claim_id: claim_erase_draft(
                    claim_id=c,
                    actor=Actor.system(),
                    reason=f"Abandoned: unchanged for {settings.DRAFT_RETENTION_DAYS} days.",
                ),
            )
    return report


def _run_one(report: RetentionReport, reference: str, erase: Any) -> None:
    try:
        erase()
    except ClaimError as error:
        report.failed.append(f"{reference}: {error}")
    else:
        report.erased += 1


# --- Subject access -------------------------------------------------------------------


def _rows(queryset: QuerySet[Any], *fields: str) -> list[dict[str, Any]]:
    return list(queryset.values(*fields))


def subject_access_data(claim: Claim) -> dict[str, Any]:
    """Everything held about the claimant of `claim`, as plain data."""
    claim_fields = [
        "reference", "stage", "stage_changed_at", "no_notice", "full_name", "email", "phone",
        "address", "postcode", "representative_name", "representative_reason",
        "what_happened", "support_needs", "preferred_format", "preferred_language",
        "submitted_at", "submitted_ip", "information_due", "created_at", "updated_at",
        "personal_data_erased_at",
    ]  # fmt: skip
    details = BankDetails.objects.filter(claim=claim).first()
    return {
        "about": (
            "Everything Redress holds about this claim and its claimant, for a subject "
            "access request. Bank details are shown masked; uploads and letters are in "
            "the folders beside this file."
        ),
        "scheme": {"name": claim.scheme.name, "organisation": claim.scheme.organisation},
        "claim": Claim.objects.filter(pk=claim.pk).values(*claim_fields).get(),
        "register_entry": (
            RegisterEntry.objects.filter(claims=claim)
            .values("notice_code", "full_name", "email", "address", "postcode", "notice_sent_at")
            .first()
        ),
        "heads_of_loss": _rows(
            HeadOfLoss.objects.filter(claim=claim).order_by("pk"),
            "id",
            "category",
            "incurred_on",
            "amount_claimed",
            "hours",
            "description",
            "details",
            "amount_allowed",
            "assessment_reason",
        ),
        "evidence": _rows(
            Evidence.objects.filter(claim=claim).order_by("pk"),
            "id",
            "head_of_loss_id",
            "original_name",
            "content_type",
            "size",
            "sha256",
        ),
        "offers": [
            {
                **offer,
                "items": _rows(
                    OfferItem.objects.filter(offer_id=offer["id"]).order_by("pk"),
                    "head_of_loss_id",
                    "category",
                    "amount_claimed",
                    "amount_offered",
                    "reason",
                    "response",
                    "dispute_reason",
                ),
            }
            for offer in Offer.objects.filter(claim=claim).order_by("pk").values()
        ],
        "messages": _rows(
            Message.objects.filter(claim=claim).order_by("pk"), "direction", "body", "created_at"
        ),
        "history": _rows(
            AuditEvent.objects.filter(claim=claim).order_by("created_at", "pk"),
            "action",
            "actor_kind",
            "from_stage",
            "to_stage",
            "reason",
            "created_at",
        ),
        "status_updates": _rows(
            claim.status_updates.order_by("pk"), "kind", "stage", "state", "created_at", "sent_at"
        ),
        "bank_details": (
            {
                "account_name": details.account_name,
                "account_number": details.masked_account_number,
                "given_at": details.created_at,
            }
            if details
            else None
        ),
        "payments": _rows(
            Payment.objects.filter(claim=claim).order_by("pk"),
            "amount",
            "state",
            "account_last4",
            "created_at",
            "decided_at",
        ),
        "letters": _rows(
            Letter.objects.filter(claim=claim).order_by("pk"), "kind", "version", "created_at"
        ),
    }


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:100] or "file"


@transaction.atomic
def subject_access_export(*, claim_id: int, actor: Actor) -> IO[bytes]:
    """A ZIP of everything held about a claimant, in a temporary file (uploads can add
    up to 200 MB). Recorded in the claim's history and the staff access log."""
    check_staff(actor, "claims.export_personal_data")
    claim = Claim.objects.select_related("scheme").filter(pk=claim_id).first()
    if claim is None:
        raise ClaimError("There is no such claim.", code="not_found")
    output = tempfile.SpooledTemporaryFile(max_size=20 * 1024 * 1024)  # noqa: SIM115
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        data = subject_access_data(claim)
        archive.writestr("data.json", json.dumps(data, indent=2, default=str, ensure_ascii=False))
        for evidence in Evidence.objects.filter(claim=claim).order_by("pk"):
            with evidence.file.open("rb") as handle:
                archive.writestr(
                    f"uploads/{evidence.pk}-{_safe_name(evidence.original_name)}", handle.read()
                )
        for letter in Letter.objects.filter(claim=claim).exclude(file="").order_by("pk"):
            with letter.file.open("rb") as handle:
                archive.writestr(f"letters/{_safe_name(letter.download_name)}", handle.read())
    output.seek(0)
    record_event(claim, action="subject_access_exported", actor=actor)
    assert actor.user is not None
    staff_access_record(claim_id=claim.pk, user=actor.user, what=StaffAccess.What.SUBJECT_ACCESS)
    return output
