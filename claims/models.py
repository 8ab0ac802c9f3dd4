"""Redress data, choices and the claim stage machine.

The transition table (`TRANSITIONS`) is plain data: which stages a move may
start from, where it ends, which permission it needs and whether it needs a
reason. It is testable without a database. `claims.actions` is the only code
that applies it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone

from claims.domain.money import format_money

if TYPE_CHECKING:
    from collections.abc import Iterable

# --- References -------------------------------------------------------------

# Crockford's base-32: digits and capitals without I, L, O, U, so a reference read
# aloud or copied from paper cannot be mistaken for another.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PATTERN = re.compile(r"^RDR-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
_CROCKFORD_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Spaces and every kind of dash: codes are often copied from PDFs with en dashes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")
_NOTICE_CODE_BODY = re.compile(r"[0-9A-HJKMNP-TV-Z]{12}")
_WHITESPACE = re.compile(r"\s+")


def generate_reference() -> str:
    body = "".join(secrets.choice(CROCKFORD) for _ in range(8))
    return f"RDR-{body[:4]}-{body[4:]}"


def normalise_reference(text: str) -> str | None:
    """The canonical `RDR-XXXX-XXXX` for what a person typed, or None if it cannot be one.

    Accepts lower case, spaces, missing hyphens and the letters O, I and L typed
    for 0 and 1, as Crockford's alphabet intends.
    """
    cleaned = _SEPARATORS.sub("", text or "").upper()
    # Only an 11-character input carries the prefix: a body may itself start "RDR".
    if len(cleaned) == 11 and cleaned.startswith("RDR"):
        cleaned = cleaned[3:]
    cleaned = cleaned.translate(_CROCKFORD_CONFUSABLES)
    if len(cleaned) != 8 or any(char not in CROCKFORD for char in cleaned):
        return None
    return f"RDR-{cleaned[:4]}-{cleaned[4:]}"


def generate_notice_code() -> str:
    body = "".join(secrets.choice(CROCKFORD) for _ in range(12))
    return f"{body[:4]}-{body[4:8]}-{body[8:]}"


def normalise_notice_code(text: str) -> str | None:
    cleaned = _SEPARATORS.sub("", text or "").upper().translate(_CROCKFORD_CONFUSABLES)
    if not _NOTICE_CODE_BODY.fullmatch(cleaned):
        return None
    return f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}"


def generate_verification_code() -> str:
    """Short code printed in each email and on the claim page, so a claimant can tell
    a real message from a phishing one."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(6))


def normalise_postcode(text: str) -> str:
    compact = _WHITESPACE.sub("", text or "").upper()
    if len(compact) > 3:
        return f"{compact[:-3]} {compact[-3:]}"
    return compact


# --- Stages and the transition table ----------------------------------------


