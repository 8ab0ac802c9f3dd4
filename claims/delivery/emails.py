"""Emails to claimants and staff: templates, the outbox and its delivery.

A status update is a row (`StatusUpdate`) written in the same transaction as the
change it reports. After that transaction commits, the row's id is published to
the `notifications` queue; a worker then locks the row, checks it is still
pending, sends it and marks it sent, all in one transaction. So:

- a broker outage at commit time loses nothing: the row stays pending and the
  sweeper (`outbox_sweep`, on beat every minute) queues it again a few minutes on;
- a task delivered twice (a restored message, the sweeper racing a slow worker)
  sends once: the second run waits for the row lock and finds the row sent;
- a provider error is retried with backoff; after `EMAIL_MAX_ATTEMPTS`, or at once
  for an address that can never work, the row is marked failed with the error,
  for staff to see in the admin and send again.

The one gap no outbox closes: a worker killed after the provider accepted an email
but before the commit. The email was sent and the row is still pending, so it goes
again. Each email carries a Message-ID derived from its row, so mail clients that
de-duplicate show it once.

Emails come from templates/emails/<kind>.subject.txt, .txt and .html. Each
claimant email shows the status update's verification code and links to the
"follow my claim" page; none carries bank details or a sign-in link.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import random
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from claims.domain.addresses import UndeliverableAddress, address_problem, clean_address
from claims.domain.letters import letter_title_for
from claims.domain.money import format_money
from claims.domain.stages import ReviewState, Stage
from claims.models import AuditEvent, Claim, Message, Offer, Review, StaffDigest, StatusUpdate

if TYPE_CHECKING:
    from django.core.mail.backends.base import BaseEmailBackend

log = logging.getLogger(__name__)

# The `update` of every transition, plus the emails the clock and the admin send.
CLOCK_KINDS = ("reminder", "offer_expiring")
OTHER_KINDS = ("notice", "digest")
FOLLOW_PATH = "/follow/"

Row = TypeVar("Row", StatusUpdate, StaffDigest)


# --- Addresses ------------------------------------------------------------------


# --- Rendering --------------------------------------------------------------------


def follow_url() -> str:
    return f"{settings.SITE_URL}{FOLLOW_PATH}"


_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")


def render_email(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML for `kind` from templates/emails/."""
    context = {"site_url": settings.SITE_URL, **context}
    # A subject is one header line whatever a template or its data holds.
    subject = " ".join(render_to_string(f"emails/{kind}.subject.txt", context).split())
    # Optional paragraphs leave blank lines behind; a text email keeps one between paragraphs.
    text = _BLANK_LINES.sub("\n\n", render_to_string(f"emails/{kind}.txt", context)).strip() + "\n"
    html = render_to_string(f"emails/{kind}.html", context)
    return subject, text, html


def message_id(kind: str, pk: int) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "redress.invalid"
    return f"<redress.{kind}.{pk}@{domain}>"


