"""The site's URLs: pages at the root, the JSON API under /api/v1/, the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("kla.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kla.web.urls")),
]
