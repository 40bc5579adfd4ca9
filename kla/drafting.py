"""Services for drafting: creating and editing submissions and handling their evidence.

Each service is keyword-only and atomic: it loads through the visibility queryset (404),
checks rights (403), state and version (409) and input (400) in that order, then writes
the change and its trail event together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kla.details import clean_details
from kla.errors import Conflict, Forbidden, Invalid, NotVisible, TooLarge
from kla.evidence import accepted_message, inspect_upload, max_bytes, too_large_message
from kla.instructions import instruction_get, years_error
from kla.models import Category, Evidence, Indicator, Instruction, Submission
from kla.time import wib_date
from roles.permissions import reading_role
from roles.roles import Role, roles_of
from roles.selectors import body_for_operator, visible_to
from workflows.sla.timers import timer_start
from workflows.trail.append import trail_append

EDITABLE_FIELDS = ("title", "description", "years", "indicators", "details")
INDICATOR_COUNT = 24


def _clean_common(data: Mapping[str, Any], instruction: Instruction) -> dict[str, Any]:
    """Formats of the fields every category shares."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key in ("title", "description"):
        if key in data:
            value = data[key]
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors[key] = _("Harus berupa teks.")
            elif key == "title" and len(value) > 300:
                errors[key] = _("Paling banyak 300 karakter.")
            else:
                clean[key] = value.strip()
    if "years" in data:
        years = data["years"]
        if not isinstance(years, list) or any(
            isinstance(y, bool) or not isinstance(y, int) or y not in instruction.years
            for y in years
        ):
            errors["years"] = years_error(instruction)
        else:
            clean["years"] = sorted(set(years))
    if "indicators" in data:
        numbers = data["indicators"]
        if not isinstance(numbers, list) or any(
            isinstance(n, bool) or not isinstance(n, int) for n in numbers
        ):
            errors["indicators"] = _("Indikator harus daftar nomor 1 sampai 24.")
        else:
            # Only 1-24 can exist; anything else is unknown without asking the database
            # (which would overflow on a huge number).
            in_range = [n for n in numbers if 1 <= n <= INDICATOR_COUNT]
            known = set(
                Indicator.objects.filter(number__in=in_range).values_list("number", flat=True)
            )
            unknown = sorted(set(numbers) - known)
            if unknown:
                errors["indicators"] = _("Indikator tidak dikenal: %s.") % ", ".join(
                    str(n) for n in unknown
                )
            else:
                clean["indicators"] = sorted(set(numbers))
    if errors:
        raise Invalid(errors)
    return clean


