from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Redress"
admin.site.site_title = "Redress staff"
admin.site.index_title = "Claims administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("claims.urls")),
]