class Stage(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    TRIAGE = "triage", "Triage"
    REJECTED = "rejected", "Rejected"
    ASSESSMENT = "assessment", "Assessment"
    INFORMATION_REQUESTED = "information_requested", "Information requested"
    CLOSED_INCOMPLETE = "closed_incomplete", "Closed incomplete"
    OFFER_PENDING_APPROVAL = "offer_pending_approval", "Offer pending approval"
    OFFER_MADE = "offer_made", "Offer made"
    ACCEPTED = "accepted", "Accepted"
    PAYMENT_PENDING = "payment_pending", "Payment pending"
    PAID = "paid", "Paid"
    CLOSED = "closed", "Closed"
    DECLINED = "declined", "Declined"
    REVIEW = "review", "Review"
    # The claimant asked us to look again at a rejection (see rejection_review_request).
    REJECTION_REVIEW = "rejection_review", "Rejection under review"
    OFFER_EXPIRED = "offer_expired", "Offer expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


TERMINAL_STAGES = frozenset(
    {
        Stage.REJECTED,
        Stage.CLOSED_INCOMPLETE,
        Stage.CLOSED,
        Stage.OFFER_EXPIRED,
        Stage.WITHDRAWN,
    }
)


class ActorKind(models.TextChoices):
    STAFF = "staff", "Staff"
    CLAIMANT = "claimant", "Claimant"
    SYSTEM = "system", "System"


@dataclass(frozen=True)
class Transition:
    """One legal move of a claim between stages."""

    name: str
    sources: frozenset[Stage]
    target: Stage
    # Who may make it: staff need `permission` ("claims.<codename>"); claimant and
    # system moves are made by the claim's own claimant or by Redress itself.
    actors: frozenset[ActorKind]
    permission: str | None = None
    reason_required: bool = False
    # The status update the claimant is sent; every move tells the claimant.
    update: str = ""


def _t(
    name: str,
    sources: Iterable[Stage],
    target: Stage,
    *actors: ActorKind,
    permission: str | None = None,
    reason_required: bool = False,
    update: str,
) -> Transition:
    return Transition(
        name=name,
        sources=frozenset(sources),
        target=target,
        actors=frozenset(actors),
        permission=permission,
        reason_required=reason_required,
        update=update,
    )


S, A = Stage, ActorKind
WITHDRAWABLE = frozenset(
    {
        S.DRAFT,
        S.SUBMITTED,
        S.TRIAGE,
        S.ASSESSMENT,
        S.INFORMATION_REQUESTED,
        S.OFFER_PENDING_APPROVAL,
        S.OFFER_MADE,
        S.DECLINED,
        S.REVIEW,
        S.REJECTION_REVIEW,
        S.ACCEPTED,
    }
)

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t("submit", [S.DRAFT], S.SUBMITTED, A.CLAIMANT, update="acknowledgement"),
        _t(
            "triage_start",
            [S.SUBMITTED],
            S.TRIAGE,
            A.STAFF,
            permission="claims.triage_claim",
            update="in_triage",
        ),
        _t(
            "triage_accept",
            [S.TRIAGE],
            S.ASSESSMENT,
            A.STAFF,
            permission="claims.triage_claim",
            update="in_assessment",
        ),
        _t(
            "triage_reject",
            [S.TRIAGE],
            S.REJECTED,
            A.STAFF,
            permission="claims.triage_claim",
            reason_required=True,
            update="rejected",
        ),
        _t(
            "information_request",
            [S.ASSESSMENT],
            S.INFORMATION_REQUESTED,
            A.STAFF,
            permission="claims.assess_claim",
            reason_required=True,
            update="information_requested",
        ),
        _t(
            "information_provide",
            [S.INFORMATION_REQUESTED],
            S.ASSESSMENT,
            A.CLAIMANT,
            update="information_received",
        ),
        _t(
            "information_resume",
            [S.INFORMATION_REQUESTED],
            S.ASSESSMENT,
            A.STAFF,
            permission="claims.assess_claim",
            reason_required=True,
            update="information_received",
        ),
        _t(
            "close_incomplete",
            [S.INFORMATION_REQUESTED],
            S.CLOSED_INCOMPLETE,
            A.SYSTEM,
            update="closed_incomplete",
        ),
        _t(
            "offer_propose",
            [S.ASSESSMENT],
            S.OFFER_PENDING_APPROVAL,
            A.STAFF,
            permission="claims.propose_offer",
            update="offer_being_checked",
        ),
        _t(
            "offer_make",
            [S.ASSESSMENT],
            S.OFFER_MADE,
            A.STAFF,
            permission="claims.propose_offer",
            update="offer_made",
        ),
        _t(
            "offer_approve",
            [S.OFFER_PENDING_APPROVAL],
            S.OFFER_MADE,
            A.STAFF,
            permission="claims.approve_offer",
            update="offer_made",
        ),
        _t(
            "offer_return",
            [S.OFFER_PENDING_APPROVAL],
            S.ASSESSMENT,
            A.STAFF,
            permission="claims.approve_offer",
            reason_required=True,
            update="in_assessment",
        ),
        _t("offer_accept", [S.OFFER_MADE], S.ACCEPTED, A.CLAIMANT, update="accepted"),
        # Some items accepted, the rest disputed: see "Partial acceptance" below.
        _t(
            "offer_accept_part",
            [S.OFFER_MADE],
            S.ACCEPTED,
            A.CLAIMANT,
            update="accepted_in_part",
        ),
        _t("revised_offer_accept", [S.PAID], S.ACCEPTED, A.CLAIMANT, update="accepted"),
        _t(
            "offer_decline",
            [S.OFFER_MADE],
            S.DECLINED,
            A.CLAIMANT,
            reason_required=True,
            update="declined",
        ),
        _t("offer_expire", [S.OFFER_MADE], S.OFFER_EXPIRED, A.SYSTEM, update="offer_expired"),
        _t(
            "review_start",
            [S.DECLINED],
            S.REVIEW,
            A.STAFF,
            A.SYSTEM,
            permission="claims.decide_review",
            update="in_review",
        ),
        _t(
            "review_revise",
            [S.REVIEW],
            S.OFFER_MADE,
            A.STAFF,
            permission="claims.decide_review",
            reason_required=True,
            update="review_outcome",
        ),
        # A revised offer above the scheme's threshold waits for a senior caseworker who
        # neither assessed nor proposed it (offer_approve), as a first offer does.
        _t(
            "review_propose",
            [S.REVIEW],
            S.OFFER_PENDING_APPROVAL,
            A.STAFF,
            permission="claims.decide_review",
            reason_required=True,
            update="offer_being_checked",
        ),
        # A revised offer approved is the review's outcome (its letter and email say so).
        _t(
            "review_approve",
            [S.OFFER_PENDING_APPROVAL],
            S.OFFER_MADE,
            A.STAFF,
            permission="claims.approve_offer",
            update="review_outcome",
        ),
        # A revised offer sent back by its approver goes back to the review, not to
        # a fresh assessment.
        _t(
            "review_return",
            [S.OFFER_PENDING_APPROVAL],
            S.REVIEW,
            A.STAFF,
            permission="claims.approve_offer",
            reason_required=True,
            update="in_review",
        ),
        _t(
            "review_uphold",
            [S.REVIEW],
            S.CLOSED,
            A.STAFF,
            permission="claims.decide_review",
            reason_required=True,
            update="review_outcome",
        ),
        # A rejected claimant may ask us to look again within REJECTION_REVIEW_WORKING_DAYS
        # of the rejection (the decision letter says so); a senior caseworker who did
        # not reject the claim decides.
        _t(
            "rejection_review_request",
            [S.REJECTED],
            S.REJECTION_REVIEW,
            A.CLAIMANT,
            reason_required=True,
            update="rejection_review_requested",
        ),
        _t(
            "rejection_review_uphold",
            [S.REJECTION_REVIEW],
            S.CLOSED,
            A.STAFF,
            permission="claims.decide_review",
            reason_required=True,
            update="review_outcome",
        ),
        _t(
            "rejection_review_reopen",
            [S.REJECTION_REVIEW],
            S.TRIAGE,
            A.STAFF,
            permission="claims.decide_review",
            reason_required=True,
            update="rejection_reopened",
        ),
        _t(
            "payment_queue",
            [S.ACCEPTED],
            S.PAYMENT_PENDING,
            A.STAFF,
            permission="claims.manage_payments",
            update="payment_pending",
        ),
        _t(
            "payment_fail",
            [S.PAYMENT_PENDING],
            S.ACCEPTED,
            A.STAFF,
            permission="claims.manage_payments",
            reason_required=True,
            update="payment_failed",
        ),
        _t(
            "payment_confirm",
            [S.PAYMENT_PENDING],
            S.PAID,
            A.STAFF,
            permission="claims.manage_payments",
            update="paid",
        ),
        _t(
            "close",
            [S.PAID],
            S.CLOSED,
            A.STAFF,
            A.SYSTEM,
            permission="claims.manage_payments",
            update="closed",
        ),
        _t(
            "withdraw",
            WITHDRAWABLE,
            S.WITHDRAWN,
            A.CLAIMANT,
            reason_required=False,
            update="withdrawn",
        ),
    ]
}
del S, A


