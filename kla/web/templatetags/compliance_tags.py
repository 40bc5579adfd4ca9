"""Template helper of the navigation: whether the person may open the compliance matrix."""

from __future__ import annotations

from django import template

from kla.web.requests import request_roles
from roles.permissions import may_view_compliance

register = template.Library()


@register.simple_tag(takes_context=True)
def may_view_compliance_page(context: template.Context) -> bool:
    """Verifiers, consolidators and auditors see the "Kepatuhan" link (roles read once)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    return may_view_compliance(request_roles(request))
