"""Letters to claimants: what each says, when one is made, and how it is kept.

Six kinds (`LetterKind`): acknowledgement, information request, settlement offer,
decision (a rejection, with reasons and the review route), review outcome and
payment confirmation. Each comes from templates/letters/<kind>.html, rendered with
Django's autoescape: claimant text is never marked safe, so `<img src=...>` or
`{{ settings.SECRET_KEY }}` in a name prints as those characters. The PDF itself
(WeasyPrint, the URL allowlist, the time limit, PDF/A and PDF/UA) is claims.delivery.letter_pdf.

Which change makes which letter (`AUTOMATIC_LETTERS`): the service that moves a claim
calls `letters_for_transition` in its transaction; that writes a `LetterRequest` (the
letters outbox) and queues it on the `letters` queue once the transaction commits.
`letter_generate` then makes the letter exactly once, however often it is delivered,
and stores it as a new, never-changed `Letter` version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from claims.delivery.letter_pdf import LetterAssetRefused, LetterError, LetterTimeout, renderer
from claims.domain.letters import TITLES
from claims.domain.money import format_money
from claims.domain.stages import REJECTION_REVIEW_WORKING_DAYS, LetterKind
from claims.domain.workdays import add_working_days
from claims.models import (
    AuditEvent,
    BankDetails,
    Claim,
    HeadOfLoss,
    Letter,
    LetterRequest,
    Message,
    Offer,
)
from claims.outbox import LETTER_TASK

if TYPE_CHECKING:
    from claims.models import Scheme

log = logging.getLogger(__name__)

# How long a rejected claimant has to ask us to look again (decision letters), from the
# day of the rejection: the rule is claims.core.rejection_review_by's.
REVIEW_REQUEST_WORKING_DAYS = REJECTION_REVIEW_WORKING_DAYS
# Claimant text quoted in a letter (a head of loss's description) is cut to this length:
# the letter is about the decision, and a megabyte of text must not become 400 pages.
QUOTE_LIMIT = 300
# A reason or question staff wrote for the claimant is printed in full up to this.
TEXT_LIMIT = 4000


# --- What each letter says ---------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _incident_name(scheme: Scheme) -> str:
    name = scheme.name.strip()
    for suffix in (" compensation scheme", " scheme"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _base_context(claim: Claim, kind: str, today: dt.date) -> dict[str, Any]:
    scheme = claim.scheme
    return_address = ", ".join(
        line.strip() for line in scheme.letter_return_address.splitlines() if line.strip()
    )
    footer = " · ".join(part for part in (scheme.organisation, return_address) if part)
    my_claim_url = f"{settings.SITE_URL}/my-claim/"
    return {
        "kind": kind,
        "kind_label": LetterKind(kind).label,
        "title": TITLES[kind],
        "reference": claim.reference,
        "date": today,
        "created_iso": timezone.now().replace(microsecond=0).isoformat(),
        "name": claim.full_name,
        "address_lines": [line.strip() for line in claim.address.splitlines() if line.strip()],
        "postcode": claim.postcode,
        "scheme_name": scheme.name,
        "incident_name": _incident_name(scheme),
        "organisation": scheme.organisation,
        "author": scheme.organisation or scheme.name,
        "contact_phone": scheme.contact_phone,
        "contact_email": scheme.contact_email,
        "return_address": return_address,
        "footer": footer,
        "my_claim_url": my_claim_url,
        "my_claim_display": my_claim_url.split("://", 1)[-1],
        "accept_by_working_days": scheme.accept_by_working_days,
        "cure_window_working_days": scheme.cure_window_working_days,
    }


def _offer_for(claim: Claim, event: AuditEvent | None) -> Offer:
    offers = claim.offers.filter(made_at__isnull=False)
    version = (event.data or {}).get("offer_version") if event is not None else None
    offer = (
        offers.filter(version=version).first() if version is not None else None
    ) or offers.order_by("-version").first()
    if offer is None:
        raise LetterError(f"{claim.reference} has no offer made to the claimant.")
    return offer


def offer_figures(offer: Offer) -> dict[str, Any]:
    """The offer as the letter prints it, checked to the penny: the total printed is the
    sum of the amounts offered for each head of loss, distress included, and must be the
    offer's own total, or no letter is made."""
    items = list(
        offer.items.select_related("head_of_loss__distress_band", "distress_band").order_by("id")
    )
    if not items:
        raise LetterError(f"Offer {offer} has no items.")
    rows: list[dict[str, Any]] = []
    for item in items:
        head = item.head_of_loss
        distress = item.category == HeadOfLoss.Category.DISTRESS
        label = item.get_category_display()
        band = item.distress_band or head.distress_band
        if distress and band is not None:
            label = f"Distress ({band.name.lower()} band)"
        elif head.hours is not None:
            label = f"{label} ({head.hours.normalize():f} hours)"
        why = ""
        if distress:
            why = _cut(item.reason, TEXT_LIMIT)
        elif item.amount_offered != item.amount_claimed:
            why = _cut(item.reason, TEXT_LIMIT) or "We could not allow the full amount."
        rows.append(
            {
                "label": label,
                "description": _cut(head.description, QUOTE_LIMIT),
                "claimed": "Not a set amount"
                if distress and not item.amount_claimed
                else format_money(item.amount_claimed),
                "offered": format_money(item.amount_offered),
                "why": why,
                "why_label": "How we decided the award"
                if distress
                else "Why the amount is different",
                "distress": distress,
            }
        )
    total = sum((item.amount_offered for item in items), Decimal("0.00"))
    if total != offer.total:
        raise LetterError(
            f"Offer {offer}: its items add up to {format_money(total)}, not "
            f"{format_money(offer.total)}. No letter was made."
        )
    distress_total = sum(
        (item.amount_offered for item in items if item.category == HeadOfLoss.Category.DISTRESS),
        Decimal("0.00"),
    )
    losses_total = total - distress_total
    if distress_total and losses_total:
        summary = (
            f"{format_money(losses_total)} for your financial losses and "
            f"{format_money(distress_total)} for distress."
        )
    elif distress_total:
        summary = f"{format_money(distress_total)} for distress."
    else:
        summary = f"{format_money(losses_total)} for your financial losses."
    return {
        "items": rows,
        "total": format_money(total),
        "total_amount": total,
        "claimed_total": format_money(sum((i.amount_claimed for i in items), Decimal("0.00"))),
        "losses_total": format_money(losses_total),
        "distress": format_money(distress_total) if distress_total else "",
        "summary": summary,
        "accept_by": offer.accept_by,
        "version": offer.version,
    }