# How long a rejected claimant has to ask us to look again, in working days from the
# rejection: the decision letter prints the date, rejection_review_request keeps it.
REJECTION_REVIEW_WORKING_DAYS = 20


def transitions_from(stage: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if stage in t.sources]


# --- Schemes and the register -----------------------------------------------

LETTER_LOGO_MAX_BYTES = 2 * 1024 * 1024


def letter_logo_upload_to(instance: Scheme, filename: str) -> str:
    return f"letterheads/{uuid.uuid4().hex}"


def validate_letter_logo(upload: object) -> None:
    """A letterhead logo is a PNG or JPEG by its content, and decodes completely."""
    from django.core.exceptions import ValidationError
    from PIL import Image, UnidentifiedImageError

    size = getattr(upload, "size", 0) or 0
    if size > LETTER_LOGO_MAX_BYTES:
        raise ValidationError("The logo must be at most 2 MB.")
    try:
        upload.seek(0)  # type: ignore[attr-defined]
        with Image.open(upload) as image:  # type: ignore[arg-type]
            kind = image.format
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError("The logo must be a PNG or JPEG image.") from None
    finally:
        upload.seek(0)  # type: ignore[attr-defined]
    if kind not in {"PNG", "JPEG"}:
        raise ValidationError("The logo must be a PNG or JPEG image.")


class Scheme(models.Model):
    """One compensation programme for one incident."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    organisation = models.CharField(max_length=200, help_text="Who lost the data.")
    incident_summary = models.TextField(help_text="What happened, in plain English.")
    breach_start = models.DateField()
    breach_end = models.DateField()
    notice_date = models.DateField(help_text="When affected people were told.")
    claims_open = models.DateField()
    claims_close = models.DateField()
    lost_time_hourly_rate = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    lost_time_hours_cap = models.DecimalField(
        max_digits=6, decimal_places=2, help_text="Hours allowed without evidence."
    )
    lost_time_hours_cap_with_evidence = models.DecimalField(max_digits=6, decimal_places=2)
    offer_approval_threshold = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="Offers above this need a senior caseworker who did not assess the claim.",
    )
    cure_window_working_days = models.PositiveSmallIntegerField(default=20)
    first_reminder_working_days = models.PositiveSmallIntegerField(default=10)
    second_reminder_working_days = models.PositiveSmallIntegerField(default=17)
    accept_by_working_days = models.PositiveSmallIntegerField(default=20)
    # Privacy (claims.actions.privacy): personal data and files of a closed claim are erased
    # this many years after it closed; figures, stages and dates are kept.
    retention_years = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1)],
        help_text="Years after a claim closes before its personal data and files are erased.",
    )
    fund_amount = models.DecimalField(max_digits=14, decimal_places=2)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_email = models.EmailField(blank=True)
    # Letters (claims.delivery.letters): the letterhead's logo and the address the scheme
    # writes from.
    letter_logo = models.FileField(
        upload_to=letter_logo_upload_to,
        max_length=200,
        blank=True,
        validators=[validate_letter_logo],
        help_text="PNG or JPEG, at most 2 MB, printed at the top of every letter.",
    )
    letter_return_address = models.TextField(
        blank=True, help_text="Printed on letters above the claimant's address, one line each."
    )
    # Pro-rata mode (claims.queries.prorata): capped categories share a fixed pool.
    pro_rata = models.BooleanField(
        default=False,
        help_text="Share a fixed pool between every claim's capped categories when the "
        "amounts allowed in them add up to more than the pool.",
    )
    pro_rata_categories = models.JSONField(
        default=list, blank=True, help_text="The heads of loss whose awards share the pool."
    )
    pro_rata_pool = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The part of the fund the capped categories may cost in all.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("configure_scheme", "Configure schemes"),
            ("import_register", "Import the register"),
            ("send_notices", "Send notices"),
            ("view_reports", "See reports"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(breach_end__gte=models.F("breach_start")),
                name="scheme_breach_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(claims_close__gt=models.F("claims_open")),
                name="scheme_claim_window_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open_on(self, day: dt.date) -> bool:
        return self.claims_open <= day <= self.claims_close


class DistressBand(models.Model):
    """An award band for distress, e.g. moderate £250–£750."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="distress_bands")
    name = models.CharField(max_length=40)
    description = models.CharField(max_length=300, blank=True)
    lower = models.DecimalField(max_digits=10, decimal_places=2)
    upper = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Empty: no upper limit."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scheme", "position"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "name"], name="distress_band_unique_name"),
        ]

    def __str__(self) -> str:
        upper = format_money(self.upper) if self.upper is not None else "and above"
        return f"{self.name}: {format_money(self.lower)} – {upper}"


