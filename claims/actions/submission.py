"""The claimant's writes: starting a claim; the draft's answers, losses, evidence and
bank details; submitting it, answering a request for information, withdrawing."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from claims import core
from claims.actions.flags import FLAGS_TASK, claim_flags_bank_account
from claims.core import Actor, ClaimError, parse_hours
from claims.domain.addresses import address_problem
from claims.domain.lost_time import lost_time_amount
from claims.domain.references import normalise_postcode
from claims.domain.stages import TRANSITIONS, ActorKind, Stage
from claims.models import BankDetails, Claim, Evidence, HeadOfLoss, Message, Scheme
from claims.outbox import (
    publish_on_commit,
    published_together,
    status_update_add,
)

_REFERENCE_ATTEMPTS = 3


@transaction.atomic
def claim_start(
    *,
    scheme: Scheme,
    full_name: str,
    email: str,
    phone: str = "",
    address: str = "",
    postcode: str = "",
    register_entry_id: int | None = None,
    no_notice: bool = False,
    today: dt.date | None = None,
) -> Claim:
    """Open a draft claim for a claimant."""
    today = today or core.today()
    if not scheme.is_open_on(today):
        raise ClaimError(
            f"This scheme accepts claims from {scheme.claims_open:%-d %B %Y} "
            f"to {scheme.claims_close:%-d %B %Y}.",
            code="outside_claim_window",
        )
    full_name = (full_name or "").strip()
    if not full_name:
        raise ClaimError("Enter your full name.", code="required")
    if not (email or "").strip():
        raise ClaimError("Enter your email address.", code="required")
    if problem := address_problem(email):
        raise ClaimError(problem, code="invalid_email")
    if register_entry_id is not None:
        if not scheme.register.filter(pk=register_entry_id).exists():
            raise ClaimError("That register entry is not part of this scheme.", code="invalid")
        # One notice, one claim: a second would pay the same person twice.
        if (
            Claim.objects.filter(register_entry_id=register_entry_id)
            .exclude(stage=Stage.WITHDRAWN)
            .exists()
        ):
            raise ClaimError(
                "A claim has already been made with this notice code.", code="already_claimed"
            )
    fields = {
        "scheme": scheme,
        "full_name": full_name,
        "email": email.strip(),
        "phone": phone.strip(),
        "address": address.strip(),
        "postcode": normalise_postcode(postcode),
        "register_entry_id": register_entry_id,
        "no_notice": no_notice,
    }
    # References are random: a collision is one in 10^12 per claim, but a claimant
    # must never see an error for it, so draw again.
    for attempt in range(_REFERENCE_ATTEMPTS):
        try:
            with transaction.atomic():
                claim = Claim.objects.create(**fields)
            break
        except IntegrityError:
            if attempt == _REFERENCE_ATTEMPTS - 1:
                raise
    core.record(claim, action="start", actor=Actor.claimant(claim.pk), to_stage=Stage.DRAFT)
    return claim


def _head_values(
    scheme: Scheme,
    category: str,
    *,
    amount_claimed: object,
    description: str,
    incurred_on: dt.date | None,
    hours: object,
    today: dt.date,
) -> dict[str, Any]:
    """Check a head of loss's answers; the fields to store. Time spent is priced from hours."""
    if category not in HeadOfLoss.Category.values:
        raise ClaimError("Choose what kind of loss this is.", code="invalid_category")
    if incurred_on is not None:
        if incurred_on > today:
            raise ClaimError(
                "The date cannot be in the future: enter today’s date or an earlier one.",
                code="invalid_date",
            )
        if incurred_on < scheme.breach_start:
            raise ClaimError(
                f"The date must be on or after the breach began ({scheme.breach_start:%-d %B %Y}).",
                code="invalid_date",
            )
    hours_value: Decimal | None = None
    if category == HeadOfLoss.Category.TIME_SPENT:
        hours_value = parse_hours(hours)
        # Claimed up to the highest cap; the assessor applies the lower one when
        # there is no evidence (see head_of_loss_assess).
        amount = lost_time_amount(scheme, hours_value, with_evidence=True)
    elif category == HeadOfLoss.Category.DISTRESS:
        # A claimant describes distress in words; the award comes from the scheme's bands.
        amount = core.parse_amount(
            amount_claimed if amount_claimed not in (None, "") else "0", "Amount"
        )
    else:
        amount = core.parse_amount(amount_claimed, "Amount", allow_zero=False)
    return {
        "amount_claimed": amount,
        "description": (description or "").strip(),
        "incurred_on": incurred_on,
        "hours": hours_value,
    }


