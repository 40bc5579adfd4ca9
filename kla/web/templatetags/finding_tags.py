"""Template helpers of the findings: who sees the "Temuan" link and the "Catat temuan" one."""

from __future__ import annotations

from django import template

from kla.web.requests import request_roles
from roles.permissions import may_record_findings, may_view_findings

register = template.Library()


@register.simple_tag(takes_context=True)
def may_view_findings_page(context: template.Context) -> bool:
    """Operators and reviewers see the "Temuan" link (roles read once a request)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    return may_view_findings(request_roles(request))


@register.simple_tag(takes_context=True)
def may_record_findings_page(context: template.Context) -> bool:
    """Inspektorat sees "Catat temuan" on a submission."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    return may_record_findings(request_roles(request))
