"""The demo scheme: the 2017 Debenhams Flowers breach at its supplier Ecomnova.

Figures are the sensible defaults of DESIGN.md; every one is editable per
scheme in the admin. `manage.py load_demo` and the test factories both build the
scheme with `create_demo_scheme` and take claims to a stage with
`advance_claim_to`, so a demo claim and a test claim have the same true history.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from claims.actions import casework, offers, submission
from claims.actions.flags import claim_flags_check
from claims.core import Actor
from claims.domain.references import generate_notice_code
from claims.domain.stages import Stage
from claims.models import BankDetails, Claim, DistressBand, HeadOfLoss, RegisterEntry, Scheme

DEMO_SLUG = "debenhams-flowers"

INCIDENT_SUMMARY = (
    "Between 24 February and 11 April 2017, criminals attacked Ecomnova, the company that "
    "ran the Debenhams Flowers website. They stole the names, addresses, passwords and "
    "payment card details of about 26,000 Debenhams Flowers customers.\n"
    "If the breach cost you money or caused you distress, you can claim compensation."
)

# (name, description, lower, upper); None upper means no limit.
DISTRESS_BANDS: list[tuple[str, str, Decimal, Decimal | None]] = [
    ("Minimal", "Brief worry, quickly resolved", Decimal("0.00"), Decimal("250.00")),
    ("Moderate", "Worry and inconvenience over weeks", Decimal("250.00"), Decimal("750.00")),
    ("Significant", "Lasting anxiety or disruption", Decimal("750.00"), Decimal("1500.00")),
    (
        "Serious",
        "Harm to health, fraud losses, long disruption",
        Decimal("1500.00"),
        Decimal("5000.00"),
    ),
    ("Exceptional", "Severe and lasting harm", Decimal("5000.00"), None),
]


def demo_scheme_fields(notice_date: dt.date) -> dict[str, Any]:
    """The scheme's fields, with the claim window 12 months from `notice_date`."""
    return {
        "name": "Debenhams Flowers data breach compensation scheme",
        "slug": DEMO_SLUG,
        "organisation": "Debenhams Flowers (supplier: Ecomnova)",
        "incident_summary": INCIDENT_SUMMARY,
        "breach_start": dt.date(2017, 2, 24),
        "breach_end": dt.date(2017, 4, 11),
        "notice_date": notice_date,
        "claims_open": notice_date,
        "claims_close": _add_months(notice_date, 12),
        "lost_time_hourly_rate": Decimal("25.00"),
        "lost_time_hours_cap": Decimal("10"),
        "lost_time_hours_cap_with_evidence": Decimal("20"),
        "offer_approval_threshold": Decimal("1000.00"),
        "cure_window_working_days": 20,
        "first_reminder_working_days": 10,
        "second_reminder_working_days": 17,
        "accept_by_working_days": 20,
        "fund_amount": Decimal("5000000.00"),
        "contact_phone": "0333 003 7068",
    }


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    # 29 February plus a year is 28 February; the window never runs past a month's end.
    for candidate in range(day.day, 27, -1):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    return dt.date(year, month, min(day.day, 28))


# The demo's notices went out this long before today, so its claim window is open now.
NOTICE_AGE = dt.timedelta(days=30)


def demo_notice_date(today: dt.date | None = None) -> dt.date:
    return (today or timezone.localdate()) - NOTICE_AGE


@transaction.atomic
def create_demo_scheme(
    *, notice_date: dt.date | None = None, overrides: Mapping[str, Any] | None = None
) -> Scheme:
    """The demo scheme with its distress bands, its claim window running from
    `notice_date` (default: 30 days ago). `overrides` replace any field as given, after
    the window is worked out (the test factories give each scheme its own slug)."""
    fields = demo_scheme_fields(notice_date or demo_notice_date())
    fields.update(overrides or {})
    scheme = Scheme.objects.create(**fields)
    DistressBand.objects.bulk_create(
        DistressBand(
            scheme=scheme,
            name=name,
            description=description,
            lower=lower,
            upper=upper,
            position=position,
        )
        for position, (name, description, lower, upper) in enumerate(DISTRESS_BANDS)
    )
    return scheme