class RegisterEntry(models.Model):
    """A person the organisation knows was affected, with the code sent in their notice."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="register")
    notice_code = models.CharField(max_length=14)
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10)
    external_id = models.CharField(
        max_length=64, blank=True, help_text="The organisation's own customer id, if any."
    )
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    # The last notice that could not be sent (a malformed or refused address): the
    # campaign that failed does not try again, a later campaign does.
    notice_failed_at = models.DateTimeField(null=True, blank=True)
    notice_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "register entries"
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "notice_code"], name="register_unique_notice_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.notice_code})"


# --- Claims -----------------------------------------------------------------


class Claim(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="claims")
    reference = models.CharField(max_length=13, unique=True, default=generate_reference)
    stage = models.CharField(
        max_length=32, choices=Stage.choices, default=Stage.DRAFT, db_index=True
    )
    stage_changed_at = models.DateTimeField(default=timezone.now)
    # Bumped by every service write so a stale form can say "someone changed this".
    version = models.PositiveIntegerField(default=1)

    register_entry = models.ForeignKey(
        RegisterEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims"
    )
    no_notice = models.BooleanField(
        default=False, help_text="The claimant said they did not get a notice: check eligibility."
    )

    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    representative_name = models.CharField(max_length=200, blank=True)
    representative_reason = models.TextField(blank=True)
    what_happened = models.TextField(blank=True)
    support_needs = models.TextField(blank=True)

    class Format(models.TextChoices):
        STANDARD = "standard", "Standard email and letters"
        LARGE_PRINT = "large_print", "Large print"
        BRAILLE = "braille", "Braille"
        EASY_READ = "easy_read", "Easy read"
        OTHER_LANGUAGE = "other_language", "Another language"

    preferred_format = models.CharField(
        max_length=16, choices=Format.choices, default=Format.STANDARD
    )
    preferred_language = models.CharField(max_length=60, blank=True)
    # The claim form's pages the claimant has answered, so save-and-return knows
    # where they left off.
    answered_pages = models.JSONField(default=list, blank=True)

    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_claims",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Where the claim was submitted from: many claims from one address is a fraud flag.
    submitted_ip = models.GenericIPAddressField(null=True, blank=True)
    # Set when claims.actions.privacy erased its personal data (retention, or a draft erased):
    # what stays is figures, stages and dates.
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)
    # When claims.actions.flags last looked at this claim: flags are found just after the
    # submission commits, by a task and a sweep that picks up any claim still unchecked.
    flags_checked_at = models.DateTimeField(null=True, blank=True)
    information_due = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("triage_claim", "Triage claims"),
            ("assess_claim", "Assess claims and request information"),
            ("propose_offer", "Propose offers"),
            ("approve_offer", "Approve offers (four eyes)"),
            ("decide_review", "Decide reviews"),
            ("add_note", "Add internal notes"),
            ("view_payment_details", "See payment details"),
            ("manage_payments", "Build payment batches and mark paid or failed"),
            ("export_personal_data", "Export a claimant's data (subject access)"),
            ("erase_personal_data", "Erase the personal data of claims never submitted"),
        ]
        indexes = [
            models.Index(fields=["scheme", "stage"], name="claim_scheme_stage"),
            models.Index(fields=["assigned_to", "stage"], name="claim_assigned_stage"),
            # The caseworker workspace at scale: overdue queues, address flags, search.
            models.Index(fields=["stage", "stage_changed_at"], name="claim_stage_age"),
            models.Index(fields=["submitted_ip", "submitted_at"], name="claim_submitted_ip"),
            models.Index(fields=["scheme", "submitted_at"], name="claim_scheme_submitted"),
            models.Index(fields=["postcode"], name="claim_postcode"),
            models.Index(Upper("email"), name="claim_email_upper"),
            # The flag sweep's look-up: only claims submitted and not yet checked.
            models.Index(
                fields=["submitted_at"],
                condition=Q(submitted_at__isnull=False, flags_checked_at__isnull=True),
                name="claim_flags_unchecked",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="claim_stage_valid"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_admin_url(self) -> str:
        return reverse("admin:claims_claim_change", args=[self.pk])

    @property
    def is_terminal(self) -> bool:
        return self.stage in TERMINAL_STAGES

    def total_claimed(self) -> Decimal:
        return sum((h.amount_claimed for h in self.heads_of_loss.all()), Decimal("0.00"))


class HeadOfLoss(models.Model):
    class Category(models.TextChoices):
        UNAUTHORISED_TRANSACTIONS = "unauthorised_transactions", "Unauthorised transactions"
        BANK_CHARGES = "bank_charges", "Bank charges"
        CARD_REPLACEMENT = "card_replacement", "Card replacement or cancellation costs"
        CREDIT_MONITORING = "credit_monitoring", "Credit monitoring"
        TIME_SPENT = "time_spent", "Time spent"
        OTHER_COSTS = "other_costs", "Other out-of-pocket costs"
        DISTRESS = "distress", "Distress"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="heads_of_loss")
    category = models.CharField(max_length=32, choices=Category.choices)
    description = models.TextField(blank=True)
    incurred_on = models.DateField(null=True, blank=True)
    hours = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="Time spent only."
    )
    amount_claimed = models.DecimalField(max_digits=12, decimal_places=2)
    # Category-specific answers, e.g. the plain choices describing distress.
    details = models.JSONField(default=dict, blank=True)
    distress_band = models.ForeignKey(
        DistressBand, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_allowed = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    assessment_reason = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "heads of loss"
        ordering = ["claim", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_claimed__gte=0), name="head_amount_claimed_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount_allowed__isnull=True) | Q(amount_allowed__gte=0),
                name="head_amount_allowed_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {format_money(self.amount_claimed)}"


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # Never the claimant's filename: a generated name under a per-claim folder.
    return f"evidence/{instance.claim_id}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="evidence")
    head_of_loss = models.ForeignKey(
        HeadOfLoss, null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence"
    )
    # Files sent with an answer to an information request.
    message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence"
    )
    file = models.FileField(upload_to=evidence_upload_to, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "evidence"
        ordering = ["claim", "uploaded_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.size} bytes)"

    @staticmethod
    def checksum(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


class Offer(models.Model):
    """What the scheme proposes, itemised, with an accept-by date. Versioned: a review
    that revises an offer makes a new one and keeps the old."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="offers")
    version = models.PositiveSmallIntegerField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    accept_by = models.DateField(null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    made_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["claim", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "version"], name="offer_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.claim.reference} offer v{self.version}: {format_money(self.total)}"


class ItemResponse(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    DISPUTED = "disputed", "Disputed"


class OfferItem(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="items")
    head_of_loss = models.ForeignKey(HeadOfLoss, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=32, choices=HeadOfLoss.Category.choices)
    amount_claimed = models.DecimalField(max_digits=12, decimal_places=2)
    amount_offered = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.TextField(blank=True)
    # Kept with the item so four eyes still holds after a head is re-assessed.
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The distress band the amount was set in: the head's as assessed, or the one a
    # reviewer chose for a revised offer (claims.actions.reviews), which leaves the head alone.
    distress_band = models.ForeignKey(
        DistressBand, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The claimant's answer, item by item (claims.queries.partial): blank until they answer.
    response = models.CharField(max_length=10, choices=ItemResponse.choices, blank=True)
    dispute_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["offer", "id"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {format_money(self.amount_offered)}"


# --- Partial acceptance and reviews of the disputed part ----------------------------
#
# A claimant may accept some items (heads of loss) of an offer and dispute the others.
# The claim's stage follows the money: `offer_accept_part` moves it OFFER_MADE ->
# ACCEPTED, so the accepted part goes to payment exactly as a full acceptance does. The
# disputed part is not a stage of the claim but a `Review` beside it, with its own small
# table (`REVIEW_MOVES`, pure data like `TRANSITIONS`): a senior caseworker who did not
# assess the offer either upholds it (OPEN -> UPHELD) or makes a revised offer for the
# disputed items only (OPEN -> REVISED), a new `Offer` version. The claimant accepts that
# (REVISED -> ACCEPTED) once the first part is paid: the claim then moves PAID ->
# ACCEPTED (`revised_offer_accept`) and the extra amount is paid as a payment of its own.
# So a claim is only ever in one payment at a time, each accepted offer is paid once,
# and what is paid is the sum of the accepted items of the accepted offer
# (`claims.queries.partial.accepted_amount`). Accepting every item is `offer_accept`; disputing
# every item is `offer_decline`, whose review is the claim's REVIEW stage as before.


class ReviewState(models.TextChoices):
    OPEN = "open", "Waiting for a senior caseworker"
    UPHELD = "upheld", "Decision upheld"
    # Above the scheme's threshold, a revised offer waits for a second senior caseworker.
    PENDING_APPROVAL = "pending_approval", "Revised offer waiting for approval"
    REVISED = "revised", "Revised offer made"
    ACCEPTED = "accepted", "Revised offer accepted"
    # The claimant declined the revised offer: a new review of it is opened.
    DECLINED = "declined", "Revised offer declined"


@dataclass(frozen=True)
class ReviewMove:
    """One legal move of a review of a disputed part, as `Transition` is for claims."""

    name: str
    sources: frozenset[ReviewState]
    target: ReviewState
    actor: ActorKind
    permission: str | None
    reason_required: bool
    update: str


REVIEW_MOVES: dict[str, ReviewMove] = {
    move.name: move
    for move in [
        ReviewMove(
            "part_review_uphold",
            frozenset({ReviewState.OPEN}),
            ReviewState.UPHELD,
            ActorKind.STAFF,
            "claims.decide_review",
            True,
            "review_outcome",
        ),
        ReviewMove(
            "part_review_revise",
            frozenset({ReviewState.OPEN}),
            ReviewState.REVISED,
            ActorKind.STAFF,
            "claims.decide_review",
            True,
            "review_outcome",
        ),
        # Above the threshold the reviewer proposes, and another senior approves.
        ReviewMove(
            "part_review_propose",
            frozenset({ReviewState.OPEN}),
            ReviewState.PENDING_APPROVAL,
            ActorKind.STAFF,
            "claims.decide_review",
            True,
            "offer_being_checked",
        ),
        ReviewMove(
            "part_review_approve",
            frozenset({ReviewState.PENDING_APPROVAL}),
            ReviewState.REVISED,
            ActorKind.STAFF,
            "claims.approve_offer",
            False,
            "review_outcome",
        ),
        # Sent back to the review; the claimant has not been told of it, so is not now.
        ReviewMove(
            "part_review_return",
            frozenset({ReviewState.PENDING_APPROVAL}),
            ReviewState.OPEN,
            ActorKind.STAFF,
            "claims.approve_offer",
            True,
            "",
        ),
        ReviewMove(
            "revised_offer_decline",
            frozenset({ReviewState.REVISED}),
            ReviewState.DECLINED,
            ActorKind.CLAIMANT,
            None,
            True,
            "declined",
        ),
        ReviewMove(
            "revised_offer_accept",
            frozenset({ReviewState.REVISED}),
            ReviewState.ACCEPTED,
            ActorKind.CLAIMANT,
            None,
            False,
            "accepted",
        ),
    ]
}


class Review(models.Model):
    """The review of the items a claimant disputed while accepting the rest of an offer."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="part_reviews")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="part_reviews")
    state = models.CharField(max_length=20, choices=ReviewState.choices, default=ReviewState.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="The reviewer's reasons, sent to the claimant.")
    revised_offer = models.OneToOneField(
        Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="revises"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One review per offer: answering an offer twice cannot open two.
            models.UniqueConstraint(fields=["offer"], name="review_one_per_offer"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.claim.reference} offer v{self.offer.version} ({self.state})"

    def disputed_items(self) -> models.QuerySet[OfferItem]:
        return self.offer.items.filter(response=ItemResponse.DISPUTED)


# --- The record: audit, notes, status updates --------------------------------


class AuditEvent(models.Model):
    """Who did what to a claim, when, from which stage to which, and why. Append-only."""

    # PROTECT: a claim's history outlives any attempt to delete the claim; erasure and
    # retention services remove or anonymise it deliberately.
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=48)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_stage = models.CharField(max_length=32, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=32, choices=Stage.choices, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["claim", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.action} {self.from_stage}→{self.to_stage}"

    @property
    def actor_label(self) -> str:
        if self.actor_kind == ActorKind.STAFF and self.actor_id:
            return str(self.actor)
        return self.get_actor_kind_display()


class BankDetails(models.Model):
    """Where a claimant wants to be paid. Sort code and account number are encrypted
    at rest (claims.domain.crypto) and only their last digits are kept readable."""

    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="bank_details")
    account_name = models.CharField(max_length=140)
    sort_code_encrypted = models.BinaryField()
    account_number_encrypted = models.BinaryField()
    account_number_last4 = models.CharField(max_length=4)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # The address the claimant had when they first gave these details: a change is
    # told there too, in case the claim's address was changed by someone else.
    email_when_given = models.EmailField(blank=True)
    # Changed details are the classic payment-diversion fraud: no payment is made to
    # them until a caseworker has confirmed the change with the claimant.
    on_hold = models.BooleanField(default=False)
    changed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "bank details"

    def __str__(self) -> str:
        return f"Account ••••{self.account_number_last4}"

    @property
    def masked_account_number(self) -> str:
        return f"••••{self.account_number_last4}"


class Message(models.Model):
    """A message between the scheme and the claimant: an information request, the
    claimant's answer, or a caseworker's note to them. Both sides see it."""

    class Direction(models.TextChoices):
        TO_CLAIMANT = "to_claimant", "To the claimant"
        FROM_CLAIMANT = "from_claimant", "From the claimant"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event = models.ForeignKey(
        AuditEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on {self.claim_id}"


class AccessLink(models.Model):
    """A single-use link emailed to a claimant, opening their claim for one session.

    Only a hash of the token is stored: a copy of the database opens no claim.
    """

    class Purpose(models.TextChoices):
        FOLLOW = "follow", "Follow a claim"
        RESUME = "resume", "Return to a draft"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="access_links")
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["claim", "-created_at"]
        indexes = [models.Index(fields=["claim", "purpose"], name="access_link_claim_purpose")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for {self.claim_id}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class InternalNote(models.Model):
    """A note between staff. Never shown to the claimant."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "created_at"]

    def __str__(self) -> str:
        return f"Note on {self.claim_id} by {self.author}"


class ClaimFlag(models.Model):
    """Something about a claim a caseworker should look at twice, found when it was
    submitted (claims.actions.flags). A flag says why; it decides nothing by itself."""

    class Kind(models.TextChoices):
        NOT_ON_REGISTER = "not_on_register", "Not on the register"
        SAME_BANK_ACCOUNT = "same_bank_account", "Same bank account"
        SAME_EMAIL = "same_email", "Same email"
        SAME_PHONE = "same_phone", "Same phone"
        SAME_ADDRESS = "same_address", "Same address"
        MANY_FROM_NETWORK = "many_from_network", "Many from one network address"
        HIGH_AMOUNT = "high_amount", "Amount far above typical"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    reason = models.CharField(max_length=300)
    related_claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "kind", "id"]
        indexes = [models.Index(fields=["kind", "claim"], name="claim_flag_kind")]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "kind", "related_claim"], name="claim_flag_unique_pair"
            ),
            models.UniqueConstraint(
                fields=["claim", "kind"],
                condition=Q(related_claim__isnull=True),
                name="claim_flag_unique_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reason}"


class ClaimMatchKey(models.Model):
    """A submitted claim's contact and payment details, normalised and hashed, so claims
    that share one are found by an index rather than by reading every claim. Bank
    accounts are only ever stored here as a keyed hash."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        ADDRESS = "address", "Address"
        BANK_ACCOUNT = "bank_account", "Bank account"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="match_keys")
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    digest = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["scheme", "kind", "digest"], name="claim_match_key")]
        constraints = [
            models.UniqueConstraint(fields=["claim", "kind"], name="claim_match_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} key of {self.claim_id}"


class StatusUpdate(models.Model):
    """The outbox: one row per message to the claimant, written in the same transaction
    as the change it reports and delivered afterwards by Celery. A row is the
    promise; delivery can be retried until it is kept."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="status_updates")
    event = models.ForeignKey(
        AuditEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="status_updates"
    )
    kind = models.CharField(max_length=48)
    stage = models.CharField(max_length=32, choices=Stage.choices)
    verification_code = models.CharField(max_length=6, default=generate_verification_code)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the next delivery attempt is due: now once queued, later after a failure. The
    # sweeper re-queues a pending row whose attempt is a few minutes overdue.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Makes a reminder or warning once however often the clock runs, e.g. "reminder:41:2".
    dedupe_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    # Sent here instead of the claim's address (e.g. a bank details change told to the
    # address the claimant had before); blank: the claim's address.
    recipient = models.EmailField(blank=True)

    class Meta:
        ordering = ["claim", "created_at", "id"]
        indexes = [models.Index(fields=["state", "created_at"], name="status_update_outbox")]
        permissions = [("resend_statusupdate", "Send failed emails again")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.claim_id} ({self.state})"


class StaffDigest(models.Model):
    """A caseworker's daily email listing their overdue claims: one row per person per
    day, so the clock can run twice and the email still goes once. Delivered like a
    status update (same states, attempts and sweeper)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    claim_count = models.PositiveIntegerField(default=0)
    state = models.CharField(
        max_length=10, choices=StatusUpdate.State.choices, default=StatusUpdate.State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="staff_digest_one_a_day"),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="staff_digest_outbox")]

    def __str__(self) -> str:
        return f"Digest for {self.user} on {self.day:%-d %B %Y} ({self.state})"


class NoticeCampaign(models.Model):
    """Sending each register entry of a scheme its notice email, in chunks on the worker.

    An entry's `notice_sent_at` is the record that its notice went, checked under a row
    lock before each send: pausing, resuming or running a campaign again never sends
    one person two notices."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        FINISHED = "finished", "Finished"

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="notice_campaigns")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    # Bumped by every resume (and by the sweeper reviving a stalled campaign): chunks
    # queued before it see a newer generation and stop.
    generation = models.PositiveIntegerField(default=1)
    total = models.PositiveIntegerField(default=0, help_text="People to send a notice to.")
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A heartbeat: chunks touch it as they send, so the sweeper can tell a stalled
    # campaign (its chunks lost with a broker) from a busy one.
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme"],
                condition=Q(state__in=["running", "paused"]),
                name="notice_campaign_one_active_per_scheme",
            ),
        ]

    def __str__(self) -> str:
        return f"Notices for {self.scheme} ({self.get_state_display().lower()})"


