"""Money out: what a claim is paid, the fund it is paid from, bank details and
payment batches.

`payable_amount` is the one place the amount paid for a claim comes from; each
payment row takes it from there, and the payment file, letters and fund figures
take the row's amount. `fund_check_offer` is the one check that an offer fits in
what is left of the scheme's fund, called by every service that makes an offer
binding.

A batch: a finance officer builds one from a scheme's accepted claims whose bank
details are present and not on hold (`payment_batch_build`: each claim moves to
payment pending), downloads the payment file (`payment_file`, audited per claim),
and marks each payment paid (`payment_mark_paid`: the claim is paid, and the
payment confirmation letter and status update are queued) or failed
(`payment_mark_failed`: back to accepted, and the claimant is asked for new
details). Row locks and two partial unique constraints keep a claim out of two
open batches and an offer from being paid twice.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from claims import core
from claims.core import Actor, ClaimError
from claims.domain import crypto
from claims.domain.csv_export import safe_cell
from claims.domain.money import format_money
from claims.domain.stages import ActorKind, Stage
from claims.models import AuditEvent, BankDetails, Claim, Offer, Payment, PaymentBatch, Scheme
from claims.queries import partial

if TYPE_CHECKING:
    from django.db.models import QuerySet

# --- What a claim is paid ------------------------------------------------------------


def accepted_offer(claim: Claim) -> Offer:
    """The offer being paid: the newest with an accepted item (claims.queries.partial). A
    revised offer for a disputed part is accepted only after the first part is paid."""
    offer = partial.accepted_offer(claim)
    if offer is None:
        raise ClaimError("This claim has no accepted offer to pay.", code="no_offer")
    return offer


def payable_amount(claim: Claim, *, offer: Offer | None = None) -> Decimal:
    """The amount to pay for a claim's accepted offer: the sum of the items the claimant
    accepted, to the penny (all of them unless they accepted part). Every payment takes
    its amount from here, so a change to what is paid is made once. `offer`, if the
    caller already has `accepted_offer(claim)`, saves looking it up again."""
    return partial.accepted_amount(offer if offer is not None else accepted_offer(claim))


# --- The fund ------------------------------------------------------------------------


def fund_check_offer(*, claim: Claim, total: Decimal) -> None:
    """Refuse an offer of `total` on `claim` that the scheme's remaining fund cannot
    cover. Called, inside the caller's transaction, by each service that makes an
    offer or puts one up for approval; the claim's own earlier offers do not count,
    as the new one replaces them."""
    from claims.queries.funds import fund_summary

    # Offers on different claims of one scheme are made one at a time: two offers that
    # each fit alone must not both be made when only one fits.
    Scheme.objects.select_for_update().filter(pk=claim.scheme_id).values_list("pk").get()
    remaining = fund_summary(claim.scheme, exclude_claim_id=claim.pk).remaining
    if total > remaining:
        raise ClaimError(
            f"This offer of {format_money(total)} cannot be made: only "
            f"{format_money(max(remaining, Decimal('0.00')))} of the scheme's fund is left "
            "after the offers already made, accepted and paid. Ask the scheme administrator "
            "about the fund before making it.",
            code="over_fund",
        )


# --- Bank details: the full values, and changes held until confirmed ------------------


@dataclass(frozen=True)
class FullBankDetails:
    """Decrypted bank details, for a finance officer's eyes or the payment file only.
    The repr shows nothing, so a traceback or a log line that meets one leaks nothing."""

    account_name: str
    sort_code: str
    account_number: str

    def __repr__(self) -> str:
        return "FullBankDetails(…)"

    __str__ = __repr__

    @property
    def sort_code_display(self) -> str:
        return f"{self.sort_code[:2]}-{self.sort_code[2:4]}-{self.sort_code[4:]}"


def _decrypt(details: BankDetails) -> FullBankDetails:
    return FullBankDetails(
        account_name=details.account_name,
        sort_code=crypto.decrypt(details.sort_code_encrypted),
        account_number=crypto.decrypt(details.account_number_encrypted),
    )


@sensitive_variables()
@transaction.atomic
def bank_details_reveal(*, claim_id: int, actor: Actor) -> FullBankDetails:
    """A claim's full bank details for a finance officer. Each look is recorded in the
    audit trail (who and when), as the issue's data-protection duty asks."""
    core.check_staff(actor, "claims.view_payment_details")
    claim = core.lock_claim(claim_id)
    details = BankDetails.objects.filter(claim=claim).first()
    if details is None:
        raise ClaimError("The claimant has not given bank details.", code="no_bank_details")
    full = _decrypt(details)
    core.record(
        claim,
        action="bank_details_viewed",
        actor=actor,
        data={"account": details.masked_account_number},
    )
    return full


