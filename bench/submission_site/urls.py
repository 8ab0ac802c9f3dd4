from __future__ import annotations

from django.urls import path

from config.urls import urlpatterns as redress_urlpatterns
from submission_site.views import bare

urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    *redress_urlpatterns,
]
