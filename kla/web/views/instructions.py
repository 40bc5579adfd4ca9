"""Which instruction the pages show a person: switched in the header, remembered per person.

Switching only filters what pages show; a new draft still goes to the current instruction
unless its form names another. A page's ``?instruction=`` (an id, or ``all`` on lists) wins
over the remembered choice for that page alone, so links can be shared.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kla.errors import Invalid
from kla.instructions import ALL, instruction_get
from kla.models import Instruction, Preference
from kla.web.requests import AuthenticatedHttpRequest


def chosen_instruction(request: HttpRequest) -> Instruction | None:
    """The instruction this person chose to see, else the current one (None: none exists)."""
    if hasattr(request, "_kla_chosen"):
        cached: Instruction | None = request._kla_chosen
        return cached
    chosen: Instruction | None = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        preference = Preference.objects.filter(user=user).select_related("instruction").first()
        chosen = preference.instruction if preference is not None else None
    if chosen is None:
        chosen = Instruction.current()
    request._kla_chosen = chosen  # type: ignore[attr-defined]
    return chosen


def page_instruction(request: HttpRequest, *, allow_all: bool = False) -> Instruction | None:
    """The instruction a page shows: its ``?instruction=`` (400 when unknown), else the
    person's choice. ``all`` (None) only where the page lists several instructions."""
    value = request.GET.get("instruction", "").strip()
    shown: Instruction | None
    if not value:
        shown = chosen_instruction(request)
    elif allow_all and value.lower() == ALL:
        shown = None
    else:
        shown = instruction_get(value)
    request._kla_shown = shown  # type: ignore[attr-defined]  # the header's switcher shows it
    return shown


@login_required
@require_POST
def instruction_choose(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Remember the instruction the person chose, then go back to the page they were on."""
    value = request.POST.get("instruction", "")
    try:
        instruction = instruction_get(value) if value else None
    except Invalid as exc:
        messages.error(request, " ".join(exc.errors.get("instruction", [])))
        instruction = None
    else:
        Preference.objects.update_or_create(
            user=request.user, defaults={"instruction": instruction}
        )
        shown = instruction or Instruction.current()
        if shown is not None:
            messages.info(request, _("Menampilkan %(name)s.") % {"name": shown})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(_without_instruction(target))


def _without_instruction(url: str) -> str:
    # The page's own ?instruction= would override the choice just made.
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("instruction", "halaman")]
    return urlunsplit(parts._replace(query=urlencode(query)))