@transaction.atomic
def bank_details_confirm(
    *, claim_id: int, actor: Actor, reason: str, expected_version: int | None = None
) -> BankDetails:
    """A caseworker confirms changed bank details with the claimant (by a call to the
    number on file, not one given with the change), which lets payment go ahead."""
    core.check_staff(actor, "claims.assess_claim")
    claim = core.lock_claim(claim_id)
    if expected_version is not None and claim.version != expected_version:
        raise ClaimError(
            "Someone else changed this claim since you opened it. "
            "Reload it to see their change, then try again.",
            code="conflict",
        )
    details = BankDetails.objects.select_for_update().filter(claim=claim).first()
    if details is None or not details.on_hold:
        raise ClaimError("There is no change of bank details to confirm.", code="not_on_hold")
    reason = (reason or "").strip()
    if not reason:
        raise ClaimError(
            "Say how you confirmed the change with the claimant.", code="reason_required"
        )
    details.on_hold = False
    details.confirmed_by = actor.user
    details.confirmed_at = timezone.now()
    details.save(update_fields=["on_hold", "confirmed_by", "confirmed_at", "updated_at"])
    core.touch(claim)
    core.record(
        claim,
        action="bank_details_change_confirmed",
        actor=actor,
        reason=reason,
        data={"account": details.masked_account_number},
    )
    return details


# --- Payment batches --------------------------------------------------------------------

MANAGE = "claims.manage_payments"


def payable_claims(scheme: Scheme) -> QuerySet[Claim]:
    """A scheme's claims a batch may take now: accepted, with bank details that are not
    on hold, and not failed since those details were given (a failed payment waits for
    new details)."""
    failed_since = Payment.objects.filter(
        claim=OuterRef("pk"),
        state=Payment.State.FAILED,
        decided_at__gte=OuterRef("bank_details__updated_at"),
    )
    return (
        Claim.objects.filter(
            scheme=scheme,
            stage=Stage.ACCEPTED,
            bank_details__isnull=False,
            bank_details__on_hold=False,
        )
        .exclude(Exists(failed_since))
        .order_by("pk")
    )


def needs_new_bank_details(claim: Claim) -> bool:
    """Its last payment failed and no bank details were given since (as payable_claims)."""
    details = BankDetails.objects.filter(claim=claim).first()
    return (
        details is not None
        and claim.payments.filter(
            state=Payment.State.FAILED, decided_at__gte=details.updated_at
        ).exists()
    )


def _why_not_payable(claim: Claim) -> str:
    details = BankDetails.objects.filter(claim=claim).first()
    if details is None:
        return "the claimant has not given bank details"
    if details.on_hold:
        return "its changed bank details wait for a caseworker to confirm them"
    return "its last payment failed and the claimant has not given new details"


