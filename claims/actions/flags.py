"""Flags: what a caseworker should look at twice, found when a claim is submitted.

`claim_flags_check` finds a claim's flags just after its submission commits, out of the
claimant's request: `services.claim_submit` queues it (the `claim_flags_check` task) and
leaves `Claim.flags_checked_at` empty until it has run. If that task is lost (a broker
outage at commit, a worker killed mid-check), `claim_flags_sweep`, on beat every
minute, checks every claim submitted and still unchecked, so none is missed; a check
run twice finds the claim checked and does nothing. Each check judges the claim as of
its submission, so a late check finds what an immediate one would have found.

Each flag says why in words a caseworker can check; none decides anything. Shared
details are found through `ClaimMatchKey` digests (an index look-up, whatever the number
of claims), and a shared detail flags both claims, so whoever holds the earlier one
sees it too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import statistics
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.crypto import salted_hmac

from claims.domain.money import format_money
from claims.domain.references import normalise_postcode
from claims.models import Claim, ClaimFlag, ClaimMatchKey, HeadOfLoss

# Many claims from one network address in a short time: a script, or one person
# claiming for others. Households and offices share addresses, hence a margin.
NETWORK_WINDOW = dt.timedelta(hours=24)
NETWORK_LIMIT = 5
# "Far above typical": this many times the median of the scheme's recent claims,
# judged once there are enough of them; before that, against the approval threshold.
HIGH_AMOUNT_FACTOR = Decimal("5")
TYPICAL_SAMPLE = 200
TYPICAL_MINIMUM = 20
# A detail shared with more claims than this is flagged against the first few only.
MAX_RELATED = 5
# The sweep leaves a claim this long to its own task before checking it itself.
SWEEP_AFTER = dt.timedelta(seconds=30)
FLAGS_TASK = "claims.tasks.claim_flags_check"

_NOT_WORD = re.compile(r"[^0-9a-z]+")

_SHARED = {
    ClaimMatchKey.Kind.EMAIL: (ClaimFlag.Kind.SAME_EMAIL, "email address"),
    ClaimMatchKey.Kind.PHONE: (ClaimFlag.Kind.SAME_PHONE, "phone number"),
    ClaimMatchKey.Kind.ADDRESS: (ClaimFlag.Kind.SAME_ADDRESS, "address"),
    ClaimMatchKey.Kind.BANK_ACCOUNT: (ClaimFlag.Kind.SAME_BANK_ACCOUNT, "bank account"),
}


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def normalised_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("44"):
        digits = "0" + digits[2:]
    return digits if len(digits) >= 7 else ""


def normalised_address(address: str, postcode: str) -> str:
    words = _NOT_WORD.sub(" ", (address or "").lower()).strip()
    if not words:
        return ""
    return f"{words} {normalise_postcode(postcode).replace(' ', '').lower()}"


def _bank_digest(claim: Claim) -> str:
    from claims.domain import crypto

    details = getattr(claim, "bank_details", None)
    if details is None:
        return ""
    number = crypto.decrypt(details.sort_code_encrypted) + crypto.decrypt(
        details.account_number_encrypted
    )
    number = re.sub(r"\D", "", number)
    # Keyed: a copy of this table alone cannot be matched against a list of accounts.
    return salted_hmac("redress.claim_match_key.bank", number, algorithm="sha256").hexdigest()


def match_keys(claim: Claim) -> dict[str, str]:
    keys: dict[str, str] = {
        ClaimMatchKey.Kind.EMAIL: claim.email.strip().lower(),
        ClaimMatchKey.Kind.PHONE: normalised_phone(claim.phone),
        ClaimMatchKey.Kind.ADDRESS: normalised_address(claim.address, claim.postcode),
    }
    digests = {kind: _digest(kind, value) for kind, value in keys.items() if value}
    bank = _bank_digest(claim)
    if bank:
        digests[ClaimMatchKey.Kind.BANK_ACCOUNT] = bank
    return digests


@transaction.atomic
def claim_flags_check(*, claim_id: int) -> list[ClaimFlag] | None:
    """Find a submitted claim's flags and mark it checked. None, changing nothing, for a
    claim already checked, not submitted or gone."""
    claim = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("scheme")
        .filter(pk=claim_id)
        .first()
    )
    if claim is None or claim.submitted_at is None or claim.flags_checked_at is not None:
        return None
    flags = claim_flags_compute(claim)
    claim.flags_checked_at = timezone.now()
    # Not the claim's version: finding flags changes nothing a caseworker's form shows.
    claim.save(update_fields=["flags_checked_at"])
    return flags


def claim_flags_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Check each claim submitted more than SWEEP_AFTER ago whose flags were never found
    (its task lost to a broker outage or a worker crash). Returns how many it checked."""
    cutoff = (now or timezone.now()) - SWEEP_AFTER
    unchecked = list(
        Claim.objects.filter(
            submitted_at__isnull=False, flags_checked_at__isnull=True, submitted_at__lt=cutoff
        )
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(claim_flags_check(claim_id=pk) is not None for pk in unchecked)


def claim_flags_compute(claim: Claim) -> list[ClaimFlag]:
    """Flag a submitted claim (called by claim_flags_check, inside its transaction, with
    the claim locked). Returns the flags on this claim."""
    flags: list[ClaimFlag] = []
    reciprocal: list[ClaimFlag] = []

    if claim.register_entry_id is None:
        flags.append(
            ClaimFlag(
                claim=claim,
                kind=ClaimFlag.Kind.NOT_ON_REGISTER,
                reason=(
                    "The claimant said they had no notice; check they were affected."
                    if claim.no_notice
                    else "The claim is not matched to anyone on the register."
                ),
            )
        )

    _shared_detail_flags(claim, match_keys(claim), flags, reciprocal)

    if claim.submitted_ip and claim.submitted_at:
        since = claim.submitted_at - NETWORK_WINDOW
        same_network = list(
            Claim.objects.filter(
                submitted_ip=claim.submitted_ip,
                submitted_at__gte=since,
                submitted_at__lte=claim.submitted_at,
            ).values_list("pk", flat=True)[:1000]
        )
        if len(same_network) >= NETWORK_LIMIT:
            hours = int(NETWORK_WINDOW.total_seconds() // 3600)
            reason = (
                f"{len(same_network)}{'+' if len(same_network) == 1000 else ''} claims were "
                f"submitted from {claim.submitted_ip} in {hours} hours."
            )
            for pk in same_network:
                (flags if pk == claim.pk else reciprocal).append(
                    ClaimFlag(claim_id=pk, kind=ClaimFlag.Kind.MANY_FROM_NETWORK, reason=reason)
                )

    high = _high_amount_reason(claim)
    if high:
        flags.append(ClaimFlag(claim=claim, kind=ClaimFlag.Kind.HIGH_AMOUNT, reason=high))

    # A claim submitted again (after a retry) or a flag already on an earlier claim
    # is kept as it is.
    ClaimFlag.objects.bulk_create(flags + reciprocal, ignore_conflicts=True)
    return flags


def claim_flags_bank_account(claim: Claim) -> list[ClaimFlag]:
    """Flag a claim whose bank account another claim of the scheme also gave (called by
    services.bank_details_set: bank details arrive after an offer is accepted)."""
    digest = _bank_digest(claim)
    if not digest:
        return []
    flags: list[ClaimFlag] = []
    reciprocal: list[ClaimFlag] = []
    _shared_detail_flags(claim, {ClaimMatchKey.Kind.BANK_ACCOUNT: digest}, flags, reciprocal)
    ClaimFlag.objects.bulk_create(flags + reciprocal, ignore_conflicts=True)
    return flags


def _shared_detail_flags(
    claim: Claim, digests: dict[str, str], flags: list[ClaimFlag], reciprocal: list[ClaimFlag]
) -> None:
    ClaimMatchKey.objects.filter(claim=claim, kind__in=list(digests)).delete()
    ClaimMatchKey.objects.bulk_create(
        ClaimMatchKey(claim=claim, scheme_id=claim.scheme_id, kind=kind, digest=digest)
        for kind, digest in digests.items()
    )
    for kind, digest in digests.items():
        flag_kind, label = _SHARED[ClaimMatchKey.Kind(kind)]
        others = (
            ClaimMatchKey.objects.filter(scheme_id=claim.scheme_id, kind=kind, digest=digest)
            .exclude(claim=claim)
            .order_by("claim_id")
            .values_list("claim_id", "claim__reference")[:MAX_RELATED]
        )
        for other_id, other_reference in others:
            flags.append(
                ClaimFlag(
                    claim=claim,
                    kind=flag_kind,
                    related_claim_id=other_id,
                    reason=f"Same {label} as {other_reference}.",
                )
            )
            reciprocal.append(
                ClaimFlag(
                    claim_id=other_id,
                    kind=flag_kind,
                    related_claim=claim,
                    reason=f"Same {label} as {claim.reference}, which came later.",
                )
            )


def _high_amount_reason(claim: Claim) -> str:
    total = HeadOfLoss.objects.filter(claim=claim).aggregate(total=Sum("amount_claimed"))[
        "total"
    ] or Decimal("0")
    recent = list(
        Claim.objects.filter(scheme_id=claim.scheme_id, submitted_at__lte=claim.submitted_at)
        .exclude(pk=claim.pk)
        .order_by("-submitted_at")
        .values_list("pk", flat=True)[:TYPICAL_SAMPLE]
    )
    if len(recent) >= TYPICAL_MINIMUM:
        totals = [
            row["total"]
            for row in HeadOfLoss.objects.filter(claim_id__in=recent)
            .values("claim_id")
            .annotate(total=Sum("amount_claimed"))
            .order_by()
        ]
        typical = statistics.median(totals) if totals else Decimal("0")
        if typical > 0 and total > HIGH_AMOUNT_FACTOR * typical:
            times = (total / typical).quantize(Decimal("1"))
            return (
                f"Claims {format_money(total)}, {times}× the typical claim "
                f"({format_money(typical)}, the median of the last {len(recent)})."
            )
        return ""
    ceiling = HIGH_AMOUNT_FACTOR * claim.scheme.offer_approval_threshold
    if total > ceiling:
        return (
            f"Claims {format_money(total)}, more than {format_money(ceiling)} "
            f"({HIGH_AMOUNT_FACTOR}× the approval threshold; too few claims yet to judge "
            "what is typical)."
        )
    return ""
