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
from django.utils.translation import gettext as _

from kla.details import clean_details
from kla.errors import Conflict, Forbidden, Invalid, NotVisible, TooLarge
from kla.evidence import accepted_message, inspect_upload, max_bytes, too_large_message
from kla.instructions import instruction_get, years_error
from kla.models import (
    Category,
    Evidence,
    EvidenceKind,
    Indicator,
    Instruction,
    Requirement,
    Submission,
)
from kla.scanning import scan_upload
from kla.time import long_date, wib_date
from roles.permissions import reading_role
from roles.roles import Role, roles_of
from roles.selectors import body_for_operator, visible_to
from workflows import summaries
from workflows.sla.timers import timer_start
from workflows.trail.append import trail_append
from workflows.trail.fixity import evidence_intact

EDITABLE_FIELDS = ("title", "description", "years", "indicators", "details")
INDICATOR_COUNT = 24
# More codes than any indicator lists: a longer list is a mistake, refused before reading it.
REQUIREMENTS_MAX = 100
# The longest a submission's title and description may be (OWASP ASVS 5.1).
TITLE_MAX = 300
DESCRIPTION_MAX = 10_000
LIMITS = {"title": TITLE_MAX, "description": DESCRIPTION_MAX}


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
            elif len(value) > LIMITS[key]:
                errors[key] = _("Paling banyak %(n)s karakter.") % {"n": LIMITS[key]}
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
                % {"label": answered.label, "day": long_date(answered.effective_on)}
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


def _locked_for_operator(
    user: User, submission_id: int, version: Any = None, *, evidence_id: int | None = None
) -> Submission:
    """Load, lock and check that the caller may change this submission now.

    ``evidence_id``: the change is to one of its current files, which must exist (404 comes
    before 403 and 409, as for the submission itself).
    """
    roles = roles_of(user)
    submission = (
        visible_to(user, roles)
        .select_for_update(of=("self",), no_key=True)
        .filter(pk=submission_id)
        .first()
    )
    if submission is None:
        raise NotVisible(_("Pengajuan tidak ditemukan."))
    if (
        evidence_id is not None
        and not submission.evidence.filter(pk=evidence_id, removed_at__isnull=True).exists()
    ):
        raise NotVisible(_("Berkas tidak ditemukan."))
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
    if "indicators" in changed:
        _check_indicators_kept(submission, set(current["indicators"]) - set(changed["indicators"]))
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
    summaries.refresh(submission.instruction_id, submission.body_id)
    return submission


def _check_indicators_kept(submission: Submission, dropped: set[int]) -> None:
    """An indicator whose requirements current files serve stays until those tags go: the
    file would otherwise serve a requirement of an indicator the submission no longer has."""
    if not dropped:
        return
    serving = (
        submission.evidence.filter(
            removed_at__isnull=True, requirements__indicator__number__in=dropped
        )
        .order_by("uploaded_at", "id")
        .distinct()
    )
    names = list(dict.fromkeys(e.name for e in serving))
    if names:
        raise Invalid(
            {
                "indicators": _(
                    "Indikator %(numbers)s tidak dapat dilepas: berkas %(files)s memenuhi "
                    "kebutuhannya. Ubah dulu kebutuhan berkas itu."
                )
                % {
                    "numbers": ", ".join(str(n) for n in sorted(dropped)),
                    "files": ", ".join(names),
                }
            }
        )


def _file_entry(evidence: Evidence) -> dict[str, str]:
    return {"name": evidence.name, "sha256": evidence.sha256}


def _clean_kind(kind: Any) -> str:
    """An evidence kind code, else 400 listing the accepted codes."""
    if not isinstance(kind, str) or kind not in EvidenceKind.values:
        accepted = ", ".join(EvidenceKind.values)
        raise Invalid({"kind": _("Jenis bukti tidak dikenal; pilih dari: %s.") % accepted})
    return kind


