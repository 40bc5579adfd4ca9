"""Template helpers of the pages: labels of states, actions and roles in the person's language."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
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


# ``|tanggal`` and ``|waktu`` are built into every template: ``kla_time``.


def _error_target(field: forms.BoundField) -> str:
    """The element a summary's link moves to: the input, or a group's first choice."""
    if field.field.widget.use_fieldset:
        widgets = field.subwidgets
        return str(widgets[0].id_for_label) if widgets else str(field.auto_id or "")
    return str(field.auto_id or "")


@register.inclusion_tag("kla/_error_summary.html")
def error_summary(form: forms.Form | None) -> dict[str, Any]:
    """What is wrong with a form, on top of it: each field's errors as links to the field
    (its own errors stay beside it), then the errors of the whole form."""
    rows: list[tuple[str, str, str]] = []
    if form is not None and form.is_bound and form.errors:
        for name, errors in form.errors.items():
            if name == NON_FIELD_ERRORS or name not in form.fields:
                continue
            field = form[name]
            rows.extend((_error_target(field), str(field.label), str(e)) for e in errors)
        rows.extend(("", "", str(e)) for e in form.non_field_errors())
    return {"rows": rows}


@register.simple_tag
def region_name() -> str:
    """``KLA_REGION_NAME``, for templates rendered without a request (the emails), which the
    pages' context processor never reaches."""
    return str(settings.KLA_REGION_NAME)