@transaction.atomic
def head_of_loss_add(
    *,
    claim_id: int,
    actor: Actor,
    category: str,
    amount_claimed: object = None,
    description: str = "",
    incurred_on: dt.date | None = None,
    hours: object = None,
    today: dt.date | None = None,
) -> HeadOfLoss:
    """Add one line of loss to a draft claim."""
    claim = _lock_draft(claim_id, actor)
    values = _head_values(
        claim.scheme,
        category,
        amount_claimed=amount_claimed,
        description=description,
        incurred_on=incurred_on,
        hours=hours,
        today=today or core.today(),
    )
    head = HeadOfLoss.objects.create(claim=claim, category=category, **values)
    core.touch(claim)
    core.record(
        claim,
        action="add_head",
        actor=actor,
        data={
            "head_of_loss": head.pk,
            "category": category,
            "amount_claimed": str(head.amount_claimed),
        },
    )
    return head


# What claim_submit reads of the claim and its scheme; every field it writes, it sets.
_SUBMIT_READS = (
    "stage",
    "version",
    "personal_data_erased_at",
    "scheme__claims_open",
    "scheme__claims_close",
)


@transaction.atomic
def claim_submit(
    *,
    claim_id: int,
    actor: Actor,
    statement_of_truth: bool,
    today: dt.date | None = None,
    ip_address: str | None = None,
) -> Claim:
    """Submit a draft: the claim locked, each rule checked in turn, and any refusal
    explained. `ip_address` is where the claimant submitted from: many claims from one
    address in a short time is flagged for a caseworker. Flags are found just after
    this commits, out of the claimant's request (claims.actions.flags)."""
    today = today or core.today()
    claim = core.lock_claim(claim_id, only=_SUBMIT_READS)
    if claim.stage == Stage.SUBMITTED and actor.kind == ActorKind.CLAIMANT:
        # A double click or a repeated POST finds the claim already submitted.
        core.check_actor(claim, actor, TRANSITIONS["submit"])
        return claim
    core.check_can(claim, "submit", actor)
    _check_not_erased(claim)
    if not statement_of_truth:
        raise ClaimError(
            "Confirm that the information you have given is true.", code="statement_of_truth"
        )
    if not claim.scheme.is_open_on(today):
        raise ClaimError(
            f"The claim window closed on {claim.scheme.claims_close:%-d %B %Y}.",
            code="outside_claim_window",
        )
    claim.submitted_at = timezone.now()
    claim.submitted_ip = ip_address or None
    # Checked by the UPDATE that submits the claim, a round trip fewer than a query of
    # its own. Not by the locking SELECT: a subquery there sees the database as it was
    # before any wait for the lock, so the removal of the last head of loss by a request
    # that held the lock would go unseen. The UPDATE starts after the lock is ours.
    has_heads = Exists(HeadOfLoss.objects.filter(claim=OuterRef("pk")))
    no_heads = ClaimError("Add at least one thing you are claiming for.", code="no_heads_of_loss")
    # The acknowledgement, its letter and the flag check: one message to the broker.
    with published_together():
        core.move(
            claim,
            "submit",
            actor,
            extra_fields=("submitted_at", "submitted_ip"),
            only_if=(has_heads, no_heads),
        )
        publish_on_commit(FLAGS_TASK, claim.pk)
    return claim