@transaction.atomic
def payment_batch_build(
    *, scheme_id: int, actor: Actor, claim_ids: list[int] | None = None, limit: int = 5000
) -> PaymentBatch:
    """A batch of every payable claim of the scheme (or of `claim_ids`, each of which
    must be payable), up to `limit`; each claim moves to payment pending."""
    core.check_staff(actor, MANAGE)
    scheme = Scheme.objects.filter(pk=scheme_id).first()
    if scheme is None:
        raise ClaimError("There is no such scheme.", code="not_found")
    if claim_ids is not None:
        wanted = list(
            Claim.objects.filter(pk__in=claim_ids, scheme=scheme).values_list("pk", flat=True)
        )
        if len(wanted) != len(set(claim_ids)):
            raise ClaimError("There is no such claim in this scheme.", code="not_found")
    else:
        wanted = list(payable_claims(scheme).values_list("pk", flat=True)[:limit])
    # Locked in id order, so two batches built at once wait for each other rather than
    # deadlock; what is payable is read again once the locks are held.
    locked = list(Claim.objects.select_for_update().filter(pk__in=wanted).order_by("pk"))
    payable = set(payable_claims(scheme).filter(pk__in=wanted).values_list("pk", flat=True))
    if claim_ids is not None:
        for claim in locked:
            core.check_can(claim, "payment_queue", actor)
            if claim.pk not in payable:
                raise ClaimError(
                    f"{claim.reference} cannot be paid yet: {_why_not_payable(claim)}.",
                    code="not_payable",
                )
    claims = [claim for claim in locked if claim.pk in payable]
    batch = PaymentBatch.objects.create(scheme=scheme, created_by=actor.user)
    total, count = Decimal("0.00"), 0
    for claim in claims:
        claim.scheme = scheme
        offer = accepted_offer(claim)
        amount = payable_amount(claim, offer=offer)
        if amount <= 0:
            continue  # nothing to send: an offer of £0 is settled without a payment
        payment = Payment.objects.create(
            claim=claim,
            offer=offer,
            batch=batch,
            amount=amount,
            account_last4=claim.bank_details.account_number_last4,
            created_by=actor.user,
        )
        core.move(
            claim,
            "payment_queue",
            actor,
            data={"batch": batch.pk, "payment": payment.pk, "amount": str(amount)},
        )
        total += amount
        count += 1
    if not count:
        raise ClaimError(
            "No accepted claims are ready to pay: each needs bank details, confirmed by a "
            "caseworker if they were changed.",
            code="nothing_to_pay",
        )
    batch.total, batch.count = total, count
    batch.save(update_fields=["total", "count"])
    return batch


# The characters a Bacs payment file may carry in names and references.
_BACS_DISALLOWED = re.compile(r"[^A-Z0-9 .&/-]")
BACS_NAME_LENGTH = 18
PAYMENT_FILE_COLUMNS = (
    "sort code",
    "account number",
    "account name",
    "amount",
    "payment reference",
)


def bacs_text(value: str, limit: int = BACS_NAME_LENGTH) -> str:
    """`value` in the Bacs character set: accents dropped, capitals, digits, space and
    . & / - only, starting with a letter or digit (so no spreadsheet reads a formula),
    cut to `limit` characters."""
    plain = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    text = _BACS_DISALLOWED.sub("", plain.upper())
    text = re.sub(r"\s+", " ", text).lstrip(" .&/-")
    return text[:limit].rstrip()


