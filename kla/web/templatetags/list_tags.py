"""Column headers that sort a list: a link to the same URL with ``ordering`` set (ascending
first, then descending), the other filters kept, and ``aria-sort`` on the sorted column."""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, key: str, label: str) -> SafeString:
    """``<th>`` with a link sorting by ``key``; the current sort is marked and reversible."""
    request: HttpRequest | None = context.get("request")
    if request is None:
        return format_html("<th>{}</th>", label)
    current = request.GET.get("ordering", "")
    query = request.GET.copy()
    query.pop("halaman", None)
    query.pop("kursor", None)  # a new order starts from its first page
    if current == key:
        query["ordering"], sort, mark = f"-{key}", "ascending", "▲"
        hint = _("urutkan turun")
    elif current == f"-{key}":
        query["ordering"], sort, mark = key, "descending", "▼"
        hint = _("urutkan naik")
    else:
        query["ordering"], sort, mark = key, "", ""
        hint = _("urutkan naik")
    return format_html(
        '<th{}><a class="sort" href="?{}" title="{}">{}{}</a></th>',
        format_html(' aria-sort="{}"', sort) if sort else "",
        query.urlencode(),
        hint,
        label,
        format_html(' <span aria-hidden="true">{}</span>', mark) if mark else "",
    )
