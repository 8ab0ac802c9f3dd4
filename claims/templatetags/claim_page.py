"""The claim page's repeated rows (heads of loss, evidence, bands, offers, messages,
letters, payments, notes, the timeline) and its read-only submission, drawn in Python.

Drawn by Django's template engine, a busy claim's rows took about half the page's
time. The page's frame, headings and forms stay in
templates/admin/claims/claim/change_form.html; each tag here returns one section's
rows. Every value goes through format_html, which escapes it (claimant text included)
unless it is already safe markup built here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import template
from django.contrib.admin.utils import display_for_field
from django.db.models import Field
from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst

from claims.domain.money import format_money
from claims.domain.stages import ActorKind
from claims.models import Claim, HeadOfLoss, Message
from claims.queries.selectors import EVENT_LABELS, TRANSITION_LABELS, ClaimPage, HeadRow

register = template.Library()

_MUTED = '<span class="redress-muted">{}</span>'


def day(value: dt.date | None) -> str:
    """As the date filter's "j M Y" (a moment's day in the site's time zone)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return f"{value:%-d %b %Y}"


def moment(value: dt.datetime | None) -> str:
    """As the date filter's "j M Y H:i", in the site's time zone."""
    if value is None:
        return ""
    return f"{timezone.localtime(value):%-d %b %Y %H:%M}"


def _money(amount: Decimal | None) -> str:
    return format_money(amount) if amount is not None else ""


def _join(rows: list[SafeString]) -> SafeString:
    return mark_safe("".join(rows))  # noqa: S308  (each row built by format_html)


# --- The submission ---------------------------------------------------------------------

_FIELD = (
    '<div class="form-row field-{}"><div><div class="flex-container"><label>{}:</label>'
    '<div class="readonly">{}</div></div>{}</div></div>'
)
_FIELDSET = (
    '<fieldset class="module aligned" aria-labelledby="fieldset-0-{0}-heading">'
    '<h3 id="fieldset-0-{0}-heading" class="fieldset-heading">{1}</h3>{2}</fieldset>'
)
_LINKED = {
    "scheme": "admin:claims_scheme_change",
    "register_entry": "admin:claims_registerentry_change",
    "assigned_to": "admin:auth_user_change",
}


def _field(name: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", Claim._meta.get_field(name))


def _contents(page: ClaimPage, name: str, empty: str) -> SafeString | str:
    """What the admin's read-only field shows for this field of the claim."""
    claim = page.claim
    field = _field(name)
    if name in _LINKED:
        related_id = getattr(claim, field.attname)
        if related_id is None:
            return empty
        if name == "scheme":
            label = str(claim.scheme)
        elif name == "register_entry":
            label = str(page.register_entry or "")
        else:
            label = page.name(related_id)
        try:
            url = reverse(_LINKED[name], args=[related_id])
        except NoReverseMatch:  # that model's admin is not registered: the name alone
            return label
        return format_html('<a href="{}">{}</a>', url, label)
    shown = display_for_field(getattr(claim, name), field, empty)
    return linebreaksbr(shown, autoescape=True)


@register.simple_tag
def claim_submission(page: ClaimPage, fieldsets: list[tuple[str, dict[str, Any]]]) -> SafeString:
    """The claim's fieldsets as the admin draws read-only fields (label, contents, help)."""
    empty = "-"
    sections = []
    for number, (title, options) in enumerate(fieldsets):
        rows = []
        for name in options["fields"]:
            field = _field(name)
            help_text = format_html('<div class="help"><div>{}</div></div>', field.help_text)
            rows.append(
                format_html(
                    _FIELD,
                    name,
                    capfirst(field.verbose_name),
                    _contents(page, name, empty),
                    help_text if field.help_text else "",
                )
            )
        sections.append(format_html(_FIELDSET, number, title, _join(rows)))
    return _join(sections)


@register.simple_tag
def claim_flags(page: ClaimPage) -> SafeString:
    return format_html_join(
        "",
        '<li><span class="redress-flag">{}</span> {}{}</li>',
        (
            (
                flag.get_kind_display(),
                flag.reason,
                format_html(
                    ' <a href="{}">open the other claim</a>',
                    reverse("admin:claims_claim_change", args=[flag.related_claim_id]),
                )
                if flag.related_claim_id
                else "",
            )
            for flag in page.flags
        ),
    )


# --- Heads of loss, evidence and the distress bands ------------------------------------

_HEAD_ROW = (
    '<tr><th scope="row">{}{}</th><td><div class="redress-text">{}</div>{}</td><td>{}</td>'
    "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"
)


def _evidence_links(page: ClaimPage, row: HeadRow) -> SafeString:
    if not row.evidence:
        return format_html(_MUTED, "None")
    return format_html_join(
        "",
        '<a href="{}" target="_blank" rel="noopener">{}</a> ({})<br>',
        (
            (
                reverse("admin:claims_claim_evidence", args=[page.claim.pk, item.pk]),
                item.original_name,
                filesizeformat(item.size),
            )
            for item in row.evidence
        ),
    )


def _allowed_cell(page: ClaimPage, head: HeadOfLoss, label: str) -> SafeString:
    if page.can_assess:
        allowed = "" if head.amount_allowed is None else str(head.amount_allowed)
        cell = format_html(
            '<label class="visually-hidden" for="allowed-{0}">Amount allowed for {1}</label>'
            '<input id="allowed-{0}" name="allowed-{0}" inputmode="decimal" size="9" value="{2}">',
            head.pk,
            label,
            allowed,
        )
        if head.category == HeadOfLoss.Category.DISTRESS:
            options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (band.pk, " selected" if band.pk == head.distress_band_id else "", str(band))
                    for band in page.bands
                ),
            )
            cell = format_html(
                '{0}<label for="band-{1}">Band</label><select id="band-{1}" name="band-{1}">'
                '<option value="">Choose</option>{2}</select>',
                cell,
                head.pk,
                options,
            )
        return cell
    if head.amount_allowed is None:
        return format_html(_MUTED, "Not assessed")
    band = next((b for b in page.bands if b.pk == head.distress_band_id), None)
    return format_html("{}{}", format_money(head.amount_allowed), f" ({band.name})" if band else "")