# --- Letters ------------------------------------------------------------------


class LetterKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
    INFORMATION_REQUEST = "information_request", "Information request"
    SETTLEMENT_OFFER = "settlement_offer", "Settlement offer"
    DECISION = "decision", "Decision"
    REVIEW_OUTCOME = "review_outcome", "Review outcome"
    PAYMENT_CONFIRMATION = "payment_confirmation", "Payment confirmation"


def letter_upload_to(instance: Letter, filename: str) -> str:
    # A new name for every letter: a stored file is never written over.
    return f"letters/{instance.claim_id}/{uuid.uuid4().hex}.pdf"


class Letter(models.Model):
    """A PDF letter to a claimant (claims.delivery.letters), stored once and never changed.
    Generating a letter of a kind again makes a new version and keeps the old."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(max_length=32, choices=LetterKind.choices)
    version = models.PositiveIntegerField(help_text="1 for a claim's first letter of this kind.")
    file = models.FileField(upload_to=letter_upload_to, max_length=200)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    template_version = models.CharField(max_length=40)
    # The change that called for the letter, and the offer a settlement letter sets out.
    event = models.ForeignKey(
        AuditEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    offer = models.ForeignKey(
        Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "kind", "version"], name="letter_unique_version"
            ),
        ]
        permissions = [("generate_letters", "Make claims' letters again, as new versions")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} for {self.claim_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("A letter is never changed: generate a new version instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def download_name(self) -> str:
        return f"{self.claim.reference}-{self.kind.replace('_', '-')}-v{self.version}.pdf"


class LetterBatch(models.Model):
    """Letters a member of staff asked for, for claims picked in the admin: the batch's
    requests say how far it has got."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    total = models.PositiveIntegerField(default=0, help_text="Letters asked for.")
    skipped = models.PositiveIntegerField(
        default=0, help_text="Claims picked whose stage has no letter."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "letter batches"

    def __str__(self) -> str:
        return f"Letters for {self.total} claim(s), {self.created_at:%-d %b %Y %H:%M}"


class LetterRequest(models.Model):
    """The letters outbox: a row written in the same transaction as the change that calls
    for a letter (or by a bulk action), then made by the `letters` queue. The sweeper
    queues again a row that a crash or a broker outage left pending; making it twice
    still stores one letter."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="letter_requests")
    kind = models.CharField(max_length=32, choices=LetterKind.choices)
    event = models.ForeignKey(
        AuditEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    batch = models.ForeignKey(
        LetterBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="requests"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    letter = models.OneToOneField(
        Letter, null=True, blank=True, on_delete=models.PROTECT, related_name="request"
    )
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="letter_request_outbox")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.claim_id} ({self.state})"


# --- Payments -------------------------------------------------------------------


class PaymentBatch(models.Model):
    """Payments a finance officer sends to the bank in one file (claims.actions.payments). Open
    while any of its payments is pending; closed once each is marked paid or failed."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="payment_batches")
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    file_downloaded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "payment batches"

    def __str__(self) -> str:
        return f"Payment batch {self.pk} ({self.get_state_display().lower()})"


class Payment(models.Model):
    """One payment of one claim's accepted offer, in one batch. A failed payment is kept
    and a new one made once the claimant gives new details; the constraints make a
    claim's offer paid at most once and a claim pending in at most one batch."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="payments")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="payments")
    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    # The account it was sent to, as everywhere only its last four digits.
    account_last4 = models.CharField(max_length=4)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["batch", "id"]
        indexes = [models.Index(fields=["claim", "state"], name="payment_claim_state")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["claim"],
                condition=Q(state="pending"),
                name="payment_one_pending_per_claim",
            ),
            models.UniqueConstraint(
                fields=["offer"],
                condition=Q(state__in=["pending", "paid"]),
                name="payment_offer_paid_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim.reference}: {format_money(self.amount)} ({self.state})"


class StaffAccess(models.Model):
    """A member of staff looked at a claim's page, one of its evidence files or its full
    bank details: who, what, when (docs/security.md, access audit). Append-only, one
    INSERT per look, kept apart from the claim's history so looks never crowd it."""

    class What(models.TextChoices):
        CLAIM_PAGE = "claim_page", "Claim page"
        EVIDENCE = "evidence", "Evidence file"
        BANK_DETAILS = "bank_details", "Full bank details"
        SUBJECT_ACCESS = "subject_access", "Subject access export"

    # CASCADE: only the erasure of a draft deletes a claim, and it is recorded elsewhere.
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=16, choices=What.choices)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "staff access"
        verbose_name_plural = "staff access log"
        indexes = [models.Index(fields=["claim", "at"], name="staffaccess_claim_at")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.what} {self.claim_id} {self.at:%Y-%m-%d %H:%M}"