# --- A synthetic register -----------------------------------------------------

REGISTER_SEED = 2017
# Reserved for examples (RFC 2606, RFC 6761): mail to them can never reach a person.
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net", "post.test", "inbox.test")

# The first people on the demo register, so the first demo claims carry them: names
# and addresses that are valid but break naive code (accents, apostrophes, hyphens,
# non-Latin scripts, a single name, a plus sign in an email address).
AWKWARD_PEOPLE: list[dict[str, str]] = [
    {
        "full_name": "Zoë O'Brien",
        "email": "zoe.obrien+claims@example.com",
        "address": "Flat 2\n14 St Mary's Road\nCardiff",
        "postcode": "CF24 3AB",
    },
    {
        "full_name": "Nguyễn Văn An",
        "email": "nguyen.van.an@example.org",
        "address": "27 Ashby-de-la-Zouch Way\nLeicester",
        "postcode": "LE1 6XY",
    },
    {
        "full_name": "Siobhán Ní Bhriain",
        "email": "siobhan.nibhriain@example.net",
        "address": "3 O'Connell Terrace\nBelfast",
        "postcode": "BT7 1ZZ",
    },
    {
        "full_name": "Łukasz Żółkowski-Brown",
        "email": "lukasz.zb@post.test",
        "address": "Basement Flat\n91a Königsberg Road\nLondon",
        "postcode": "N16 7QX",
    },
    {
        "full_name": "李明",
        "email": "li.ming@example.com",
        "address": "8 Chinatown Court\nManchester",
        "postcode": "M1 4BT",
    },
    {
        "full_name": "Teller",
        "email": "teller@inbox.test",
        "address": "The Old Rectory\nLlanfairpwllgwyngyll\nAnglesey",
        "postcode": "LL61 5UJ",
    },
    {
        "full_name": "Dr Anne-Marie D'Souza-Smythe",
        "email": "a.m.dsouza-smythe@example.org",
        "address": "Flat 12/3, Ben Nevis House\n1 Glen Road\nFort William",
        "postcode": "PH33 6ZZ",
    },
    {
        "full_name": "José María Fernández de la Cruz",
        "email": "jm.fernandez@example.net",
        "address": "5 Ffordd Penrhyn\nBangor",
        "postcode": "LL57 1AB",
    },
]


def _email_local_part(full_name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9-]+", ascii_name.lower())
    return ".".join(words[-2:]) or "claimant"


def fill_register(scheme: Scheme, *, size: int, seed: int = REGISTER_SEED) -> int:
    """Top the scheme's register up to `size` synthetic people and return how many were
    added. Names and addresses come from Faker (en_GB, seeded, so every fresh load is
    the same people); each notice code is random and unique within the scheme."""
    from faker import Faker  # A demo dependency; only loading the demo needs it.

    start = scheme.register.count()
    if start >= size:
        return 0
    fake = Faker("en_GB")
    fake.seed_instance(seed + start)
    # Faker's weighted surnames and street names cost ~30µs each; drawing them once into
    # pools and picking from those keeps 26,000 people to a second or so.
    surnames = [fake.last_name() for _ in range(3000)]
    streets = [fake.street_name() for _ in range(3000)]
    towns = [fake.city() for _ in range(500)]
    pick = fake.random.choice
    used_codes = set(scheme.register.values_list("notice_code", flat=True))
    sent_at = timezone.make_aware(dt.datetime.combine(scheme.notice_date, dt.time(9, 0)))

    def person(index: int) -> dict[str, str]:
        if index < len(AWKWARD_PEOPLE):
            return AWKWARD_PEOPLE[index]
        surname = pick(surnames)
        if fake.random.random() < 0.07:
            surname = f"{surname}-{pick(surnames)}"
        full_name = f"{fake.first_name()} {surname}"
        flat = f"Flat {fake.random.randint(1, 40)}\n" if fake.random.random() < 0.15 else ""
        return {
            "full_name": full_name,
            "email": f"{_email_local_part(full_name)}{index}@{pick(EXAMPLE_DOMAINS)}",
            "address": f"{flat}{fake.building_number()} {pick(streets)}\n{pick(towns)}",
            "postcode": fake.postcode(),
        }

    def notice_code() -> str:
        code = generate_notice_code()
        while code in used_codes:  # pragma: no cover - about one in 10^18
            code = generate_notice_code()
        used_codes.add(code)
        return code

    with transaction.atomic():
        # One batch in memory at a time: a real register can be far bigger.
        for batch_start in range(start, size, 2000):
            RegisterEntry.objects.bulk_create(
                RegisterEntry(
                    scheme=scheme,
                    notice_code=notice_code(),
                    external_id=f"DF{index + 1:06d}",
                    notice_sent_at=sent_at,
                    **person(index),
                )
                for index in range(batch_start, min(batch_start + 2000, size))
            )
    return size - start


