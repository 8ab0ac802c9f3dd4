from django.urls import path

from config.urls import urlpatterns as redress_urlpatterns
from workspace_site.views import bare_form

urlpatterns = [path("bench/form/", bare_form), *redress_urlpatterns]