def _reason_cell(page: ClaimPage, head: HeadOfLoss, label: str) -> SafeString:
    if page.can_assess:
        return format_html(
            '<label class="visually-hidden" for="reason-{0}">Reason for {1}</label>'
            '<textarea id="reason-{0}" name="reason-{0}" rows="2">{2}</textarea>',
            head.pk,
            label,
            head.assessment_reason,
        )
    return format_html('<div class="redress-text">{}</div>', head.assessment_reason)


@register.simple_tag
def claim_heads(page: ClaimPage) -> SafeString:
    rows = []
    for row in page.heads:
        head = row.head
        label = head.get_category_display()
        assessed = page.name(head.assessed_by_id)
        if head.assessed_at:
            assessed = format_html("{}<br>" + _MUTED, assessed, moment(head.assessed_at))
        rows.append(
            format_html(
                _HEAD_ROW,
                label,
                format_html("<br>" + _MUTED, day(head.incurred_on)) if head.incurred_on else "",
                head.description,
                format_html(
                    '<p class="redress-muted">{}: at most {}</p>',
                    row.lost_time_note,
                    _money(row.lost_time_ceiling),
                )
                if row.lost_time_note
                else "",
                format_money(head.amount_claimed),
                _evidence_links(page, row),
                _allowed_cell(page, head, label),
                _reason_cell(page, head, label),
                assessed,
            )
        )
    return _join(rows)


@register.simple_tag
def claim_evidence(page: ClaimPage) -> SafeString:
    heads = {row.head.pk: row.head.get_category_display() for row in page.heads}
    rows = []
    for item in page.evidence:
        url = reverse("admin:claims_claim_evidence", args=[page.claim.pk, item.pk])
        if item.head_of_loss_id:
            belongs = heads.get(item.head_of_loss_id, "")
        elif item.message_id:
            belongs = "An answer to a request"
        else:
            belongs = "The claim"
        rows.append(
            format_html(
                '<tr><td><a href="{0}" target="_blank" rel="noopener">{1}</a> '
                '(<a href="{0}?download=1">download</a>)</td><td>{2}</td><td>{3}</td>'
                "<td>{4}</td><td>{5}</td><td><code>{6}</code></td></tr>",
                url,
                item.original_name,
                belongs,
                item.content_type,
                filesizeformat(item.size),
                moment(item.uploaded_at),
                item.sha256,
            )
        )
    return _join(rows)


@register.simple_tag
def claim_bands(page: ClaimPage) -> SafeString:
    chosen = {row.head.distress_band_id for row in page.heads}
    return format_html_join(
        "",
        '<tr><th scope="row">{}<br><span class="redress-muted">{}</span></th><td>{} – {}</td>'
        "<td>{}</td><td>{}</td></tr>",
        (
            (
                band.name,
                band.description,
                format_money(band.lower),
                format_money(band.upper) if band.upper is not None else "and above",
                _money(page.band_suggestions.get(band.pk)),
                "Chosen" if band.pk in chosen else "",
            )
            for band in page.bands
        ),
    )


# --- Offers, messages, letters and payments ---------------------------------------------