# --- Claims with a true history -----------------------------------------------


@dataclass
class ClaimStaff:
    """The staff a claim's journey needs: who triages and assesses it, the senior
    caseworker who starts a review, and the finance officer who pays it."""

    caseworker: Any
    senior: Any
    finance: Any


# The path to each stage: a stage is reached from the one before it by one step.
STAGE_PATH: dict[Stage, tuple[Stage | None, str]] = {
    Stage.DRAFT: (None, "start"),
    Stage.SUBMITTED: (Stage.DRAFT, "submit"),
    Stage.TRIAGE: (Stage.SUBMITTED, "triage_start"),
    Stage.REJECTED: (Stage.TRIAGE, "triage_reject"),
    Stage.ASSESSMENT: (Stage.TRIAGE, "triage_accept"),
    Stage.INFORMATION_REQUESTED: (Stage.ASSESSMENT, "information_request"),
    Stage.CLOSED_INCOMPLETE: (Stage.INFORMATION_REQUESTED, "close_incomplete"),
    Stage.OFFER_PENDING_APPROVAL: (Stage.ASSESSMENT, "offer_propose"),
    Stage.OFFER_MADE: (Stage.ASSESSMENT, "offer_make"),
    Stage.ACCEPTED: (Stage.OFFER_MADE, "offer_accept"),
    Stage.PAYMENT_PENDING: (Stage.ACCEPTED, "payment_queue"),
    Stage.PAID: (Stage.PAYMENT_PENDING, "payment_confirm"),
    Stage.CLOSED: (Stage.PAID, "close"),
    Stage.DECLINED: (Stage.OFFER_MADE, "offer_decline"),
    Stage.REVIEW: (Stage.DECLINED, "review_start"),
    Stage.REJECTION_REVIEW: (Stage.REJECTED, "rejection_review_request"),
    Stage.OFFER_EXPIRED: (Stage.OFFER_MADE, "offer_expire"),
    Stage.WITHDRAWN: (Stage.DRAFT, "withdraw"),
}

SMALL_LOSS = Decimal("35.00")  # at or below the demo four-eyes threshold
LARGE_LOSS = Decimal("1800.00")  # above it


def steps_to(stage: Stage | str) -> list[str]:
    """The steps after `start` that take a new draft claim to `stage`, in order."""
    steps: list[str] = []
    current: Stage | None = Stage(stage)
    while current is not None:
        previous, step = STAGE_PATH[current]
        if previous is not None:
            steps.append(step)
        current = previous
    return steps[::-1]