def letter_context(
    claim: Claim, kind: str, *, event: AuditEvent | None = None, today: dt.date | None = None
) -> tuple[dict[str, Any], Offer | None]:
    """What the template for `kind` prints for `claim`, and the offer it sets out, if any.
    `event` is the change the letter is about (its reason, its offer version)."""
    today = today or timezone.localdate()
    context = _base_context(claim, kind, today)
    offer: Offer | None = None
    if kind == LetterKind.ACKNOWLEDGEMENT:
        heads = list(claim.heads_of_loss.order_by("id"))
        context["heads"] = [
            {
                "label": head.get_category_display(),
                "description": _cut(head.description, QUOTE_LIMIT),
                "claimed": "Not a set amount"
                if head.category == HeadOfLoss.Category.DISTRESS and not head.amount_claimed
                else format_money(head.amount_claimed),
            }
            for head in heads
        ]
        context["claimed_total"] = format_money(
            sum((h.amount_claimed for h in heads), Decimal("0.00"))
        )
        context["has_distress"] = any(h.category == HeadOfLoss.Category.DISTRESS for h in heads)
        context["submitted_on"] = timezone.localdate(claim.submitted_at or timezone.now())
    elif kind == LetterKind.INFORMATION_REQUEST:
        messages = claim.messages.filter(direction=Message.Direction.TO_CLAIMANT)
        message = (messages.filter(event=event).first() if event is not None else None) or (
            messages.order_by("-created_at", "-id").first()
        )
        question = message.body if message is not None else (event.reason if event else "")
        due = (event.data or {}).get("due") if event is not None else None
        context["question"] = _cut(question, TEXT_LIMIT)
        context["due"] = dt.date.fromisoformat(due) if due else claim.information_due
        if context["due"] is None:
            raise LetterError(f"{claim.reference} has no date to answer by.")
    elif kind == LetterKind.REVIEW_OUTCOME and event is not None and event.action in PART_REVIEW:
        _part_review_context(claim, event, context)
        if event.action in PART_REVIEW_REVISED:
            offer = _offer_for(claim, event)
            context["offer"] = offer_figures(offer)
    elif kind in {LetterKind.SETTLEMENT_OFFER, LetterKind.REVIEW_OUTCOME}:
        upheld = kind == LetterKind.REVIEW_OUTCOME and (
            event is not None and event.action in {"review_uphold", "rejection_review_uphold"}
        )
        context["upheld"] = upheld
        context["rejection"] = event is not None and event.action == "rejection_review_uphold"
        if kind == LetterKind.REVIEW_OUTCOME:
            context["reason"] = _cut(event.reason if event is not None else "", TEXT_LIMIT)
        if upheld:
            latest = claim.offers.filter(made_at__isnull=False).order_by("-version").first()
            context["previous_total"] = format_money(latest.total) if latest else ""
        else:
            offer = _offer_for(claim, event)
            context["offer"] = offer_figures(offer)
            if kind == LetterKind.REVIEW_OUTCOME:
                earlier = (
                    claim.offers.filter(made_at__isnull=False, version__lt=offer.version)
                    .order_by("-version")
                    .first()
                )
                context["previous_total"] = format_money(earlier.total) if earlier else ""
    elif kind == LetterKind.DECISION:
        context["reason"] = _cut(event.reason if event is not None else "", TEXT_LIMIT)
        context["breach_start"] = claim.scheme.breach_start
        context["breach_end"] = claim.scheme.breach_end
        rejected_on = timezone.localdate(event.created_at) if event is not None else today
        context["review_by"] = add_working_days(rejected_on, REVIEW_REQUEST_WORKING_DAYS)
        context["review_working_days"] = REVIEW_REQUEST_WORKING_DAYS
    elif kind == LetterKind.PAYMENT_CONFIRMATION:
        from claims.queries.partial import accepted_amount, accepted_offer

        # What was paid: the accepted items of the accepted offer (claims.queries.partial).
        paid_offer = accepted_offer(claim)
        offer = paid_offer or _offer_for(claim, None)
        accepted = (
            claim.events.filter(action__in=ACCEPTING_ACTIONS).order_by("-created_at", "-id").first()
        )
        bank = BankDetails.objects.filter(claim=claim).first()
        paid_at = event.created_at if event is not None else timezone.now()
        # What was paid (claims.actions.payments.payable_amount, kept on the payment row).
        payment = claim.payments.filter(state="paid").order_by("-decided_at", "-id").first()
        context.update(
            amount=format_money(
                payment.amount
                if payment
                else accepted_amount(paid_offer)
                if paid_offer
                else offer.total
            ),
            paid_on=timezone.localdate(paid_at),
            accepted_on=timezone.localdate(accepted.created_at) if accepted else None,
            # As everywhere, only the last four digits of the account number.
            account=payment.account_last4 if payment else bank.account_number_last4 if bank else "",
            account_name=bank.account_name if bank else "",
        )
    else:
        raise LetterError(f"There is no letter called {kind!r}.")
    return context, offer