def make_email(
    kind: str,
    to: str,
    context: dict[str, Any],
    *,
    message_id: str | None = None,
    reply_to: str = "",
    connection: BaseEmailBackend | None = None,
) -> EmailMultiAlternatives:
    address = clean_address(to)
    subject, text, html = render_email(kind, context)
    headers = {"Auto-Submitted": "auto-generated"}
    if message_id:
        headers["Message-ID"] = message_id
    message = EmailMultiAlternatives(
        subject,
        text,
        to=[address],
        reply_to=[reply_to] if reply_to and not address_problem(reply_to) else None,
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message


def _claim_context(claim: Claim) -> dict[str, Any]:
    scheme = claim.scheme
    return {
        "name": claim.full_name,
        "reference": claim.reference,
        "scheme_name": scheme.name,
        "organisation": scheme.organisation,
        "contact_phone": scheme.contact_phone,
        "contact_email": scheme.contact_email,
        "follow_url": follow_url(),
    }


def _offer_for(claim: Claim, event: AuditEvent | None) -> Offer | None:
    version = (event.data or {}).get("offer_version") if event is not None else None
    offers = claim.offers.prefetch_related("items")
    if version is not None:
        offer = offers.filter(version=version).first()
        if offer is not None:
            return offer
    return offers.order_by("-version").first()


def _offer_context(offer: Offer | None) -> dict[str, Any]:
    if offer is None:
        return {}
    return {
        "offer_total": format_money(offer.total),
        "accept_by": offer.accept_by,
        "offer_items": [
            {"label": item.get_category_display(), "amount": format_money(item.amount_offered)}
            for item in offer.items.all()
        ],
    }


def _request_message(claim: Claim, event: AuditEvent | None) -> str:
    messages = claim.messages.filter(direction=Message.Direction.TO_CLAIMANT)
    if event is not None:
        linked = messages.filter(event=event).first()
        if linked is not None:
            return linked.body
    latest = messages.order_by("-created_at", "-id").first()
    return latest.body if latest is not None else ""


def status_update_context(update: StatusUpdate) -> dict[str, Any]:
    """What a status update's templates see. Nothing here is a bank detail or a token."""
    claim, event, kind = update.claim, update.event, update.kind
    context: dict[str, Any] = {
        **_claim_context(claim),
        "kind": kind,
        "verification_code": update.verification_code,
        "stage_label": Stage(update.stage).label,
        # The letter this change sends too (claims.delivery.letters), on the claim's page.
        "letter_title": letter_title_for(event),
    }
    if kind in {"information_requested", "reminder"}:
        context["request"] = _request_message(claim, event)
        context["information_due"] = claim.information_due
        context["final_reminder"] = kind == "reminder" and (update.dedupe_key or "").endswith(":2")
    if kind in {"offer_made", "offer_expiring", "review_outcome", "accepted", "payment_pending",
                "paid"}:  # fmt: skip
        context.update(_offer_context(_offer_for(claim, event)))
    if kind == "paid":
        context.update(_revised_offer_now_open(claim))
    if kind == "offer_being_checked":
        # A review's revision waits for approval as a first offer does.
        context["revision"] = event is not None and event.action in {
            "review_propose",
            "part_review_propose",
        }
    if kind in {"payment_pending", "paid"}:
        # The amount sent (claims.actions.payments.payable_amount, kept on the payment row).
        payment = claim.payments.exclude(state="failed").order_by("-created_at", "-id").first()
        if payment is not None:
            context["offer_total"] = format_money(payment.amount)
    if kind in {"rejected", "review_outcome", "rejection_reopened"} and event is not None:
        # Staff write these reasons for the claimant; payment failure reasons are not
        # shown, as they may quote bank details.
        context["reason"] = event.reason
    if kind == "bank_details_changed" and event is not None:
        # Only the last four digits, as everywhere outside the payment file.
        context["account"] = str((event.data or {}).get("last4", ""))
    if kind == "review_outcome":
        action = event.action if event is not None else ""
        context["upheld"] = action in {
            "review_uphold",
            "part_review_uphold",
            "rejection_review_uphold",
        }
        context["part"] = action.startswith("part_review_")
    context.update(_part_context(claim, event, kind))
    return context


def _revised_offer_now_open(claim: Claim) -> dict[str, Any]:
    """A revised offer for a disputed part that the claimant can accept now the first
    part is paid, and until when (claims.core.revised_offers_open)."""
    review = (
        Review.objects.filter(
            claim=claim, state=ReviewState.REVISED, revised_offer__accept_by__isnull=False
        )
        .select_related("revised_offer")
        .order_by("-id")
        .first()
    )
    if review is None or review.revised_offer is None:
        return {}
    return {
        "revised_total": format_money(review.revised_offer.total),
        "revised_accept_by": review.revised_offer.accept_by,
    }


def _part_context(claim: Claim, event: AuditEvent | None, kind: str) -> dict[str, Any]:
    """Partial acceptance (claims.queries.partial): what was accepted and what disputed. (What a
    payment is for comes from its payment row, above.)"""
    from claims.queries.partial import accepted_amount, disputed_amount

    if kind == "accepted_in_part":
        offer = _offer_for(claim, event)
        if offer is None:
            return {}
        return {
            "accepted_total": format_money(accepted_amount(offer)),
            "disputed_total": format_money(disputed_amount(offer)),
            "disputed_items": [
                {"label": item.get_category_display(), "amount": format_money(item.amount_offered)}
                for item in offer.items.all()
                if item.response == "disputed"
            ],
        }
    return {}


def _status_update_email(update: StatusUpdate) -> EmailMultiAlternatives:
    return make_email(
        update.kind,
        update.recipient or update.claim.email,
        status_update_context(update),
        message_id=message_id("status", update.pk),
        reply_to=update.claim.scheme.contact_email,
    )


def _digest_email(digest: StaffDigest) -> EmailMultiAlternatives:
    from claims.queries.queues import overdue_claims

    claims = list(overdue_claims(user=digest.user, today=digest.day))
    return make_email(
        "digest",
        digest.user.email,
        {
            "name": digest.user.get_full_name() or digest.user.get_username(),
            "scheme_name": "Redress",
            "day": digest.day,
            "claims": [
                {
                    "reference": claim.reference,
                    "stage": claim.get_stage_display(),
                    "waiting_since": timezone.localdate(claim.stage_changed_at),
                    "url": f"{settings.SITE_URL}{claim.get_admin_url()}",
                }
                for claim in claims
            ],
            "admin_url": f"{settings.SITE_URL}/admin/",
        },
        message_id=message_id("digest", digest.pk),
    )


# --- Errors -------------------------------------------------------------------------


def is_permanent(error: BaseException) -> bool:
    """True when sending again can never work: a malformed address, or one the provider
    refused for good (5xx). Anything else, including a provider or a network that is
    down, is worth another attempt."""
    from anymail.exceptions import (
        AnymailAPIError,
        AnymailInvalidAddress,
        AnymailRecipientsRefused,
    )

    refused_for_good = (
        UndeliverableAddress,
        BadHeaderError,
        AnymailInvalidAddress,
        AnymailRecipientsRefused,
    )
    if isinstance(error, refused_for_good):
        return True
    if isinstance(error, AnymailAPIError):
        status = error.status_code
        return status is not None and 400 <= status < 500 and status not in {408, 429}
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def describe_error(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # some providers' exceptions cannot describe themselves half-built
        text = repr(error.args)
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        reply_text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        text = f"{error.smtp_code} {reply_text}"
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{code} {message.decode(errors='replace')}"
            for code, message in error.recipients.values()
        )
    return f"{type(error).__name__}: {text}"[:2000]


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: doubling from EMAIL_RETRY_SECONDS, capped,
    with jitter so a provider coming back is not hit by every retry at once."""
    base = settings.EMAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return min(base, settings.EMAIL_RETRY_MAX_SECONDS) * random.uniform(0.8, 1.2)


# --- Delivery -------------------------------------------------------------------


class Outcome(enum.StrEnum):
    SENT = "sent"
    ALREADY_DONE = "already_done"
    RETRY = "retry"
    BUSY = "busy"
    FAILED = "failed"
    MISSING = "missing"


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    retry_in: float = 0.0


def _deliver(
    queryset: models.QuerySet[Row], pk: int, build: Callable[[Row], EmailMultiAlternatives]
) -> Delivery:
    """Send one outbox row once: claim it, send, record the outcome.

    Claiming locks the row, checks it is pending and not already being sent, and marks
    it in flight until `now + EMAIL_SEND_LEASE_SECONDS` (in `next_attempt_at`), all in one
    short transaction. The send itself holds no database lock: on SQLite a lock is the
    whole database's, and a slow provider must not stall every request. A second run
    that finds the row in flight looks again a little later and finds it sent; if the
    sender died, the lease runs out and the next look sends it.
    """
    now = timezone.now()
    with transaction.atomic():
        row = queryset.select_for_update(of=("self",)).filter(pk=pk).first()
        if row is None:
            return Delivery(Outcome.MISSING)
        if row.state != StatusUpdate.State.PENDING:
            return Delivery(Outcome.ALREADY_DONE)
        if row.next_attempt_at is not None and row.next_attempt_at > now + _EARLY:
            # Being sent by another worker right now, or its retry is not yet due: look
            # again when it is due, or sooner, as an email in flight is usually sent soon.
            due_in = (row.next_attempt_at - now).total_seconds()
            return Delivery(Outcome.BUSY, min(due_in, settings.EMAIL_RETRY_SECONDS))
        row.attempts += 1
        row.next_attempt_at = now + dt.timedelta(seconds=settings.EMAIL_SEND_LEASE_SECONDS)
        row.save(update_fields=["attempts", "next_attempt_at"])
    try:
        build(row).send()
    except Exception as error:
        return _record_failure(queryset, pk, error)
    with transaction.atomic():
        sent = timezone.now()
        queryset.model.objects.filter(pk=pk, state=StatusUpdate.State.PENDING).update(
            state=StatusUpdate.State.SENT, sent_at=sent, next_attempt_at=None
        )
    return Delivery(Outcome.SENT)


# Workers' clocks differ a little; a run this early is taken as on time.
_EARLY = dt.timedelta(milliseconds=250)


def _record_failure(queryset: models.QuerySet[Row], pk: int, error: Exception) -> Delivery:
    with transaction.atomic():
        row = queryset.model.objects.select_for_update().get(pk=pk)
        if row.state != StatusUpdate.State.PENDING:
            return Delivery(Outcome.ALREADY_DONE)
        row.last_error = describe_error(error)
        if is_permanent(error) or row.attempts >= settings.EMAIL_MAX_ATTEMPTS:
            row.state = StatusUpdate.State.FAILED
            row.next_attempt_at = None
            row.save(update_fields=["state", "last_error", "next_attempt_at"])
            log.warning(
                "%s %s failed for good after %s attempt(s): %s",
                type(row).__name__,
                pk,
                row.attempts,
                row.last_error,
            )
            return Delivery(Outcome.FAILED)
        delay = retry_delay(row.attempts)
        row.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
        row.save(update_fields=["last_error", "next_attempt_at"])
    log.info("%s %s: attempt %s failed, retrying: %s", type(row).__name__, pk, row.attempts,
             row.last_error)  # fmt: skip
    return Delivery(Outcome.RETRY, retry_in=delay)


def status_update_deliver(status_update_id: int) -> Delivery:
    queryset = StatusUpdate.objects.select_related("claim__scheme", "event")
    return _deliver(queryset, status_update_id, _status_update_email)


def staff_digest_deliver(digest_id: int) -> Delivery:
    return _deliver(StaffDigest.objects.select_related("user"), digest_id, _digest_email)


# --- Queueing -------------------------------------------------------------------
