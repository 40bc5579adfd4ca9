"""API tokens (django-rest-knox) in the admin: who holds which, read-only; an administrator may
delete one (revoke it). Never the token nor its digest: the id is its first characters."""

from __future__ import annotations

from typing import Any

import knox.admin  # noqa: F401  (registers knox's own admin first, replaced below)
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from kla.admin.readonly import ModelAdmin, ReadOnlyAdmin

if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(ReadOnlyAdmin):
    list_display = ("token_id", "owner", "created", "expiry")
    list_filter = ("created", "expiry")
    search_fields = ("token_key", "user__username")
    list_select_related = ("user",)
    ordering = ("-created",)
    fields = ("token_id", "owner", "created", "expiry")
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("Pengenal token"), ordering="token_key")
    def token_id(self, obj: Any) -> str:
        return str(obj.token_key)

    @admin.display(description=_("Pemilik"), ordering="user__username")
    def owner(self, obj: Any) -> str:
        return str(obj.user.get_username())

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Django's own check (superusers, or staff given "Can delete auth token").
        return ModelAdmin.has_delete_permission(self, request, obj)
