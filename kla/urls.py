"""The site's URLs: pages at the root, the JSON API under /api/v1/, the admin, /healthz/."""

from django.contrib import admin
from django.urls import include, path

from kla.web.views.health import healthz

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("kla.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kla.web.urls")),
]