@transaction.atomic
def claim_provide_information(*, claim_id: int, actor: Actor, response: str) -> Claim:
    claim = core.lock_claim(claim_id)
    core.check_can(claim, "information_provide", actor)
    response = (response or "").strip()
    if not response:
        raise ClaimError("Tell us the information we asked for.", code="required")
    claim.information_due = None
    event = core.move(
        claim, "information_provide", actor, reason=response, extra_fields=("information_due",)
    )
    Message.objects.create(
        claim=claim, direction=Message.Direction.FROM_CLAIMANT, body=response, event=event
    )
    return claim


@transaction.atomic
def claim_withdraw(*, claim_id: int, actor: Actor, reason: str = "") -> Claim:
    claim = core.lock_claim(claim_id)
    core.move(claim, "withdraw", actor, reason=reason)
    return claim


DRAFT_PAGES = ("contact", "representative", "what-happened", "losses", "distress", "support")


DETAIL_FIELDS = {
    "contact": ("full_name", "email", "phone", "address", "postcode"),
    "representative": ("representative_name", "representative_reason"),
    "what-happened": ("what_happened",),
    "support": ("support_needs", "preferred_format", "preferred_language"),
}


def _lock_draft(claim_id: int, actor: Actor) -> Claim:
    claim = core.lock_claim(claim_id)
    if actor.kind != ActorKind.CLAIMANT or actor.claim_id != claim.pk:
        raise ClaimError("There is no such claim.", code="not_found")
    if claim.stage != Stage.DRAFT:
        raise ClaimError("A claim can only be changed before it is submitted.", code="not_draft")
    _check_not_erased(claim)
    return claim


def _check_not_erased(claim: Claim) -> None:
    if claim.personal_data_erased_at is not None:
        raise ClaimError(
            "This claim was erased, so it can no longer be changed or sent. "
            "Start a new claim if you still want to claim.",
            code="erased",
        )


def _mark_answered(claim: Claim, page: str) -> None:
    if page not in claim.answered_pages:
        claim.answered_pages = [*claim.answered_pages, page]


@transaction.atomic
def claim_update_details(*, claim_id: int, actor: Actor, page: str, **values: str) -> Claim:
    """Save one page of the claim form. Forms validate the values; this keeps the
    rule that only the claimant changes a draft, and only while it is a draft."""
    claim = _lock_draft(claim_id, actor)
    allowed = DETAIL_FIELDS.get(page)
    if allowed is None or set(values) - set(allowed):
        raise ClaimError("That is not part of this page.", code="invalid")
    if "email" in values and (problem := address_problem(values["email"])):
        raise ClaimError(problem, code="invalid_email")
    for field, value in values.items():
        setattr(claim, field, normalise_postcode(value) if field == "postcode" else value.strip())
    _mark_answered(claim, page)
    core.touch(claim, *values, "answered_pages")
    core.record(claim, action="update_details", actor=actor, data={"page": page})
    return claim


@transaction.atomic
def claim_mark_answered(*, claim_id: int, actor: Actor, page: str) -> Claim:
    """Record that a page with no fields of its own (e.g. the list of losses) is done."""
    claim = _lock_draft(claim_id, actor)
    if page not in DRAFT_PAGES:
        raise ClaimError("That is not part of the claim form.", code="invalid")
    _mark_answered(claim, page)
    core.touch(claim, "answered_pages")
    return claim


@transaction.atomic
def head_of_loss_change(
    *,
    head_id: int,
    actor: Actor,
    amount_claimed: object = None,
    description: str = "",
    incurred_on: dt.date | None = None,
    hours: object = None,
    today: dt.date | None = None,
) -> HeadOfLoss:
    """Replace a draft head of loss's answers, with the same checks as adding one."""
    claim_id = HeadOfLoss.objects.filter(pk=head_id).values_list("claim_id", flat=True).first()
    if claim_id is None:
        raise ClaimError("There is no such item.", code="not_found")
    claim = _lock_draft(claim_id, actor)
    head = claim.heads_of_loss.get(pk=head_id)
    values = _head_values(
        claim.scheme,
        head.category,
        amount_claimed=amount_claimed,
        description=description,
        incurred_on=incurred_on,
        hours=hours,
        today=today or core.today(),
    )
    for field, value in values.items():
        setattr(head, field, value)
    head.save(update_fields=list(values))
    core.touch(claim)
    core.record(
        claim,
        action="change_head",
        actor=actor,
        data={"head_of_loss": head.pk, "amount_claimed": str(head.amount_claimed)},
    )
    return head


