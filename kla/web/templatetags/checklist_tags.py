"""Template helpers of the evidence checklist: the navigation link, the kinds' labels."""

from __future__ import annotations

from typing import Any

from django import template

from kla.models import EvidenceKind
from kla.web.requests import request_roles
from roles.permissions import may_read_checklist

register = template.Library()


@register.simple_tag(takes_context=True)
def may_read_checklist_page(context: template.Context) -> bool:
    """Reviewers, operators and the checklist's keepers see the "Data dukung" link."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    return may_read_checklist(request_roles(request))


@register.filter
def kind_labels(codes: Any) -> list[str]:
    """``["decree", "kak_tor"]`` -> their labels in the person's language."""
    labels = dict(EvidenceKind.choices)
    return [str(labels.get(code, code)) for code in codes or ()]