@register.simple_tag
def claim_offers(page: ClaimPage) -> SafeString:
    sections = []
    for offer in page.offers:
        if offer.made_at:
            made = f"; made {day(offer.made_at)}, to accept by {day(offer.accept_by)}"
        else:
            made = "; not yet made"
        approved = (
            f"; approved by {page.name(offer.approved_by_id)}" if offer.approved_by_id else ""
        )
        items = format_html_join(
            "",
            '<tr><th scope="row">{}{}</th><td>{}</td><td>{}</td>'
            '<td><div class="redress-text">{}</div></td><td>{}</td></tr>',
            (
                (
                    item.get_category_display(),
                    format_html("<br>" + _MUTED, f"{item.get_response_display()} by the claimant")
                    if item.response
                    else "",
                    format_money(item.amount_claimed),
                    format_money(item.amount_offered),
                    item.reason,
                    page.name(item.assessed_by_id),
                )
                for item in page.offer_items.get(offer.pk, [])
            ),
        )
        sections.append(
            format_html(
                '<h3>Version {}: {}</h3><p class="redress-muted">Proposed by {} on {}{}{}.</p>'
                '<table><thead><tr><th scope="col">Head</th><th scope="col">Claimed</th>'
                '<th scope="col">Offered</th><th scope="col">Reason</th>'
                '<th scope="col">Assessed by</th></tr></thead><tbody>{}</tbody></table>',
                offer.version,
                format_money(offer.total),
                page.name(offer.proposed_by_id),
                day(offer.proposed_at),
                approved,
                made,
                items,
            )
        )
    return _join(sections)


@register.simple_tag
def claim_messages(page: ClaimPage) -> SafeString:
    return format_html_join(
        "",
        '<article class="{}"><p class="redress-muted">{}{}, {}</p>'
        '<div class="redress-text">{}</div></article>',
        (
            (
                "redress-message-in"
                if message.direction == Message.Direction.FROM_CLAIMANT
                else "redress-message-out",
                message.get_direction_display(),
                f", from {page.name(message.author_id)}" if message.author_id else "",
                moment(message.created_at),
                message.body,
            )
            for message in page.messages
        ),
    )


@register.simple_tag
def claim_letters(page: ClaimPage) -> SafeString:
    return format_html_join(
        "",
        "<tr><td>{0}</td><td>{1}</td><td>{2}</td><td><code>{3}</code></td>"
        '<td><a href="{4}">Download<span class="visually-hidden"> {5} version {1}</span></a>'
        " ({6})</td></tr>",
        (
            (
                letter.get_kind_display(),
                letter.version,
                moment(letter.created_at),
                letter.template_version,
                reverse("admin:claims_letter_download", args=[letter.pk]),
                letter.get_kind_display().lower(),
                filesizeformat(letter.size),
            )
            for letter in page.letters
        ),
    )


@register.simple_tag
def claim_payments(page: ClaimPage) -> SafeString:
    rows = []
    for payment in page.payments:
        batch = page.batches.get(payment.batch_id)
        rows.append(
            format_html(
                "<tr><td>{}</td><td>{}{}</td><td>{}</td>"
                '<td><a href="{}">Batch {}</a>, {}</td><td>{}</td></tr>',
                format_money(payment.amount),
                payment.get_state_display(),
                f": {payment.failure_reason}" if payment.failure_reason else "",
                payment.account_last4,
                reverse("admin:claims_paymentbatch_change", args=[payment.batch_id]),
                payment.batch_id,
                day(batch.created_at) if batch else "",
                moment(payment.decided_at)
                if payment.decided_at
                else format_html(_MUTED, "Not yet"),
            )
        )
    return _join(rows)


# --- Notes and the timeline -------------------------------------------------------------


@register.simple_tag
def claim_notes(page: ClaimPage) -> SafeString:
    return format_html_join(
        "",
        '<li><span class="redress-muted">{}, {}</span><div class="redress-text">{}</div></li>',
        ((page.name(note.author_id), moment(note.created_at), note.text) for note in page.notes),
    )


def event_label(action: str) -> str:
    label = EVENT_LABELS.get(action, TRANSITION_LABELS.get(action, action.replace("_", " ")))
    return label.capitalize()


@register.simple_tag
def claim_timeline(page: ClaimPage) -> SafeString:
    rows = []
    for event in page.events:
        moved = ""
        if event.from_stage or event.to_stage:
            moved = format_html(
                "<span>{} → {}</span>",
                event.get_from_stage_display() or "—",
                event.get_to_stage_display() or "—",
            )
        if event.actor_kind == ActorKind.STAFF and event.actor_id:
            actor = page.name(event.actor_id)
        else:
            actor = event.get_actor_kind_display()
        rows.append(
            format_html(
                '<li><strong>{}</strong>{}<span class="redress-muted">by {}, {}</span>{}</li>',
                event_label(event.action),
                moved,
                actor,
                moment(event.created_at),
                format_html('<div class="redress-text">{}</div>', event.reason)
                if event.reason
                else "",
            )
        )
    return _join(rows)
