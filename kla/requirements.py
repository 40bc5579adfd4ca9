"""The evidence checklist of an instruction (data dukung): keeping it, and which items are met.

A requirement is met when a current file tagged with it belongs to a submission of the
instruction that is verified or beyond. ``met`` describes the whole instruction whoever asks;
counts of files and the bodies that contributed cover only what the caller may see.

P3AP2KB's verifiers of every body and administrators keep the checklist
(``roles.permissions.may_edit_checklist``); reviewers and operators read it. Every change is a
trail event on the ``system`` stream, written by ``workflows.trail.changes`` as the row is
saved or deleted, with the person who made it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kla.errors import Conflict, Forbidden, Invalid, NotVisible
from kla.instructions import instruction_get
from kla.models import (
    Evidence,
    EvidenceKind,
    Indicator,
    Instruction,
    Requirement,
    SubmissionState,
)
from roles.permissions import may_edit_checklist, may_read_checklist
from roles.roles import Roles, roles_of
from roles.selectors import visible_to
from workflows.trail.receivers import current_actor

# The states in which a submission's files count for the national evaluation.
COUNTING_STATES = (
    SubmissionState.VERIFIED,
    SubmissionState.CONSOLIDATED,
    SubmissionState.AUDITED,
)
FIELDS = ("code", "indicator", "label", "description", "evidence_kinds")
CODE_MAX, LABEL_MAX, DESCRIPTION_MAX = 20, 300, 2000
# ``2.1``, ``2.1a``, ``K1-3``: letters and digits, parts joined by single dots or dashes.
CODE_PATTERN = re.compile(r"[0-9A-Za-z]+(?:[.-][0-9A-Za-z]+)*")
INDICATOR_COUNT = 24

Tag = Evidence.requirements.through


def _counting_tags(instruction: Instruction) -> QuerySet[Any]:
    """The (file, requirement) tags that meet a requirement of the instruction: the rule of
    ``met``, written once for every reader."""
    return Tag.objects.filter(
        requirement__instruction=instruction,
        evidence__removed_at__isnull=True,
        evidence__submission__instruction=instruction,
        evidence__submission__state__in=COUNTING_STATES,
    )


def requirements_met(instruction: Instruction) -> set[int]:
    """The ids of the instruction's requirements that are met (one query)."""
    return set(_counting_tags(instruction).values_list("requirement_id", flat=True).distinct())


def requirements_by_indicator(instruction: Instruction | None) -> dict[int, list[tuple[str, bool]]]:
    """Per indicator id, each requirement's code and whether it is met, by code (one query)."""
    out: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    if instruction is None:
        return out
    rows = (
        Requirement.objects.filter(instruction=instruction)
        .annotate(met=Exists(_counting_tags(instruction).filter(requirement_id=OuterRef("pk"))))
        .order_by("code")
        .values_list("indicator_id", "code", "met")
    )
    for indicator_id, code, met in rows:
        out[indicator_id].append((code, bool(met)))
    return out


# --- reading the checklist -------------------------------------------------------------------


def _zero_states() -> dict[str, int]:
    return dict.fromkeys(SubmissionState.values, 0)


@dataclass
class RequirementStatus:
    """One requirement as a person reads it: met for the whole instruction; the files and
    bodies of what they may see."""

    requirement: Requirement
    met: bool
    files: dict[str, int] = field(default_factory=_zero_states)
    # The bodies of those files: codes (for the API) and names (for the pages), each sorted.
    bodies: list[str] = field(default_factory=list)
    body_names: list[str] = field(default_factory=list)

    @property
    def files_total(self) -> int:
        return sum(self.files.values())


def checklist_compute(
    *,
    user: User | AnonymousUser,
    roles: Roles | None = None,
    instruction: Instruction | None,
    indicator: int | None = None,
) -> list[RequirementStatus]:
    """The instruction's requirements (of one indicator when given), by indicator and code,
    each with ``met`` and the caller's visible current files tagged with it, by the state of
    their submissions, and the bodies of those files.

    Three queries whatever the size: the requirements, the met ones, the tagged files.
    Nobody but reviewers, operators and the checklist's keepers reads it (404).
    """
    roles = roles if roles is not None else roles_of(user)
    if not may_read_checklist(roles):
        raise NotVisible(_("Tidak ditemukan."))
    if instruction is None:
        return []
    requirements = Requirement.objects.filter(instruction=instruction).select_related("indicator")
    tags = Tag.objects.filter(
        requirement__instruction=instruction,
        evidence__removed_at__isnull=True,
        evidence__submission_id__in=visible_to(user, roles).values("pk"),
    )
    if indicator is not None:
        requirements = requirements.filter(indicator__number=indicator)
        tags = tags.filter(requirement__indicator__number=indicator)
    rows = {
        r.pk: RequirementStatus(requirement=r, met=False)
        for r in requirements.order_by("indicator__number", "code")
    }
    for pk in requirements_met(instruction):
        if pk in rows:
            rows[pk].met = True
    bodies: dict[int, dict[str, str]] = defaultdict(dict)
    for found in tags.values(
        "requirement_id",
        "evidence__submission__state",
        "evidence__submission__body__code",
        "evidence__submission__body__name",
    ).annotate(n=Count("pk")):
        row = rows.get(found["requirement_id"])
        if row is not None:
            row.files[found["evidence__submission__state"]] += found["n"]
            code = found["evidence__submission__body__code"]
            bodies[row.requirement.pk][code] = found["evidence__submission__body__name"]
    for pk, row in rows.items():
        named = bodies.get(pk, {})
        row.bodies = sorted(named)
        row.body_names = sorted(named.values())
    return list(rows.values())


