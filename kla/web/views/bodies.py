"""The body search (/perangkat/cari/): a body picker's suggestions, so that no page lists
every body (a country holds tens of thousands).

Anybody signed in may search: a body's name and code are not secret. ``q`` (or ``agency``,
the name of the picker's own field, which htmx sends) is the text; at most
``BODY_SEARCH_LIMIT`` active bodies whose name or code holds it. With htmx the answer is the
``<option>``s of the picker's ``<datalist>``; otherwise a page that shows the codes, for the
person without JavaScript to copy into the field. ``banyak=1`` is a field that takes several
codes comma-separated: the text is the last of them and each option keeps those before it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from kla.listing import BODY_SEARCH_LIMIT, SEARCH_MAX, body_search
from kla.web.requests import AuthenticatedHttpRequest


@login_required
@require_GET
def body_search_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Active bodies by part of their name or code: a datalist's options, or a page."""
    given = str(request.GET.get("q") or request.GET.get("agency") or "")[:SEARCH_MAX]
    before, text = "", given
    if request.GET.get("banyak") == "1" and "," in given:
        head, _comma, text = given.rpartition(",")
        before = ",".join(c.strip() for c in head.split(",") if c.strip())
        before = f"{before}," if before else ""
    matches = body_search(text)
    context = {
        "q": given,
        "text": text.strip(),
        "matches": [(before + code, code, name) for code, name in matches],
        "limit": BODY_SEARCH_LIMIT,
        "full": len(matches) >= BODY_SEARCH_LIMIT,
    }
    template = "kla/_body_options.html" if request.htmx else "kla/body_search.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