PART_REVIEW_REVISED = frozenset({"part_review_revise", "part_review_approve"})
PART_REVIEW = frozenset({*PART_REVIEW_REVISED, "part_review_uphold"})
ACCEPTING_ACTIONS = ("offer_accept", "offer_accept_part", "revised_offer_accept")


def _part_review_context(claim: Claim, event: AuditEvent, context: dict[str, Any]) -> None:
    """The outcome of a review of the items a claimant disputed: which they were, what
    we offered for them, and the part they accepted, which is paid either way."""
    from claims.domain.stages import ItemResponse
    from claims.models import Review
    from claims.queries.partial import accepted_before

    review_id = (event.data or {}).get("review") or 0
    review = Review.objects.filter(pk=review_id, claim=claim).select_related("offer").first()
    if review is None:
        raise LetterError(f"{claim.reference}: the review this letter is about is missing.")
    disputed = list(review.offer.items.filter(response=ItemResponse.DISPUTED).order_by("id"))
    context.update(
        part=True,
        upheld=event.action == "part_review_uphold",
        reason=_cut(event.reason, TEXT_LIMIT),
        disputed=[
            {
                "label": item.get_category_display(),
                "offered": format_money(item.amount_offered),
                "why": _cut(item.dispute_reason, QUOTE_LIMIT),
            }
            for item in disputed
        ],
        previous_total=format_money(sum((i.amount_offered for i in disputed), Decimal("0.00"))),
        accepted_total=format_money(accepted_before(review)),
    )


def letter_html(kind: str, context: dict[str, Any]) -> str:
    # The template name comes from our own list of kinds, never from input.
    return render_to_string(f"letters/{LetterKind(kind).value}.html", context)


# --- Rendering: WeasyPrint, loaded once per process ----------------------------------


@dataclass(frozen=True)
class RenderedLetter:
    kind: str
    pdf: bytes
    html: str
    template_version: str
    offer: Offer | None
    # The URLs the fetcher was asked for while rendering this letter.
    fetched: tuple[str, ...]


def render_letter(
    claim: Claim, kind: str, *, event: AuditEvent | None = None, today: dt.date | None = None
) -> RenderedLetter:
    """The PDF for one letter, not stored. See `letter_generate` for the stored kind."""
    engine = renderer()
    context, offer = letter_context(claim, kind, event=event, today=today)
    context["template_version"] = engine.template_version
    logo = engine.logo(claim.scheme)
    context["logo_url"] = logo.url if logo is not None else ""
    html = letter_html(kind, context)
    pdf, fetched = engine.pdf(html, logo=logo)
    return RenderedLetter(
        kind=kind,
        pdf=pdf,
        html=html,
        template_version=engine.template_version,
        offer=offer,
        fetched=tuple(fetched),
    )


