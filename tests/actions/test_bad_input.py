"""Bad input to a service is refused with a ClaimError that names the problem, and
nothing at all is written: no audit event, no status update, no head of loss, no
change to the claim's stage or version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from claims.actions import casework, submission
from claims.core import Actor, ClaimError
from claims.domain.stages import Stage
from claims.models import AuditEvent, Claim, HeadOfLoss, InternalNote, Offer, StatusUpdate
from tests.support.factories import (
    SMALL_LOSS,
    RegisterEntryFactory,
    SchemeFactory,
    claim_in_stage,
    draft_claim,
    take_step,
)

pytestmark = pytest.mark.django_db

TRANSACTIONS = HeadOfLoss.Category.UNAUTHORISED_TRANSACTIONS
DISTRESS = HeadOfLoss.Category.DISTRESS


def _everything_a_service_writes() -> dict[str, Any]:
    return {
        "claims": list(
            Claim.objects.order_by("pk").values_list(
                "pk", "stage", "version", "submitted_at", "information_due", "assigned_to"
            )
        ),
        "heads": list(
            HeadOfLoss.objects.order_by("pk").values_list(
                "pk",
                "amount_claimed",
                "amount_allowed",
                "assessment_reason",
                "distress_band",
                "assessed_by",
            )
        ),
        "audit_events": AuditEvent.objects.count(),
        "status_updates": StatusUpdate.objects.count(),
        "offers": Offer.objects.count(),
        "notes": InternalNote.objects.count(),
    }


@contextmanager
def refused(match: str, *, code: str | None = None) -> Iterator[pytest.ExceptionInfo[ClaimError]]:
    """Expect a ClaimError whose message matches, and that the database is untouched."""
    before = _everything_a_service_writes()
    with pytest.raises(ClaimError, match=match) as error:
        yield error
    if code is not None:
        assert error.value.code == code
    assert error.value.message == str(error.value)
    assert _everything_a_service_writes() == before


def add_head(claim: Claim, **kwargs: Any) -> HeadOfLoss:
    fields: dict[str, Any] = {
        "category": TRANSACTIONS,
        "amount_claimed": "35.00",
        "incurred_on": dt.date(2017, 3, 14),
    }
    fields.update(kwargs)
    return submission.head_of_loss_add(claim_id=claim.pk, actor=Actor.claimant(claim.pk), **fields)


@pytest.fixture
def draft(scheme):
    return draft_claim(scheme)


@pytest.fixture
def in_assessment(scheme, people):
    """A claim in assessment with a £35 transactions head and a distress head."""
    claim = draft_claim(scheme)
    transactions = add_head(claim)
    distress = add_head(
        claim, category=DISTRESS, amount_claimed="", description="I could not sleep for weeks."
    )
    for step in ("submit", "triage_start", "triage_accept"):
        take_step(claim, step, people)
    claim.refresh_from_db()
    assert claim.stage == Stage.ASSESSMENT
    return claim, transactions, distress


def test_the_refusal_check_notices_a_write():
    # Guards every test below: if a refused call did write, `refused` would say so.
    claim = claim_in_stage(Stage.DRAFT)
    with pytest.raises(AssertionError), refused("anything"):
        add_head(claim)
        raise ClaimError("anything")


# --- Adding a head of loss ----------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("-5.00", "cannot be negative"),
        ("-0.01", "cannot be negative"),
        ("10.001", "at most two decimal places"),
        ("0", r"greater than £0\.00"),
        ("0.00", r"greater than £0\.00"),
        ("", "pounds and pence"),
        (None, "pounds and pence"),
        ("lots", "pounds and pence"),
        ("NaN", "pounds and pence"),
        ("12,50", "pounds and pence"),
        (25.0, "not float"),
        ("10000000.01", r"no more than £10,000,000\.00"),
        ("1000000000000", r"no more than £10,000,000\.00"),
        ("9" * 30 + ".001", r"no more than £10,000,000\.00"),
    ],
)
def test_a_head_of_loss_with_a_bad_amount_is_refused_and_nothing_is_written(draft, amount, problem):
    with refused(f"^Amount: .*{problem}", code="invalid_amount"):
        add_head(draft, amount_claimed=amount)


def test_a_distress_head_may_be_claimed_at_zero_but_not_below():
    claim = claim_in_stage(Stage.DRAFT)
    head = add_head(claim, category=DISTRESS, amount_claimed="0")
    assert head.amount_claimed == 0
    with refused("cannot be negative", code="invalid_amount"):
        add_head(claim, category=DISTRESS, amount_claimed="-1")


def test_a_head_dated_before_the_breach_began_is_refused(draft):
    with refused(r"on or after the breach began \(24 February 2017\)", code="invalid_date"):
        add_head(draft, incurred_on=dt.date(2017, 2, 23))


def test_a_head_dated_on_the_day_the_breach_began_is_accepted(draft):
    head = add_head(draft, incurred_on=dt.date(2017, 2, 24))
    assert head.incurred_on == dt.date(2017, 2, 24)


def test_a_head_dated_in_the_future_is_refused(draft):
    today = timezone.localdate()
    with refused("cannot be in the future", code="invalid_date"):
        add_head(draft, incurred_on=today + dt.timedelta(days=1), today=today)
    assert add_head(draft, incurred_on=today, today=today).incurred_on == today


def test_a_head_of_an_unknown_kind_is_refused(draft):
    with refused("Choose what kind of loss", code="invalid_category"):
        add_head(draft, category="lottery_win")


def test_a_claimant_cannot_add_a_head_to_someone_elses_claim(scheme):
    mine = draft_claim(scheme, email="me@example.test")
    theirs = draft_claim(scheme, email="them@example.test")
    with refused("There is no such claim", code="not_found"):
        submission.head_of_loss_add(
            claim_id=theirs.pk,
            actor=Actor.claimant(mine.pk),
            category=TRANSACTIONS,
            amount_claimed="35.00",
        )


def test_staff_cannot_add_a_head_of_loss_through_the_claimant_service(draft, caseworker):
    with refused("There is no such claim", code="not_found"):
        submission.head_of_loss_add(
            claim_id=draft.pk,
            actor=Actor.staff(caseworker),
            category=TRANSACTIONS,
            amount_claimed="35.00",
        )


def test_a_head_cannot_be_added_to_a_claim_that_does_not_exist(draft):
    with refused("There is no such claim", code="not_found"):
        submission.head_of_loss_add(
            claim_id=draft.pk + 1000,
            actor=Actor.claimant(draft.pk + 1000),
            category=TRANSACTIONS,
            amount_claimed="35.00",
        )


@pytest.mark.parametrize("stage", [Stage.SUBMITTED, Stage.ASSESSMENT, Stage.WITHDRAWN])
def test_a_head_cannot_be_added_after_submission(stage):
    claim = claim_in_stage(stage)
    with refused("only be changed before it is submitted", code="not_draft"):
        add_head(claim)


# --- Starting a claim --------------------------------------------------------------


def test_a_claim_cannot_be_started_before_the_claim_window_opens(scheme):
    with refused(
        f"accepts claims from {scheme.claims_open:%-d %B %Y} to {scheme.claims_close:%-d %B %Y}",
        code="outside_claim_window",
    ):
        draft_claim(scheme, today=scheme.claims_open - dt.timedelta(days=1))


def test_a_claim_cannot_be_started_after_the_claim_window_closes(scheme):
    with refused("accepts claims from", code="outside_claim_window"):
        draft_claim(scheme, today=scheme.claims_close + dt.timedelta(days=1))


def test_a_claim_can_be_started_on_the_first_and_last_days_of_the_window(scheme):
    assert draft_claim(scheme, today=scheme.claims_open).stage == Stage.DRAFT
    assert draft_claim(scheme, today=scheme.claims_close).stage == Stage.DRAFT


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"full_name": "   "}, "Enter your full name"),
        ({"email": ""}, "Enter your email address"),
    ],
)
def test_a_claim_cannot_be_started_without_a_name_or_email(scheme, fields, problem):
    with refused(problem, code="required"):
        draft_claim(scheme, **fields)


def test_a_claim_cannot_be_started_against_another_schemes_register_entry(scheme):
    elsewhere = RegisterEntryFactory(scheme=SchemeFactory())
    with refused("not part of this scheme", code="invalid"):
        draft_claim(scheme, register_entry_id=elsewhere.pk)


# --- Submitting ---------------------------------------------------------------------


def test_a_claim_cannot_be_submitted_after_the_window_has_closed():
    claim = claim_in_stage(Stage.DRAFT)
    closes = claim.scheme.claims_close
    with refused(f"closed on {closes:%-d %B %Y}", code="outside_claim_window"):
        submission.claim_submit(
            claim_id=claim.pk,
            actor=Actor.claimant(claim.pk),
            statement_of_truth=True,
            today=closes + dt.timedelta(days=1),
        )


def test_a_claim_can_be_submitted_on_the_last_day_of_the_window():
    claim = claim_in_stage(Stage.DRAFT)
    submission.claim_submit(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        statement_of_truth=True,
        today=claim.scheme.claims_close,
    )
    claim.refresh_from_db()
    assert claim.stage == Stage.SUBMITTED


def test_a_claim_cannot_be_submitted_without_the_statement_of_truth():
    claim = claim_in_stage(Stage.DRAFT)
    with refused("Confirm that the information you have given is true", code="statement_of_truth"):
        submission.claim_submit(
            claim_id=claim.pk, actor=Actor.claimant(claim.pk), statement_of_truth=False
        )


def test_a_claim_with_nothing_claimed_cannot_be_submitted(draft):
    with refused("Add at least one thing you are claiming for", code="no_heads_of_loss"):
        submission.claim_submit(
            claim_id=draft.pk, actor=Actor.claimant(draft.pk), statement_of_truth=True
        )


def test_a_claimant_cannot_submit_someone_elses_claim(scheme):
    mine = claim_in_stage(Stage.DRAFT, scheme=scheme)
    theirs = claim_in_stage(Stage.DRAFT, scheme=scheme)
    with refused("There is no such claim", code="not_found"):
        submission.claim_submit(
            claim_id=theirs.pk, actor=Actor.claimant(mine.pk), statement_of_truth=True
        )


# --- Assessing a head of loss ---------------------------------------------------------


def assess(head: HeadOfLoss, user: Any, amount: object, **kwargs: Any) -> HeadOfLoss:
    return casework.head_of_loss_assess(
        head_id=head.pk, actor=Actor.staff(user), amount_allowed=amount, **kwargs
    )


@pytest.mark.parametrize(
    ("amount", "problem", "code"),
    [
        ("35.01", r"cannot be more than the £35\.00 claimed", "above_claimed"),
        ("1000", r"cannot be more than the £35\.00 claimed", "above_claimed"),
        ("10.001", "at most two decimal places", "invalid_amount"),
        ("-1.00", "cannot be negative", "invalid_amount"),
        ("", "pounds and pence", "invalid_amount"),
        (20.0, "not float", "invalid_amount"),
        ("10000000.01", "no more than", "invalid_amount"),
    ],
)
def test_an_assessment_with_a_bad_amount_is_refused_and_nothing_is_written(
    in_assessment, people, amount, problem, code
):
    _, transactions, _ = in_assessment
    with refused(problem, code=code):
        assess(transactions, people.caseworker, amount, reason="Only one payment is shown.")


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_an_assessment_below_the_claim_needs_a_reason(in_assessment, people, reason):
    _, transactions, _ = in_assessment
    with refused("Give a reason", code="reason_required"):
        assess(transactions, people.caseworker, "20.00", reason=reason)


def test_an_assessment_of_the_full_amount_needs_no_reason(in_assessment, people):
    _, transactions, _ = in_assessment
    head = assess(transactions, people.caseworker, str(SMALL_LOSS))
    assert head.amount_allowed == SMALL_LOSS


def test_a_distress_award_needs_a_band(in_assessment, people):
    _, _, distress = in_assessment
    with refused("Choose the distress band", code="band_required"):
        assess(distress, people.caseworker, "300.00", reason="Weeks of worry.")


@pytest.mark.parametrize(
    ("band", "amount", "problem"),
    [
        ("Moderate", "249.99", r"Moderate band must be between £250\.00 and £750\.00"),
        ("Moderate", "750.01", r"Moderate band must be between £250\.00 and £750\.00"),
        ("Minimal", "300.00", r"Minimal band must be between £0\.00 and £250\.00"),
        ("Exceptional", "4999.99", r"Exceptional band must be £5,000\.00 or more\.$"),
    ],
)
def test_a_distress_award_outside_the_chosen_band_is_refused(
    in_assessment, people, band, amount, problem
):
    claim, _, distress = in_assessment
    chosen = claim.scheme.distress_bands.get(name=band)
    with refused(problem, code="outside_band"):
        assess(
            distress,
            people.caseworker,
            amount,
            reason="Weeks of worry.",
            distress_band_id=chosen.pk,
        )


def test_a_distress_award_at_the_edges_of_its_band_is_accepted(in_assessment, people):
    claim, _, distress = in_assessment
    moderate = claim.scheme.distress_bands.get(name="Moderate")
    for amount in ("250.00", "750.00"):
        head = assess(
            distress,
            people.caseworker,
            amount,
            reason="Weeks of worry.",
            distress_band_id=moderate.pk,
        )
        head.refresh_from_db()
        assert head.amount_allowed == Decimal(amount)
        assert head.distress_band == moderate


def test_a_distress_band_from_another_scheme_is_refused(in_assessment, people):
    _, _, distress = in_assessment
    other_scheme = SchemeFactory()
    foreign_band = other_scheme.distress_bands.get(name="Moderate")
    with refused("not one of this scheme's", code="invalid"):
        assess(
            distress,
            people.caseworker,
            "300.00",
            reason="Weeks of worry.",
            distress_band_id=foreign_band.pk,
        )


def test_a_head_of_loss_that_does_not_exist_cannot_be_assessed(in_assessment, people):
    _, transactions, _ = in_assessment
    with refused("There is no such head of loss", code="not_found"):
        casework.head_of_loss_assess(
            head_id=transactions.pk + 1000,
            actor=Actor.staff(people.caseworker),
            amount_allowed="10.00",
            reason="Only one payment is shown.",
        )


def test_a_head_of_loss_on_a_draft_claim_cannot_be_assessed(draft, caseworker):
    head = add_head(draft)
    with refused("draft cannot be assessed", code="illegal_transition"):
        assess(head, caseworker, "35.00")


def test_an_assessment_from_a_stale_form_is_refused(in_assessment, people):
    claim, transactions, _ = in_assessment
    with refused("Someone else changed this claim", code="conflict"):
        assess(
            transactions,
            people.caseworker,
            "35.00",
            expected_version=claim.version - 1,
        )


def test_a_finance_officer_cannot_assess_a_head_of_loss(in_assessment, people):
    _, transactions, _ = in_assessment
    with refused("Your role does not allow this", code="forbidden"):
        assess(transactions, people.finance, "35.00")


@pytest.mark.django_db
def test_a_notice_code_backs_only_one_live_claim(scheme):
    from tests.support.factories import RegisterEntryFactory

    entry = RegisterEntryFactory(scheme=scheme)
    first = submission.claim_start(
        scheme=scheme, full_name="Ann Lee", email="ann@example.test", register_entry_id=entry.pk
    )

    with pytest.raises(ClaimError) as twice:
        submission.claim_start(
            scheme=scheme, full_name="Ann Lee", email="ann@example.test", register_entry_id=entry.pk
        )
    submission.claim_withdraw(claim_id=first.pk, actor=Actor.claimant(first.pk))
    again = submission.claim_start(
        scheme=scheme, full_name="Ann Lee", email="ann@example.test", register_entry_id=entry.pk
    )

    assert twice.value.code == "already_claimed"
    assert again.register_entry == entry
