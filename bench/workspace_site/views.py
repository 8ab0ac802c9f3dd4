"""The yardstick: a bare Django view rendering a 12-field form, no database, no session."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template import engines

PAGE = engines["django"].from_string(
    "<!DOCTYPE html><html lang='en'><head><title>Form</title></head><body>"
    "<form method='post'>{{ form.as_div }}<button>Send</button></form></body></html>"
)


class TwelveFieldForm(forms.Form):
    full_name = forms.CharField(max_length=200)
    email = forms.EmailField()
    phone = forms.CharField(required=False)
    address = forms.CharField(widget=forms.Textarea, required=False)
    postcode = forms.CharField(max_length=10)
    reference = forms.CharField(max_length=13, required=False)
    incurred_on = forms.DateField(required=False)
    amount = forms.DecimalField(max_digits=12, decimal_places=2)
    hours = forms.DecimalField(max_digits=6, decimal_places=2, required=False)
    category = forms.ChoiceField(choices=[("a", "A"), ("b", "B"), ("c", "C")])
    description = forms.CharField(widget=forms.Textarea, required=False)
    agree = forms.BooleanField()


def bare_form(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.render({"form": TwelveFieldForm()}))
