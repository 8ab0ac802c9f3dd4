from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from claims.models import Scheme


def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    schemes = Scheme.objects.filter(claims_open__lte=today, claims_close__gte=today)
    return render(request, "claims/home.html", {"schemes": schemes})
