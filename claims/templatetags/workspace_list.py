"""The claims list's rows and filters, formatted in Python in one pass.

The admin's own result list formats every cell through lookup_field and
display_for_field, and its filters render a template per filter; for a
caseworker's list that is most of the page's time. Same columns, same sorting
headers, same action checkboxes, same filter links, a fraction of the cost.
Everything a claimant typed goes through format_html, so it is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from django.utils.safestring import SafeString, mark_safe

from claims.domain.money import format_money
from claims.domain.stages import Stage
from claims.domain.workdays import working_days_between
from claims.models import ClaimFlag
from claims.queries import selectors

register = template.Library()

_CHECKBOX = (
    '<td class="action-checkbox"><input type="checkbox" name="_selected_action" value="{pk}" '
    'class="action-select" aria-label="Select {reference}"></td>'
)
_ROW = (
    "<tr>{checkbox}"
    '<th class="field-reference"><a href="{url}">{reference}</a></th>'
    '<td class="field-claimant"><a href="{url}">{claimant}</a></td>'
    '<td class="field-stage">{stage}</td>'
    '<td class="field-days_in_stage">{days}</td>'
    '<td class="field-due">{due}</td>'
    '<td class="field-assigned_to">{assigned}</td>'
    '<td class="field-amount">{amount}</td>'
    '<td class="field-flag_badges">{flags}</td>'
    "</tr>"
)
_FLAG = '<span class="redress-flag" title="{}">{}</span> '
_STAGES = {str(value): str(label) for value, label in Stage.choices}
_FLAG_KINDS = {str(value): str(label) for value, label in ClaimFlag.Kind.choices}


def _due(due: Any, overdue: bool) -> str:
    if due is None:
        return "—"
    text = f"{due.day} {due:%b %Y}"
    return f'<strong class="redress-overdue">{text} (overdue)</strong>' if overdue else text


@register.simple_tag
def workspace_table(cl: Any) -> dict[str, Any]:
    """The rows as one string. Each value a claimant or a person typed is escaped with
    html.escape (what Django's escape uses); the rest are numbers, dates and our URLs."""
    today = timezone.localdate()
    base = reverse("admin:claims_claim_changelist")
    checkboxes = "action_checkbox" in cl.list_display
    open_stages = set(selectors.OPEN_STAGES)
    names = selectors.staff_names()
    zone = timezone.get_current_timezone()
    rows = []
    for claim in cl.result_list:
        started = claim.stage_changed_at.astimezone(zone).date()
        due = selectors.due_by(claim, started)
        overdue = due is not None and due < today and claim.stage in open_stages
        reference = escape(claim.reference)
        rows.append(
            _ROW.format(
                checkbox=_CHECKBOX.format(pk=claim.pk, reference=reference) if checkboxes else "",
                url=f"{base}{claim.pk}/change/",
                reference=reference,
                claimant=escape(claim.full_name),
                stage=escape(_STAGES.get(claim.stage, claim.stage)),
                days=working_days_between(started, today),
                due=_due(due, overdue),
                assigned=escape(names.get(claim.assigned_to_id, "—")),
                amount=escape(format_money(claim.amount_claimed)),
                flags="".join(
                    _FLAG.format(escape(reason), escape(_FLAG_KINDS.get(kind, kind)))
                    for kind, reason in claim.flag_list
                ),
            )
        )
    return {
        "headers": list(result_headers(cl)),
        "rows": rows,
        "body": mark_safe("".join(rows)),  # noqa: S308  (claimant text escaped above)
        "checkboxes": checkboxes,
    }


_SELECTED = ' class="selected"'
_CHOICE = '<li{}><a href="{}">{}</a></li>'
_SECTION = '<details data-filter-title="{0}" open><summary> By {0} </summary><ul>{1}</ul></details>'


@register.simple_tag
def workspace_filters(cl: Any) -> SafeString:
    """The filter sidebar's sections, as admin/filter.html draws them."""
    sections = []
    for spec in cl.filter_specs:
        links = "".join(
            _CHOICE.format(
                _SELECTED if choice["selected"] else "",
                escape(iri_to_uri(choice["query_string"])),
                escape(str(choice["display"])),
            )
            for choice in spec.choices(cl)
        )
        sections.append(_SECTION.format(escape(str(spec.title)), links))
    return mark_safe("".join(sections))  # noqa: S308  (every value escaped above)
