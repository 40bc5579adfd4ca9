"""The navigation links of BAPPERIDA's pages, shown to the roles that may open them."""

from __future__ import annotations

from typing import Any

from django import template

from kla.web.requests import request_roles
from roles.permissions import may_export, may_view_consolidation, may_view_coverage

register = template.Library()


@register.inclusion_tag("kla/_consolidation_nav.html", takes_context=True)
def consolidation_nav(context: template.Context) -> dict[str, Any]:
    """Coverage, consolidation and exports links for verifiers, consolidators and auditors."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {}
    roles = request_roles(request)
    match = getattr(request, "resolver_match", None)
    return {
        "show_coverage": may_view_coverage(roles),
        "show_consolidation": may_view_consolidation(roles),
        "show_exports": may_export(roles),
        "current": match.url_name if match else "",
    }