@transaction.atomic
def head_of_loss_remove(*, head_id: int, actor: Actor) -> None:
    claim_id = HeadOfLoss.objects.filter(pk=head_id).values_list("claim_id", flat=True).first()
    if claim_id is None:
        raise ClaimError("There is no such item.", code="not_found")
    claim = _lock_draft(claim_id, actor)
    head = HeadOfLoss.objects.get(pk=head_id)
    for evidence in head.evidence.all():
        # Files go once the removal commits: a rollback must not leave rows without files.
        name = evidence.file.name
        evidence.delete()
        transaction.on_commit(functools.partial(Evidence.file.field.storage.delete, name))
    core.record(
        claim,
        action="remove_head",
        actor=actor,
        data={"category": head.category, "amount_claimed": str(head.amount_claimed)},
    )
    head.delete()
    core.touch(claim)


@transaction.atomic
def distress_set(
    *, claim_id: int, actor: Actor, affected: bool, effects: list[str], account: str
) -> HeadOfLoss | None:
    """The claimant's own account of distress: one head of loss, or none if not affected."""
    claim = _lock_draft(claim_id, actor)
    existing = claim.heads_of_loss.filter(category=HeadOfLoss.Category.DISTRESS).first()
    head: HeadOfLoss | None = None
    if affected:
        account = (account or "").strip()
        if not account and not effects:
            raise ClaimError(
                "Tell us how the breach affected you, or choose at least one of the effects.",
                code="required",
            )
        head = existing or HeadOfLoss(
            claim=claim, category=HeadOfLoss.Category.DISTRESS, amount_claimed=Decimal("0.00")
        )
        head.description = account
        head.details = {"effects": list(effects)}
        head.save()
    elif existing is not None:
        existing.delete()
    _mark_answered(claim, "distress")
    core.touch(claim, "answered_pages")
    core.record(claim, action="update_details", actor=actor, data={"page": "distress"})
    return head


@transaction.atomic
def evidence_add(
    *,
    claim_id: int,
    actor: Actor,
    upload: Any,
    head_of_loss_id: int | None = None,
    message_id: int | None = None,
) -> Evidence:
    """Store one checked upload (see claims.domain.uploads) under a generated name."""
    from django.core.files.base import ContentFile

    from claims.domain.uploads import MAX_FILES_PER_CLAIM, UploadError, check_upload

    claim = core.lock_claim(claim_id)
    if actor.kind != ActorKind.CLAIMANT or actor.claim_id != claim.pk:
        raise ClaimError("There is no such claim.", code="not_found")
    if claim.stage not in (Stage.DRAFT, Stage.INFORMATION_REQUESTED):
        raise ClaimError(
            "Files can be added while you make your claim or when we ask for them.",
            code="not_accepting_files",
        )
    if claim.evidence.count() >= MAX_FILES_PER_CLAIM:
        raise ClaimError(
            f"A claim can have at most {MAX_FILES_PER_CLAIM} files. Remove one to add another, "
            "or combine pages into one PDF.",
            code="too_many_files",
        )
    if head_of_loss_id is not None and not claim.heads_of_loss.filter(pk=head_of_loss_id).exists():
        raise ClaimError("There is no such item.", code="not_found")
    try:
        checked = check_upload(upload)
    except UploadError as error:
        raise ClaimError(str(error), code="invalid_file") from None
    evidence = Evidence(
        claim=claim,
        head_of_loss_id=head_of_loss_id,
        message_id=message_id,
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=len(checked.data),
        sha256=Evidence.checksum(checked.data),
    )
    evidence.file.save("upload", ContentFile(checked.data), save=False)
    evidence.save()
    core.touch(claim)
    core.record(
        claim,
        action="add_evidence",
        actor=actor,
        data={"evidence": evidence.pk, "size": evidence.size, "type": evidence.content_type},
    )
    return evidence