def _clean_codes(value: Any) -> list[str]:
    """Requirement codes, sorted and once each: a list of text, each of which may hold several
    codes separated by commas as multipart and forms send them ("2.1,2.3")."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or any(not isinstance(c, str) for c in value):
        raise Invalid(
            {"requirements": _('Kebutuhan harus berupa daftar kode, misalnya ["2.1", "2.3"].')}
        )
    codes = sorted({code.strip() for text in value for code in text.split(",") if code.strip()})
    if len(codes) > REQUIREMENTS_MAX:
        raise Invalid(
            {"requirements": _("Paling banyak %d kebutuhan per berkas.") % REQUIREMENTS_MAX}
        )
    return codes


def _requirements_for(submission: Submission, codes: list[str], kind: str) -> list[Requirement]:
    """The requirements the codes name: each of the submission's instruction and of one of its
    own indicators, and accepting a file of this kind; else 400 naming the codes."""
    if not codes:
        return []
    # The instruction's checklist is a few dozen rows: compared here, so that text as sent
    # never reaches a query (PostgreSQL refuses some of it with an error, not a miss).
    checklist = {
        r.code: r
        for r in Requirement.objects.filter(instruction_id=submission.instruction_id)
        .select_related("indicator")
        .order_by("code")
    }
    own = set(submission.indicators.values_list("number", flat=True))
    unknown = [c for c in codes if c not in checklist]
    foreign = [c for c in codes if c in checklist and checklist[c].indicator.number not in own]
    messages: list[str] = []
    if unknown:
        messages.append(
            _("Kode kebutuhan tidak dikenal pada instruksi ini: %s.")
            % ", ".join(c[:20] for c in unknown[:10])
        )
    if foreign:
        messages.append(
            _(
                "Kebutuhan %(codes)s bukan milik indikator pengajuan ini (%(own)s); pilih "
                "kebutuhan dari indikator pengajuan."
            )
            % {
                "codes": ", ".join(foreign),
                "own": ", ".join(str(n) for n in sorted(own)) or "—",
            }
        )
    if messages:
        raise Invalid({"requirements": messages})
    refusing = [checklist[c] for c in codes if not checklist[c].accepts(kind)]
    if refusing:
        raise Invalid(
            {
                "requirements": [
                    _(
                        "Kebutuhan %(code)s (%(label)s) tidak menerima berkas berjenis "
                        "%(kind)s; jenis yang diterima: %(accepted)s."
                    )
                    % {
                        "code": r.code,
                        "label": r.label,
                        "kind": EvidenceKind(kind).label,
                        "accepted": ", ".join(
                            str(EvidenceKind(k).label)
                            for k in r.evidence_kinds
                            if k in EvidenceKind.values
                        ),
                    }
                    for r in refusing
                ]
            }
        )
    return [checklist[c] for c in codes]


def _tags(evidence: Evidence) -> dict[str, Any]:
    """A file's kind and requirement codes as the trail records them."""
    return {
        "kind": evidence.kind,
        "requirements": sorted(r.code for r in evidence.requirements.all()),
    }


@transaction.atomic
def evidence_add(
    *,
    user: User,
    submission_id: int,
    upload: UploadedFile[Any] | None,
    too_large: bool = False,
    kind: Any = None,
    requirements: Any = None,
) -> Evidence:
    """Store a new evidence file, recognised by its content, hashed while it is read.

    ``too_large``: the upload handler already dropped an oversized file while it streamed in
    (413, after the rights and state checks). ``kind`` is an ``EvidenceKind`` code (``other``
    when absent); ``requirements`` the codes of the requirements the file serves (a list, or
    text separated by commas), each of one of the submission's own indicators and accepting
    the kind.
    """
    submission = _locked_for_operator(user, submission_id)
    if too_large:
        raise TooLarge(too_large_message())
    if upload is None:
        raise Invalid({"file": _("Pilih berkas untuk diunggah (kolom 'file').")})
    if upload.size is not None and upload.size > max_bytes():
        raise TooLarge(too_large_message())
    kind = EvidenceKind.OTHER.value if kind in (None, "") else _clean_kind(kind)
    served = _requirements_for(
        submission, _clean_codes([] if requirements is None else requirements), kind
    )
    inspected = inspect_upload(upload)
    if inspected is None:
        raise Invalid({"file": accepted_message()})
    if inspected.size == 0:
        raise Invalid({"file": _("Berkas kosong.")})
    scan_upload(upload, user_id=user.pk, about={"submission": submission.pk})
    name = (upload.name or "berkas").replace("/", "_").replace("\\", "_")[-255:]
    evidence = Evidence(
        submission=submission,
        name=name,
        size=inspected.size,
        sha256=inspected.sha256,
        content_type=inspected.content_type,
        kind=kind,
        uploaded_by=user,
    )
    evidence.file.save(name, upload, save=False)
    evidence.save()
    evidence.requirements.set(served)
    _bump(submission)
    trail_append(
        stream=submission.stream,
        action="evidence_upload",
        actor=user,
        role=Role.OPERATOR,
        from_state=submission.state,
        to_state=submission.state,
        files=[_file_entry(evidence)],
        data={
            "evidence": evidence.pk,
            "size": evidence.size,
            "kind": kind,
            "requirements": sorted(r.code for r in served),
            "version": submission.version,
        },
        submission=submission,
        body=submission.body,
    )
    summaries.refresh(submission.instruction_id, submission.body_id)
    return evidence


