"""Template helpers of the trail pages: who may see the trail link, labels of trail actions."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from kla.web.requests import request_roles
from kla.web.templatetags.kla_tags import ACTION_LABELS
from roles import permissions
from workflows.models import TrailCheckpoint
from workflows.trail.checkpoints import root_b64

register = template.Library()

# Actions of the body and system streams, which the submission page never shows.
TRAIL_ACTION_LABELS: dict[str, Any] = {
    **ACTION_LABELS,
    "membership_add": _("Keanggotaan ditambah"),
    "membership_remove": _("Keanggotaan dicabut"),
    "permission_grant": _("Izin perangkat diberikan"),
    "permission_revoke": _("Izin perangkat dicabut"),
    "role_grant": _("Peran diberikan"),
    "role_revoke": _("Peran dicabut"),
    "trail_export": _("Jejak diunduh"),
    "instruction_create": _("Instruksi dibuat"),
    "instruction_change": _("Instruksi diubah"),
    "instruction_remove": _("Instruksi dihapus"),
    "instruction_addressees_add": _("Yang dituju ditambah"),
    "instruction_addressees_remove": _("Yang dituju dikurangi"),
    "body_create": _("Perangkat/lembaga dibuat"),
    "body_change": _("Perangkat/lembaga diubah"),
    "body_remove": _("Perangkat/lembaga dihapus"),
    "calendar_day_add": _("Hari kalender ditambah"),
    "calendar_day_change": _("Hari kalender diubah"),
    "calendar_day_remove": _("Hari kalender dihapus"),
    "requirement_create": _("Kebutuhan data dukung ditambah"),
    "requirement_change": _("Kebutuhan data dukung diubah"),
    "requirement_remove": _("Kebutuhan data dukung dihapus"),
}


@register.simple_tag(takes_context=True)
def may_read_trail(context: template.Context) -> bool:
    """Whether the person making the request may open the trail page (for the navigation)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    return permissions.may_read_trail(request_roles(request))


@register.filter
def trail_action_label(value: str) -> str:
    return str(TRAIL_ACTION_LABELS.get(value, value))


@register.filter
def stream_label(value: str) -> str:
    """A stream in words: "Pengajuan #5", "Perangkat/lembaga dinkes", "Sistem"."""
    kind, _sep, rest = (value or "").partition(":")
    if kind == "submission" and rest:
        return _("Pengajuan #%(id)s") % {"id": rest}
    if kind == "body" and rest:
        return _("Perangkat/lembaga %(code)s") % {"code": rest}
    if value == "system":
        return str(_("Sistem"))
    return value


@register.filter
def checkpoint_root(value: TrailCheckpoint) -> str:
    """A checkpoint's root hash as its signed text has it (base64)."""
    return root_b64(value)


@register.filter
def short_hash(value: str) -> str:
    """The first 12 hex digits, enough to tell events apart on a page."""
    return f"{value[:12]}…" if value and len(value) > 12 else value
