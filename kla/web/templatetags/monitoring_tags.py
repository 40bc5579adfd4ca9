"""Template helper of the navigation: whether the person sees the "Monitoring" link."""

from __future__ import annotations

from django import template

from kla.web.requests import request_roles
from roles.permissions import may_view_monitoring

register = template.Library()


@register.simple_tag(takes_context=True)
def may_view_monitoring_page(context: template.Context) -> bool:
    """Operators and reviewers read monitoring notes (roles read once a request)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    return may_view_monitoring(request_roles(request))