@transaction.atomic
def evidence_tag(
    *,
    user: User,
    submission_id: int,
    evidence_id: int,
    kind: Any = None,
    requirements: Any = None,
    version: Any = None,
) -> Evidence:
    """Change what a current file is (``kind``) and the requirements it serves (the codes
    given replace the set); ``None`` keeps that part as it is.

    Like any edit: only while the submission is editable (409), ``version`` bumped, a trail
    event that counts as authoring for four eyes. A change to nothing writes nothing.
    """
    submission = _locked_for_operator(user, submission_id, version, evidence_id=evidence_id)
    evidence = submission.evidence.filter(pk=evidence_id, removed_at__isnull=True).first()
    if evidence is None:
        raise NotVisible(_("Berkas tidak ditemukan."))
    before = _tags(evidence)
    new_kind = before["kind"] if kind is None else _clean_kind(kind)
    codes = before["requirements"] if requirements is None else _clean_codes(requirements)
    if new_kind == before["kind"] and codes == before["requirements"]:
        return evidence
    # Checked again as a whole: a new kind must suit the requirements kept, too.
    served = _requirements_for(submission, codes, new_kind)
    if new_kind != evidence.kind:
        evidence.kind = new_kind
        evidence.save(update_fields=["kind"])
    evidence.requirements.set(served)
    _bump(submission)
    trail_append(
        stream=submission.stream,
        action="evidence_tag",
        actor=user,
        role=Role.OPERATOR,
        from_state=submission.state,
        to_state=submission.state,
        files=[_file_entry(evidence)],
        data={
            "evidence": evidence.pk,
            "kind": new_kind,
            "requirements": codes,
            "version": submission.version,
        },
        submission=submission,
        body=submission.body,
    )
    return evidence


@transaction.atomic
def evidence_remove(*, user: User, submission_id: int, evidence_id: int) -> Evidence:
    """Take a file out of the current set; it stays stored and in the trail."""
    submission = _locked_for_operator(user, submission_id, evidence_id=evidence_id)
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
    summaries.refresh(submission.instruction_id, submission.body_id)
    return evidence


def evidence_download(
    *, user: User, submission_id: int, evidence_id: int, preview: bool = False
) -> Evidence:
    """Record that the caller reads a file (the trail shows who read personal data); a
    preview in the page is a download too, marked as one in the event's data.

    The file is hashed first, outside the transaction: one whose bytes differ from its
    upload event, or that is missing, is refused with 409 saying why, its failure recorded
    in a transaction of its own and no download recorded (``workflows.trail.fixity``).
    """
    roles = roles_of(user)
    submission = visible_to(user, roles).filter(pk=submission_id).first()
    if submission is None:
        raise NotVisible(_("Pengajuan tidak ditemukan."))
    evidence = submission.evidence.filter(pk=evidence_id).first()
    if evidence is None:
        raise NotVisible(_("Berkas tidak ditemukan."))
    evidence_intact(evidence)
    with transaction.atomic():
        trail_append(
            stream=submission.stream,
            action="evidence_download",
            actor=user,
            role=reading_role(roles, submission.body_id),
            from_state=submission.state,
            to_state=submission.state,
            files=[_file_entry(evidence)],
            data={"evidence": evidence.pk, "preview": True}
            if preview
            else {"evidence": evidence.pk},
            submission=submission,
            body=submission.body,
        )
    return evidence
