"""Template helpers for the public pages and the staff claim page."""

from __future__ import annotations

from decimal import Decimal

from django import forms, template
from django.forms import BoundField

from claims.domain.money import format_money
from claims.queries import claim_page

register = template.Library()


@register.filter
def widget_kind(field: BoundField) -> str:
    """How to lay out a field: radios and checkboxes and dates go in a fieldset."""
    widget = field.field.widget
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.MultiWidget):
        return "date"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.FileInput):
        return "file"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    return "text"


@register.filter
def anchor(field: BoundField) -> str:
    """The id the error summary links to: the first input of a group."""
    if widget_kind(field) in {"radios", "checkboxes", "date"}:
        return f"{field.auto_id}_0"
    return str(field.auto_id)


@register.filter
def money(value: Decimal | None) -> str:
    return "" if value is None else format_money(value)


@register.filter
def event_label(action: str) -> str:
    """What the claim page's timeline calls an audit event's action."""
    return claim_page.event_label(action)
