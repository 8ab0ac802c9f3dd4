"""The baseline: a plain Django view that validates a 12-field form and inserts one row,
behind the same middleware (sessions, CSRF, auth, messages, axes) as Redress's pages."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template import engines
from django.views.decorators.http import require_http_methods

from submission_site.models import BareSubmission

PAGE = engines["django"].from_string(
    '<!doctype html><title>Bare form</title><form method="post">{% csrf_token %}'
    "{{ form.as_div }}<button>Send</button></form>"
)


class BareForm(forms.Form):
    full_name = forms.CharField(max_length=200)
    email = forms.EmailField()
    phone = forms.CharField(max_length=40, required=False)
    address = forms.CharField(max_length=2000)
    postcode = forms.CharField(max_length=10, validators=[RegexValidator(r"^[A-Za-z0-9 ]{5,8}$")])
    what_happened = forms.CharField(max_length=10_000)
    category = forms.ChoiceField(
        choices=[("bank_charges", "Bank charges"), ("card_replacement", "Card replacement")]
    )
    amount = forms.DecimalField(min_value=0.01, max_value=100_000, decimal_places=2)
    incurred_on = forms.DateField()
    hours = forms.DecimalField(min_value=0.01, max_value=1000, decimal_places=2)
    preferred_format = forms.ChoiceField(
        choices=[("standard", "Standard"), ("large_print", "Large print")]
    )
    statement_of_truth = forms.BooleanField()


@require_http_methods(["GET", "POST"])
def bare(request: HttpRequest) -> HttpResponse:
    form = BareForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        BareSubmission.objects.create(**form.cleaned_data)
        return redirect("bench_bare")
    return HttpResponse(PAGE.render({"form": form}, request))
