"""Instructions as data: which one a request means, and starting next year's from this one.

Every list and figure that belongs to an instruction takes ``instruction``: absent, the current
one; ``all`` on lists that may span instructions. Pages and the API resolve it here, so an
unknown value is the same clear 400 everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kla.errors import Conflict, Invalid
from kla.models import Instruction, Requirement

ALL = "all"


def instruction_get(value: Any, *, field: str = "instruction") -> Instruction:
    """The instruction ``value`` names (an id), or the current one when it names none.

    An unknown or malformed id is 400 on ``field``; no current instruction is 409.
    """
    if value is None or value == "":
        current = Instruction.current()
        if current is None:
            raise Conflict(_("Belum ada instruksi yang berlaku."))
        return current
    if isinstance(value, bool):
        raise Invalid({field: _("Instruksi tidak dikenal: %s.") % value})
    # ASCII digits only: "²" is a digit to ``isdigit`` but not to ``int``.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 < value < 2**31:
        raise Invalid({field: _("Instruksi tidak dikenal: %s.") % value})
    instruction = Instruction.objects.filter(pk=value).first()
    if instruction is None:
        raise Invalid({field: _("Instruksi tidak dikenal: %s.") % value})
    return instruction


def instruction_scope(value: Any, *, field: str = "instruction") -> Instruction | None:
    """For lists: ``all`` means every instruction (None); otherwise as ``instruction_get``."""
    if isinstance(value, str) and value.strip().lower() == ALL:
        return None
    return instruction_get(value, field=field)


def years_error(instruction: Instruction) -> str:
    """The message for years outside the instruction's."""
    return _("Tahun harus daftar tahun dari instruksi %(label)s: %(years)s.") % {
        "label": instruction.label,
        "years": ", ".join(str(y) for y in instruction.years),
    }


def _replace_year(title: str, old: int, new: int) -> str:
    # "... Tahun 2030" becomes "... Tahun 2031"; a title without its year gets none added.
    return re.sub(rf"(?<!\d){old}(?!\d)", str(new), title)


@transaction.atomic
def instruction_copy(
    *,
    source: Instruction,
    number: Any,
    year: Any,
    issued_on: dt.date,
    deadline: dt.date,
    effective_on: dt.date | None = None,
    title: str | None = None,
    years: list[int] | None = None,
    make_current: bool = False,
) -> Instruction:
    """Start next year's instruction from ``source``: its addressees, budgets and evidence
    checklist copied, its
    reporting years shifted by the difference of the years unless given, its title with the
    year replaced unless given. The copy becomes current only when asked.

    Bad input is 400 per field and creates nothing: a number and year that already exist, a
    deadline before the issue date, years that are not a list of years.
    """
    errors: dict[str, str] = {}
    if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 10_000:
        errors["number"] = _("Nomor harus bilangan bulat positif.")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = _("Tahun harus antara 2000 dan 2100.")
    if not errors and Instruction.objects.filter(number=number, year=year).exists():
        errors["number"] = _("Instruksi %(label)s sudah ada.") % {"label": f"{number}/{year}"}
    if deadline < issued_on:
        errors["deadline"] = _("Batas waktu tidak boleh sebelum tanggal ditetapkan.")
    if effective_on is not None and effective_on > deadline:
        errors["effective_on"] = _("Tanggal berlaku tidak boleh sesudah batas waktu.")
    shift = year - source.year if "year" not in errors else 0
    new_years = sorted({y + shift for y in source.years}) if years is None else years
    if (
        not isinstance(new_years, list)
        or not new_years
        or any(isinstance(y, bool) or not isinstance(y, int) for y in new_years)
        or any(not 2000 <= y <= 2100 for y in new_years)
    ):
        errors["years"] = _("Tahun pelaporan harus daftar tahun, misalnya 2027,2028,2029.")
    if title is not None and not title.strip():
        errors["title"] = _("Judul tidak boleh kosong.")
    if title is not None and len(title) > 300:
        errors["title"] = _("Paling banyak 300 karakter.")
    if errors:
        raise Invalid(errors)
    if make_current:
        # One current instruction, enforced by a partial unique constraint: the old one first.
        for old in Instruction.objects.select_for_update().filter(is_current=True):
            old.is_current = False
            old.save(update_fields=["is_current"])
    copy = Instruction.objects.create(
        number=number,
        year=year,
        title=title.strip()
        if title is not None
        else _replace_year(source.title, source.year, year),
        issuer=source.issuer,
        issued_on=issued_on,
        effective_on=effective_on or issued_on,
        deadline=deadline,
        years=sorted(set(new_years)),
        budget_verify=source.budget_verify,
        budget_revise=source.budget_revise,
        budget_consolidate=source.budget_consolidate,
        budget_audit=source.budget_audit,
        follow_up_days=source.follow_up_days,
        is_current=make_current,
    )
    copy.addressees.set(source.addressees.filter(active=True))
    for r in source.requirements.all():
        # One by one, not in bulk: each new requirement is an event of the checklist's trail.
        Requirement.objects.create(
            instruction=copy,
            indicator_id=r.indicator_id,
            code=r.code,
            label=r.label,
            description=r.description,
            evidence_kinds=list(r.evidence_kinds),
        )
    return copy
