"""Template helpers of the pages: labels of states, actions and roles in the person's language."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kla.details import format_rupiah
from kla.evidence import preview_kind
from kla.models import EvidenceKind, SubmissionState
from kla.web.requests import request_roles
from roles.roles import Role

register = template.Library()

# What each trail action is called on the page (the trail itself keeps the API identifier).
ACTION_LABELS: dict[str, Any] = {
    "create": _("Dibuat"),
    "edit": _("Diubah"),
    "evidence_upload": _("Unggah bukti dukung"),
    "evidence_remove": _("Bukti dukung dikeluarkan"),
    "evidence_tag": _("Jenis/kebutuhan bukti diubah"),
    "evidence_download": _("Unduh bukti dukung"),
    "evidence_fixity_failed": _("Berkas tersimpan tidak utuh"),
    "submit": _("Diajukan"),
    "withdraw": _("Ditarik kembali"),
    "approve": _("Disetujui (terverifikasi)"),
    "return": _("Dikembalikan"),
    "resubmit": _("Diajukan ulang"),
    "consolidate": _("Dikonsolidasi"),
    "audit": _("Diaudit"),
    "nihil": _("Nihil dinyatakan"),
    "reminder": _("Pengingat"),
    "escalation": _("Eskalasi"),
    "monitoring_note": _("Catatan monitoring"),
    "manual_reminder": _("Pengingat manual"),
    "finding_create": _("Temuan dicatat"),
    "finding_correct": _("Temuan dikoreksi"),
    "follow_up": _("Tindak lanjut dikirim"),
    "assessment": _("Tindak lanjut dinilai"),
    "follow_up_download": _("Berkas tindak lanjut diunduh"),
    "follow_up_reminder": _("Pengingat tindak lanjut"),
    "follow_up_escalation": _("Eskalasi tindak lanjut"),
    "export_download": _("Ekspor diunduh"),
}

ROLE_LABELS: dict[str, Any] = {
    Role.OPERATOR: _("Operator"),
    Role.VERIFIER: _("Verifikator"),
    Role.CONSOLIDATOR: _("Konsolidator"),
    Role.AUDITOR: _("Auditor"),
    Role.ADMIN: _("Administrator"),
}


@register.filter
def state_label(value: str) -> str:
    """``verified`` -> ``Terverifikasi``; empty for the empty state of a creation."""
    if not value:
        return ""
    try:
        return str(SubmissionState(value).label)
    except ValueError:
        return value


@register.filter
def action_label(value: str) -> str:
    return str(ACTION_LABELS.get(value, value))


@register.filter
def role_label(value: str) -> str:
    return str(ROLE_LABELS.get(value, value))


@register.simple_tag(takes_context=True)
def person_roles(context: template.Context) -> list[str]:
    """Labels of the roles of the person making the request, for the navigation bar."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return [str(ROLE_LABELS[name]) for name in request_roles(request).names()]


@register.filter
def evidence_kind_label(kind: str) -> str:
    """A file kind's label ("sk" -> its Indonesian name)."""
    return str(dict(EvidenceKind.choices).get(kind, kind))


@register.filter
def previewable(content_type: str) -> bool:
    """Whether a file of this type is shown in the page (an image or a PDF)."""
    return preview_kind(content_type) is not None


@register.filter
def rupiah(value: Any) -> str:
    """1500000 -> "Rp 1.500.000"."""
    return format_rupiah(value)


@register.simple_tag
def region_name() -> str:
    """``KLA_REGION_NAME``, for templates rendered without a request (the emails), which the
    pages' context processor never reaches."""
    return str(settings.KLA_REGION_NAME)