# --- keeping the checklist -------------------------------------------------------------------


@contextmanager
def _acting(user: User) -> Iterator[None]:
    # The trail events are written by the model signals, which name ``current_actor``: set
    # it here too, so that a change made outside a request (the API, a shell) names its author.
    token = current_actor.set(user)
    try:
        yield
    finally:
        current_actor.reset(token)


def checklist_editor_required(roles: Roles) -> None:
    """403 for anyone who may not keep the checklist (the pages' forms ask it too)."""
    if not may_edit_checklist(roles):
        raise Forbidden(
            _("Hanya verifikator Dinas P3AP2KB dan administrator yang dapat mengubah data dukung.")
        )


def _may_edit(user: User) -> None:
    checklist_editor_required(roles_of(user))


def _text(value: Any, *, required: bool, limit: int) -> tuple[str, str | None]:
    """``(clean, error)`` of a text field."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        return "", _("Harus berupa teks.")
    value = value.strip()
    if required and not value:
        return "", _("Wajib diisi.")
    if len(value) > limit:
        return "", _("Paling banyak %(limit)d karakter.") % {"limit": limit}
    return value, None


def _indicator(value: Any) -> tuple[Indicator | None, str | None]:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    message = _("Indikator harus nomor 1 sampai %(count)d.") % {"count": INDICATOR_COUNT}
    # Only 1-24 can exist: anything else is refused without asking the database.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INDICATOR_COUNT:
        return None, message
    found = Indicator.objects.filter(number=value).first()
    return (found, None) if found is not None else (None, message)


def _kinds(value: Any) -> tuple[list[str], str | None]:
    if value is None:
        return [], None
    if not isinstance(value, list | tuple) or not all(isinstance(k, str) for k in value):
        return [], _("Jenis bukti harus daftar kode jenis.")
    unknown = sorted({k for k in value if k not in EvidenceKind.values})
    if unknown:
        return [], _("Jenis bukti tidak dikenal: %(unknown)s; pilih dari: %(known)s.") % {
            "unknown": ", ".join(unknown),
            "known": ", ".join(EvidenceKind.values),
        }
    # In the order of the kinds, once each, so that equal choices compare equal in the trail.
    return [k for k in EvidenceKind.values if k in value], None


def _clean(
    data: Mapping[str, Any], *, instruction: Instruction, requirement: Requirement | None
) -> dict[str, Any]:
    """The fields given, checked; every bad one is named at once (400)."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise Invalid({key: _("Kolom tidak dikenal.") for key in unknown})
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "code" in data:
        code, error = _text(data["code"], required=True, limit=CODE_MAX)
        if error is None and not CODE_PATTERN.fullmatch(code):
            error = _("Kode hanya berisi huruf, angka, titik dan tanda hubung, seperti 2.1.")
        if error is None:
            # Codes that differ only in case would name the same item to people.
            taken = Requirement.objects.filter(instruction=instruction, code__iexact=code)
            if requirement is not None:
                taken = taken.exclude(pk=requirement.pk)
            if taken.exists():
                error = _("Kode %(code)s sudah dipakai di instruksi ini.") % {"code": code}
        if error is None:
            clean["code"] = code
        else:
            errors["code"] = error
    if "indicator" in data:
        indicator, error = _indicator(data["indicator"])
        if error is None:
            clean["indicator"] = indicator
        else:
            errors["indicator"] = error
    for key, required, limit in (
        ("label", True, LABEL_MAX),
        ("description", False, DESCRIPTION_MAX),
    ):
        if key in data:
            text, error = _text(data[key], required=required, limit=limit)
            if error is None:
                clean[key] = text
            else:
                errors[key] = error
    if "evidence_kinds" in data:
        kinds, error = _kinds(data["evidence_kinds"])
        if error is None:
            clean["evidence_kinds"] = kinds
        else:
            errors["evidence_kinds"] = error
    if errors:
        raise Invalid(errors)
    return clean