@sensitive_variables()
@transaction.atomic
def payment_file(*, batch_id: int, actor: Actor) -> tuple[str, str]:
    """The batch's pending payments as the CSV a bank's bulk-payment upload takes (see
    docs/payments.md), and its file name. The one export with full bank details: each
    claim in it gets a `payment_file_downloaded` audit event."""
    core.check_staff(actor, MANAGE)
    core.check_staff(actor, "claims.view_payment_details")
    batch = (
        PaymentBatch.objects.select_for_update()
        .select_related("scheme")
        .filter(pk=batch_id)
        .first()
    )
    if batch is None:
        raise ClaimError("There is no such payment batch.", code="not_found")
    payments = list(
        batch.payments.filter(state=Payment.State.PENDING)
        .select_related("claim__bank_details")
        .order_by("id")
    )
    if not payments:
        raise ClaimError(
            "Every payment in this batch is marked paid or failed: there is nothing to send.",
            code="nothing_to_pay",
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for payment in payments:
        full = _decrypt(payment.claim.bank_details)
        row = [
            full.sort_code,
            full.account_number,
            bacs_text(full.account_name),
            f"{payment.amount:.2f}",
            payment.claim.reference,
        ]
        writer.writerow([safe_cell(cell) for cell in row])
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            claim_id=payment.claim_id,
            action="payment_file_downloaded",
            actor_kind=ActorKind.STAFF,
            actor=actor.user,
            data={"batch": batch.pk, "payment": payment.pk},
            created_at=now,
        )
        for payment in payments
    )
    batch.file_downloaded_at = now
    batch.save(update_fields=["file_downloaded_at"])
    name = f"payments-{batch.scheme.slug}-batch-{batch.pk}-{timezone.localdate():%Y%m%d}.csv"
    return name, out.getvalue()


def _lock_pending_payment(payment_id: int) -> tuple[Payment, Claim]:
    # The payment row first, then its claim: two people marking one payment queue on
    # the payment, and the second finds it already decided.
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise ClaimError("There is no such payment.", code="not_found")
    claim = core.lock_claim(payment.claim_id)
    if payment.state == Payment.State.PAID:
        raise ClaimError(
            f"The payment to {claim.reference} is already marked paid.", code="already_paid"
        )
    if payment.state == Payment.State.FAILED:
        raise ClaimError(
            f"The payment to {claim.reference} is already marked failed.", code="already_failed"
        )
    return payment, claim


def _close_batch_when_done(batch_id: int) -> None:
    batch = PaymentBatch.objects.select_for_update().get(pk=batch_id)
    if not batch.payments.filter(state=Payment.State.PENDING).exists():
        batch.state = PaymentBatch.State.CLOSED
        batch.closed_at = timezone.now()
        batch.save(update_fields=["state", "closed_at"])


@transaction.atomic
def payment_mark_paid(*, payment_id: int, actor: Actor) -> Payment:
    """The bank paid it: the claim is paid, and its payment confirmation letter and
    status update are queued with the change."""
    core.check_staff(actor, MANAGE)
    payment, claim = _lock_pending_payment(payment_id)
    payment.state = Payment.State.PAID
    payment.decided_by = actor.user
    payment.decided_at = timezone.now()
    payment.save(update_fields=["state", "decided_by", "decided_at"])
    # A revised offer for a disputed part can be accepted from now: its date starts.
    core.revised_offers_open(claim, core.today())
    core.move(
        claim,
        "payment_confirm",
        actor,
        data={"batch": payment.batch_id, "payment": payment.pk, "amount": str(payment.amount)},
    )
    _close_batch_when_done(payment.batch_id)
    return payment


@transaction.atomic
def payment_mark_failed(*, payment_id: int, actor: Actor, reason: str) -> Payment:
    """The bank returned it: the claim goes back to accepted and the claimant is asked
    for new bank details; no batch takes it again until they give them."""
    core.check_staff(actor, MANAGE)
    payment, claim = _lock_pending_payment(payment_id)
    core.check_can(claim, "payment_fail", actor, reason)
    payment.state = Payment.State.FAILED
    payment.failure_reason = reason.strip()
    payment.decided_by = actor.user
    payment.decided_at = timezone.now()
    payment.save(update_fields=["state", "failure_reason", "decided_by", "decided_at"])
    core.move(
        claim,
        "payment_fail",
        actor,
        reason=reason,
        data={"batch": payment.batch_id, "payment": payment.pk, "amount": str(payment.amount)},
    )
    _close_batch_when_done(payment.batch_id)
    return payment
