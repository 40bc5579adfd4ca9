"""Memberships of operators in bodies, managed by administrators."""

from django.contrib import admin

from kla.admin.readonly import ModelAdmin
from roles.models import Membership


@admin.register(Membership)
class MembershipAdmin(ModelAdmin):
    list_display = ("user", "body", "created_at")
    list_filter = ("body",)
    search_fields = ("user__username", "body__code")
    autocomplete_fields = ("user", "body")