def _clean_fields(
    data: Mapping[str, Any], category: str, years: list[int], instruction: Instruction
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    try:
        clean.update(_clean_common(data, instruction))
    except Invalid as exc:
        errors.update(exc.errors)
    if "details" in data:
        try:
            clean["details"] = clean_details(category, data["details"], clean.get("years", years))
        except Invalid as exc:
            errors.update(exc.errors)
    if errors:
        raise Invalid(errors)
    return clean


def _trail_data(submission: Submission, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {key: fields[key] for key in EDITABLE_FIELDS if key in fields} | {
        "version": submission.version
    }


@transaction.atomic
def submission_create(
    *,
    user: User,
    category: Any,
    agency: Any = None,
    instruction: Any = None,
    fields: Mapping[str, Any],
) -> Submission:
    """Create a draft for one of the caller's bodies; formats are checked, completeness not.

    The draft answers ``instruction`` (an id; the current one when absent), fixed for good; the
    body must be one of its addressees, the years among its years, and the instruction in force.
    """
    roles = roles_of(user)
    body = body_for_operator(
        roles, agency, refusal=_("Hanya operator perangkat/lembaga yang dapat membuat pengajuan.")
    )
    if category not in Category.values:
        raise Invalid(
            {"category": _("Kategori tidak dikenal; pilih dari: %s.") % ", ".join(Category.values)}
        )
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise Invalid({key: _("Kolom tidak dikenal.") for key in unknown})
    answered = instruction_get(instruction)
    if not answered.addressees.filter(pk=body.pk).exists():
        raise Invalid(
            {
                "agency": _("%(body)s tidak termasuk yang dituju instruksi %(label)s.")
                % {"body": body.name, "label": answered.label}
            }
        )
    if wib_date(timezone.now()) < answered.effective_on:
        raise Invalid(
            {
                "instruction": _("Instruksi %(label)s baru berlaku mulai %(day)s.")
                % {"label": answered.label, "day": date_format(answered.effective_on, "j F Y")}
            }
        )
    clean = _clean_fields(fields, category, answered.years, answered)
    submission = Submission.objects.create(
        instruction=answered,
        body=body,
        category=category,
        title=clean.get("title", ""),
        description=clean.get("description", ""),
        years=clean.get("years", []),
        details=clean.get("details", {}),
        created_by=user,
    )
    if clean.get("indicators"):
        submission.indicators.set(Indicator.objects.filter(number__in=clean["indicators"]))
    trail_append(
        stream=submission.stream,
        action="create",
        actor=user,
        role=Role.OPERATOR,
        from_state="",
        to_state=submission.state,
        data=_trail_data(submission, clean) | {"agency": body.code, "category": category},
        submission=submission,
        body=body,
    )
    timer_start(submission=submission, at=submission.created_at)
    return submission


def _locked_for_operator(user: User, submission_id: int, version: Any = None) -> Submission:
    """Load, lock and check that the caller may change this submission now."""
    roles = roles_of(user)
    submission = (
        visible_to(user, roles).select_for_update(of=("self",)).filter(pk=submission_id).first()
    )
    if submission is None:
        raise NotVisible(_("Pengajuan tidak ditemukan."))
    if not roles.operates(submission.body_id):
        raise Forbidden(
            _("Hanya operator %(body)s yang dapat mengubahnya.") % {"body": submission.body.name}
        )
    if not submission.editable:
        raise Conflict(
            _("Pengajuan berstatus %(state)s dan tidak dapat diubah.")
            % {"state": submission.get_state_display()}
        )
    if version is not None and version != submission.version:
        raise Conflict(_("Pengajuan telah berubah sejak Anda membukanya; muat ulang."))
    return submission


def _bump(submission: Submission) -> None:
    Submission.objects.filter(pk=submission.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    submission.refresh_from_db()


@transaction.atomic
def submission_update(
    *,
    user: User,
    submission_id: int,
    fields: Mapping[str, Any],
    version: Any = None,
) -> Submission:
    """Edit a draft or returned submission; the changed fields go to the trail."""
    submission = _locked_for_operator(user, submission_id, version)
    errors: dict[str, str] = {}
    if "category" in fields and fields["category"] != submission.category:
        errors["category"] = _("Kategori ditetapkan saat dibuat dan tidak dapat diubah.")
    if "agency" in fields and fields["agency"] != submission.body.code:
        errors["agency"] = _("Perangkat ditetapkan saat dibuat dan tidak dapat diubah.")
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS) - {"category", "agency", "version"})
    errors.update({key: _("Kolom tidak dikenal.") for key in unknown})
    if errors:
        raise Invalid(errors)
    editable = {k: v for k, v in fields.items() if k in EDITABLE_FIELDS}
    if isinstance(editable.get("details"), Mapping):
        # PATCH semantics: the fields sent replace their values, the others are kept;
        # sending a field empty (null or "") clears it.
        editable["details"] = {**submission.details, **editable["details"]}
    clean = _clean_fields(editable, submission.category, submission.years, submission.instruction)
    current = {
        "title": submission.title,
        "description": submission.description,
        "years": submission.years,
        "details": submission.details,
        "indicators": sorted(submission.indicators.values_list("number", flat=True)),
    }
    changed = {k: v for k, v in clean.items() if current[k] != v}
    kept_year = submission.details.get("year") if "details" not in clean else None
    if "years" in changed and kept_year is not None and kept_year not in changed["years"]:
        raise Invalid({"years": _("Tahun anggaran pada rincian harus termasuk tahun ini.")})
    if not changed:
        return submission
    for key in ("title", "description", "years", "details"):
        if key in changed:
            setattr(submission, key, changed[key])
    submission.save(
        update_fields=[k for k in ("title", "description", "years", "details") if k in changed]
        + ["updated_at"]
    )
    if "indicators" in changed:
        submission.indicators.set(Indicator.objects.filter(number__in=changed["indicators"]))
    _bump(submission)
    trail_append(
        stream=submission.stream,
        action="edit",
        actor=user,
        role=Role.OPERATOR,
        from_state=submission.state,
        to_state=submission.state,
        data={"changed": sorted(changed), **_trail_data(submission, changed)},
        submission=submission,
        body=submission.body,
    )
    return submission


def _file_entry(evidence: Evidence) -> dict[str, str]:
    return {"name": evidence.name, "sha256": evidence.sha256}


@transaction.atomic
def evidence_add(
    *,
    user: User,
    submission_id: int,
    upload: UploadedFile[Any] | None,
    too_large: bool = False,
) -> Evidence:
    """Store a new evidence file, recognised by its content, hashed while it is read.

    ``too_large``: the upload handler already dropped an oversized file while it streamed in
    (413, after the rights and state checks).
    """
    submission = _locked_for_operator(user, submission_id)
    if too_large:
        raise TooLarge(too_large_message())
    if upload is None:
        raise Invalid({"file": _("Pilih berkas untuk diunggah (kolom 'file').")})
    if upload.size is not None and upload.size > max_bytes():
        raise TooLarge(too_large_message())
    inspected = inspect_upload(upload)
    if inspected is None:
        raise Invalid({"file": accepted_message()})
    if inspected.size == 0:
        raise Invalid({"file": _("Berkas kosong.")})
    name = (upload.name or "berkas").replace("/", "_").replace("\\", "_")[-255:]
    evidence = Evidence(
        submission=submission,
        name=name,
        size=inspected.size,
        sha256=inspected.sha256,
        content_type=inspected.content_type,
        uploaded_by=user,
    )
    evidence.file.save(name, upload, save=False)
    evidence.save()
    _bump(submission)
    trail_append(
        stream=submission.stream,
        action="evidence_upload",
        actor=user,
        role=Role.OPERATOR,
        from_state=submission.state,
        to_state=submission.state,
        files=[_file_entry(evidence)],
        data={"evidence": evidence.pk, "size": evidence.size, "version": submission.version},
        submission=submission,
        body=submission.body,
    )
    return evidence


@transaction.atomic
def evidence_remove(*, user: User, submission_id: int, evidence_id: int) -> Evidence:
    """Take a file out of the current set; it stays stored and in the trail."""
    submission = _locked_for_operator(user, submission_id)
    evidence = submission.evidence.filter(pk=evidence_id, removed_at__isnull=True).first()
    if evidence is None:
        raise NotVisible(_("Berkas tidak ditemukan."))
    evidence.removed_at = timezone.now()
    evidence.removed_by = user
    evidence.save(update_fields=["removed_at", "removed_by"])
    _bump(submission)
    trail_append(
        stream=submission.stream,
        action="evidence_remove",
        actor=user,
        role=Role.OPERATOR,
        from_state=submission.state,
        to_state=submission.state,
        files=[_file_entry(evidence)],
        data={"evidence": evidence.pk, "version": submission.version},
        submission=submission,
        body=submission.body,
    )
    return evidence


@transaction.atomic
def evidence_download(*, user: User, submission_id: int, evidence_id: int) -> Evidence:
    """Record that the caller reads a file (the trail shows who read personal data)."""
    roles = roles_of(user)
    submission = visible_to(user, roles).filter(pk=submission_id).first()
    if submission is None:
        raise NotVisible(_("Pengajuan tidak ditemukan."))
    evidence = submission.evidence.filter(pk=evidence_id).first()
    if evidence is None:
        raise NotVisible(_("Berkas tidak ditemukan."))
    trail_append(
        stream=submission.stream,
        action="evidence_download",
        actor=user,
        role=reading_role(roles, submission.body_id),
        from_state=submission.state,
        to_state=submission.state,
        files=[_file_entry(evidence)],
        data={"evidence": evidence.pk},
        submission=submission,
        body=submission.body,
    )
    return evidence