def advance_claim_to(
    stage: Stage | str,
    *,
    scheme: Scheme,
    staff: ClaimStaff,
    claimant: Mapping[str, Any],
    large: bool | None = None,
) -> Claim:
    """A new claim taken to `stage` through the services, as real people would: the
    claimant starts it (with `claimant`, claim_start's contact fields) and submits it,
    staff triage, assess and pay it. A large claim is above the four-eyes threshold,
    so its offer waits for approval; by default only claims bound for that stage are."""
    stage = Stage(stage)
    if large is None:
        large = stage == Stage.OFFER_PENDING_APPROVAL
    claim = submission.claim_start(scheme=scheme, **claimant)
    submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        category=HeadOfLoss.Category.UNAUTHORISED_TRANSACTIONS,
        amount_claimed=LARGE_LOSS if large else SMALL_LOSS,
        description="Two payments I did not make",
        incurred_on=dt.date(2017, 3, 14),
    )
    for step in steps_to(stage):
        take_step(claim, step, staff)
    claim.refresh_from_db()
    if claim.stage != stage:
        raise RuntimeError(f"{claim.reference} ended {claim.stage}, not {stage}")
    return claim


def assess_all(claim: Claim, user: Any) -> None:
    """Allow every head of loss in full."""
    for head in claim.heads_of_loss.all():
        casework.head_of_loss_assess(
            head_id=head.pk, actor=Actor.staff(user), amount_allowed=head.amount_claimed
        )


def take_step(claim: Claim, step: str, staff: ClaimStaff) -> None:
    """One step of `STAGE_PATH`, made by whoever would make it."""
    pk, cw, senior = claim.pk, Actor.staff(staff.caseworker), Actor.staff(staff.senior)
    # Cure windows and accept-by dates run out only in the future; act as if it is then.
    far_future = timezone.localdate() + dt.timedelta(days=400)
    if step == "submit":
        submission.claim_submit(claim_id=pk, actor=Actor.claimant(pk), statement_of_truth=True)
        # What the worker does a moment after a submission: a caseworker sees the flags.
        claim_flags_check(claim_id=pk)
    elif step in {"triage_start", "triage_accept"}:
        casework.claim_transition(claim_id=pk, transition=step, actor=cw)
    elif step == "triage_reject":
        casework.claim_transition(
            claim_id=pk, transition=step, actor=cw, reason="Not a Debenhams Flowers customer"
        )
    elif step == "rejection_review_request":
        casework.rejection_review_request(
            claim_id=pk, actor=Actor.claimant(pk), reason="I bought flowers in March 2017."
        )
    elif step == "information_request":
        casework.claim_request_information(
            claim_id=pk, actor=cw, request="Please send the bank statement for March 2017."
        )
    elif step == "close_incomplete":
        casework.claim_close_incomplete(claim_id=pk, actor=Actor.system(), today=far_future)
    elif step in {"offer_propose", "offer_make"}:
        assess_all(claim, staff.caseworker)
        offers.offer_propose(claim_id=pk, actor=cw)
    elif step == "offer_accept":
        offers.offer_accept(claim_id=pk, actor=Actor.claimant(pk))
    elif step == "offer_decline":
        offers.offer_decline(claim_id=pk, actor=Actor.claimant(pk), reason="Too low")
    elif step == "offer_expire":
        offers.offer_expire(claim_id=pk, actor=Actor.system(), today=far_future)
    elif step == "review_start":
        casework.claim_transition(claim_id=pk, transition=step, actor=senior)
    elif step == "payment_queue":
        from claims.actions import payments

        if not BankDetails.objects.filter(claim_id=pk).exists():
            submission.bank_details_set(
                claim_id=pk,
                actor=Actor.claimant(pk),
                account_name=claim.full_name,
                sort_code="309457",
                account_number=f"{10_000_000 + pk % 90_000_000:08d}",
            )
        payments.payment_batch_build(
            scheme_id=claim.scheme_id, actor=Actor.staff(staff.finance), claim_ids=[pk]
        )
    elif step == "payment_confirm":
        from claims.actions import payments

        payment = claim.payments.get(state="pending")
        payments.payment_mark_paid(payment_id=payment.pk, actor=Actor.staff(staff.finance))
    elif step == "close":
        casework.claim_transition(claim_id=pk, transition=step, actor=Actor.staff(staff.finance))
    elif step == "withdraw":
        submission.claim_withdraw(claim_id=pk, actor=Actor.claimant(pk), reason="Changed my mind")
    else:
        raise ValueError(f"No step called {step!r}: add it to take_step.")