def _serving(requirement: Requirement) -> int:
    """How many current files name the requirement."""
    return requirement.evidence.filter(removed_at__isnull=True).count()


def _save(requirement: Requirement) -> None:
    # The code is checked above; two people adding the same code at once meet the constraint.
    try:
        with transaction.atomic():
            requirement.save()
    except IntegrityError:
        raise Invalid(
            {
                "code": _("Kode %(code)s sudah dipakai di instruksi ini.")
                % {"code": requirement.code}
            }
        ) from None


def _locked(requirement_id: Any) -> Requirement:
    """The requirement, its row locked until the change commits, else 404."""
    if isinstance(requirement_id, bool) or not isinstance(requirement_id, int):
        raise NotVisible(_("Kebutuhan data dukung tidak ditemukan."))
    # FOR UPDATE, not FOR NO KEY UPDATE: a file being tagged with it at the same moment takes
    # a key-share lock on the row, and so waits for this change, or this change for it.
    found = (
        Requirement.objects.select_for_update()
        .select_related("instruction", "indicator")
        .filter(pk=requirement_id)
        .first()
    )
    if found is None:
        raise NotVisible(_("Kebutuhan data dukung tidak ditemukan."))
    return found


@transaction.atomic
def requirement_create(
    *,
    user: User,
    instruction: Instruction | int | str | None = None,
    code: Any,
    indicator: Any,
    label: Any,
    description: Any = "",
    evidence_kinds: Any = (),
) -> Requirement:
    """Add a requirement to an instruction's checklist (the current one when none is named).

    403 for anyone but P3AP2KB's verifiers of every body and administrators; 400 field by
    field (code, unique within the instruction; indicator 1-24; label; description; the
    evidence kinds that satisfy it, empty for any); a trail event on the ``system`` stream.
    """
    _may_edit(user)
    answered = instruction if isinstance(instruction, Instruction) else instruction_get(instruction)
    clean = _clean(
        {
            "code": code,
            "indicator": indicator,
            "label": label,
            "description": description,
            "evidence_kinds": evidence_kinds,
        },
        instruction=answered,
        requirement=None,
    )
    requirement = Requirement(instruction=answered, **clean)
    with _acting(user):
        _save(requirement)
    return requirement


@transaction.atomic
def requirement_update(
    *, user: User, requirement_id: int, fields: Mapping[str, Any]
) -> Requirement:
    """Change some of a requirement's fields (``code``, ``indicator``, ``label``,
    ``description``, ``evidence_kinds``).

    404 unknown, 403 as for adding, 400 field by field; 409 when its indicator would change
    while current files serve it, since their tags would name an indicator their submission
    may not have. Changing its kinds keeps the files' tags: what was accepted stays accepted.
    A trail event names what changed, before and after.
    """
    requirement = _locked(requirement_id)
    _may_edit(user)
    clean = _clean(fields, instruction=requirement.instruction, requirement=requirement)
    moved = "indicator" in clean and clean["indicator"].pk != requirement.indicator_id
    if moved:
        serving = _serving(requirement)
        if serving:
            raise Conflict(
                ngettext(
                    "Kebutuhan %(code)s dipenuhi %(count)d berkas bukti dukung: indikatornya "
                    "tidak dapat diubah selama berkas itu menandainya.",
                    "Kebutuhan %(code)s dipenuhi %(count)d berkas bukti dukung: indikatornya "
                    "tidak dapat diubah selama berkas-berkas itu menandainya.",
                    serving,
                )
                % {"code": requirement.code, "count": serving}
            )
    changed = [name for name, value in clean.items() if getattr(requirement, name) != value]
    for name in changed:
        setattr(requirement, name, clean[name])
    if changed:
        with _acting(user):
            _save(requirement)
    return requirement


@transaction.atomic
def requirement_delete(*, user: User, requirement_id: int) -> None:
    """Delete a requirement that no current file serves (409 naming how many do).

    404 unknown, 403 as for adding. The tags of files taken out of their submissions go with
    it; the submit and resubmit events still record them. A trail event keeps what it was.
    """
    requirement = _locked(requirement_id)
    _may_edit(user)
    serving = _serving(requirement)
    if serving:
        raise Conflict(
            ngettext(
                "Kebutuhan %(code)s tidak dapat dihapus: %(count)d berkas bukti dukung "
                "memenuhinya.",
                "Kebutuhan %(code)s tidak dapat dihapus: %(count)d berkas bukti dukung "
                "memenuhinya.",
                serving,
            )
            % {"code": requirement.code, "count": serving}
        )
    with _acting(user):
        requirement.delete()