@transaction.atomic
def evidence_remove(*, evidence_id: int, actor: Actor) -> None:
    claim_id = Evidence.objects.filter(pk=evidence_id).values_list("claim_id", flat=True).first()
    if claim_id is None:
        raise ClaimError("There is no such file.", code="not_found")
    claim = _lock_draft(claim_id, actor)
    evidence = Evidence.objects.get(pk=evidence_id)
    name = evidence.file.name
    evidence.delete()
    core.touch(claim)
    core.record(claim, action="remove_evidence", actor=actor, data={"evidence": evidence_id})
    transaction.on_commit(lambda: Evidence.file.field.storage.delete(name))


_SORT_CODE = re.compile(r"\d{6}", re.ASCII)


_ACCOUNT_NUMBER = re.compile(r"\d{8}", re.ASCII)


# Every frame under this one hides its variables in error reports: the arguments
# pass through transaction.atomic's wrapper, whose frame would show them.
@sensitive_variables()
@transaction.atomic
def bank_details_set(
    *, claim_id: int, actor: Actor, account_name: str, sort_code: str, account_number: str
) -> BankDetails:
    """Where to pay an accepted offer. Stored encrypted; only the last four digits stay
    readable. Never logged, never passed to a task.

    A change to details already given holds payment until a caseworker confirms it
    (claims.actions.payments.bank_details_confirm) and is told to the claimant, at the address
    they had when they first gave details too: changed details are how payments are
    diverted."""
    from claims.domain import crypto

    claim = core.lock_claim(claim_id)
    if actor.kind != ActorKind.CLAIMANT or actor.claim_id != claim.pk:
        raise ClaimError("There is no such claim.", code="not_found")
    if claim.stage != Stage.ACCEPTED:
        raise ClaimError(
            "Bank details are taken once you have accepted an offer.", code="not_accepted"
        )
    sort_code = re.sub(r"[\s\-]", "", sort_code or "")
    account_number = re.sub(r"\s", "", account_number or "")
    account_name = (account_name or "").strip()
    if not account_name:
        raise ClaimError("Enter the name on the account.", code="required")
    if not _SORT_CODE.fullmatch(sort_code):
        raise ClaimError("Enter a sort code of 6 digits, like 30-94-57.", code="invalid_sort_code")
    if not _ACCOUNT_NUMBER.fullmatch(account_number):
        raise ClaimError("Enter an account number of 8 digits.", code="invalid_account_number")
    values = {
        "account_name": account_name,
        "sort_code_encrypted": crypto.encrypt(sort_code),
        "account_number_encrypted": crypto.encrypt(account_number),
        "account_number_last4": account_number[-4:],
    }
    details = BankDetails.objects.select_for_update().filter(claim=claim).first()
    created = details is None
    if details is None:
        details = BankDetails.objects.create(claim=claim, email_when_given=claim.email, **values)
    else:
        for field, value in values.items():
            setattr(details, field, value)
        details.on_hold = True
        details.changed_at = timezone.now()
        details.confirmed_by = None
        details.confirmed_at = None
        details.save()
    core.touch(claim)
    claim_flags_bank_account(claim)
    event = core.record(
        claim,
        action="bank_details_given" if created else "bank_details_changed",
        actor=actor,
        data={"account": details.masked_account_number, "last4": details.account_number_last4},
    )
    if not created:
        addresses = [claim.email]
        if details.email_when_given and details.email_when_given.lower() != claim.email.lower():
            addresses.append(details.email_when_given)
        for address in addresses:
            status_update_add(
                claim=claim,
                event=event,
                kind="bank_details_changed",
                stage=claim.stage,
                recipient="" if address == claim.email else address,
            )
    return details