# --- Requests, generation and storage -------------------------------------------------


def letter_batch_queue(batch_id: int) -> int:
    """Queue each pending request of a batch on the letters queue. Returns how many."""
    from claims.outbox import publish

    ids = LetterRequest.objects.filter(
        batch_id=batch_id, state=LetterRequest.State.PENDING
    ).values_list("pk", flat=True)
    return sum(publish(LETTER_TASK, pk) for pk in ids.iterator(chunk_size=1000))


def _store(request: LetterRequest, rendered: RenderedLetter) -> Letter:
    """Save the PDF under a new name and record it as the next version. The caller holds
    the claim's row lock, so two letters of one kind never get one version number."""
    last = (
        Letter.objects.filter(claim_id=request.claim_id, kind=request.kind).aggregate(
            v=Max("version")
        )["v"]
        or 0
    )
    letter = Letter(
        claim_id=request.claim_id,
        kind=request.kind,
        version=last + 1,
        size=len(rendered.pdf),
        sha256=hashlib.sha256(rendered.pdf).hexdigest(),
        template_version=rendered.template_version,
        event_id=request.event_id,
        offer=rendered.offer,
    )
    letter.file.save("letter.pdf", ContentFile(rendered.pdf), save=False)
    try:
        letter.save()
    except Exception:
        letter.file.storage.delete(letter.file.name)
        raise
    return letter


class Outcome:
    MADE = "made"
    ALREADY_DONE = "already_done"
    MISSING = "missing"
    RETRY = "retry"
    FAILED = "failed"


def letter_generate(request_id: int) -> str:
    """Make the letter a request asks for, once. Rendering runs outside any transaction
    (it takes a while); storing re-checks the request under its row lock, so a request
    delivered twice, or raced by the sweeper, stores one letter."""
    request = (
        LetterRequest.objects.select_related("claim__scheme", "event").filter(pk=request_id).first()
    )
    if request is None:
        return Outcome.MISSING
    if request.state != LetterRequest.State.PENDING:
        return Outcome.ALREADY_DONE
    try:
        rendered = render_letter(request.claim, request.kind, event=request.event)
    except Exception as error:
        return _record_failure(request_id, error)
    with transaction.atomic():
        locked = LetterRequest.objects.select_for_update().filter(pk=request_id).first()
        if locked is None or locked.state != LetterRequest.State.PENDING:
            return Outcome.ALREADY_DONE
        Claim.objects.select_for_update().filter(pk=locked.claim_id).first()
        letter = _store(locked, rendered)
        locked.letter = letter
        locked.state = LetterRequest.State.DONE
        locked.attempts += 1
        locked.finished_at = timezone.now()
        locked.next_attempt_at = None
        locked.save(update_fields=["letter", "state", "attempts", "finished_at", "next_attempt_at"])
    log.info("Letter %s v%s for %s made", letter.kind, letter.version, request.claim.reference)
    return Outcome.MADE


def _record_failure(request_id: int, error: BaseException) -> str:
    log.warning("Letter request %s failed: %s", request_id, error, exc_info=error)
    with transaction.atomic():
        request = LetterRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.state != LetterRequest.State.PENDING:
            return Outcome.ALREADY_DONE
        request.attempts += 1
        request.last_error = f"{type(error).__name__}: {error}"[:2000]
        # A refused URL, a wrong total or a missing offer will not mend itself; a render
        # that ran out of time might, on a less busy worker.
        permanent = isinstance(error, LetterError | LetterAssetRefused) and not isinstance(
            error, LetterTimeout
        )
        if permanent or request.attempts >= settings.LETTER_MAX_ATTEMPTS:
            request.state = LetterRequest.State.FAILED
            request.finished_at = timezone.now()
            request.next_attempt_at = None
            outcome = Outcome.FAILED
        else:
            request.next_attempt_at = timezone.now() + dt.timedelta(seconds=retry_seconds())
            outcome = Outcome.RETRY
        request.save(
            update_fields=["attempts", "last_error", "state", "finished_at", "next_attempt_at"]
        )
    return outcome


def retry_seconds() -> float:
    return float(settings.LETTER_RETRY_SECONDS)


def letter_requests_sweep(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Queue again each pending letter request that is overdue: its message was lost to a
    broker outage or a worker crash. Returns how many were queued."""
    from claims.outbox import requeue_overdue

    return requeue_overdue(LetterRequest, LETTER_TASK, now=now or timezone.now(), limit=limit)
