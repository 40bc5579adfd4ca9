"""Monitoring (Diktum KELIMA): notes to a body and reminders sent to it by hand.

P3AP2KB's verifiers and BAPPERIDA's consolidators write a monitoring note to a body, for an
instruction (the current one unless named), optionally about one indicator; the body's
operators see it, every reviewer reads it. They also remind a body by hand from the
compliance matrix, at most once a body a WIB day and instruction (the UNIQUE constraint of
``ManualReminder``: a second is 409), apart from the sweep's automatic reminders.

Checks, the first that fails answering: a role that can never do this 403 (operators,
auditors, people without a role); then the fields, all at once, 400 (unknown body,
instruction, indicator, an empty or too long note), except that a known body outside a
scoped verifier's bodies is 403 first. Each is one transaction: the row, a trail event on the
body's stream and the notices to its operators (or to its own address when it has none).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kla.errors import Conflict, Forbidden, Invalid
from kla.instructions import instruction_get
from kla.models import Body, Indicator, Instruction
from kla.queue import publish_ids_on_commit
from kla.time import long_date, wib_date
from roles.permissions import may_monitor, monitoring_role
from roles.roles import Role, Roles, roles_of
from roles.selectors import finding_filter, operators_of_body
from workflows.models import ManualReminder, MonitoringNote, Notification
from workflows.notifications.outbox import EMAIL_TASK
from workflows.notifications.write import body_address_row
from workflows.trail.append import trail_append

NOTE_MAX = 5_000
REMINDER_NOTE_MAX = 2_000


# --- reading ---------------------------------------------------------------------------------


def monitoring_notes_visible_to(roles: Roles) -> QuerySet[MonitoringNote]:
    """The notes these roles may read: reviewers every body's, operators their bodies'."""
    q = finding_filter(roles)  # the same rule as findings: any model with a ``body``
    if q is None:
        return MonitoringNote.objects.none()
    return MonitoringNote.objects.filter(q).select_related(
        "body", "instruction", "indicator", "author"
    )


# --- checking input --------------------------------------------------------------------------


def _refuse_role(roles: Roles) -> None:
    if not may_monitor(roles):
        raise Forbidden(
            _(
                "Hanya verifikator (Dinas P3AP2KB) dan konsolidator (BAPPERIDA) "
                "yang dapat melakukannya."
            )
        )


def _body(agency: Any, roles: Roles, errors: dict[str, str]) -> tuple[Body | None, str]:
    """The body named by its code and the role its monitor acts in; 403 outside the scope."""
    body = Body.objects.filter(code=agency).first() if isinstance(agency, str) and agency else None
    if body is None:
        errors["agency"] = _("Kode perangkat tidak dikenal.")
        return None, ""
    role = monitoring_role(roles, body.pk)
    if not role:
        raise Forbidden(_("Perangkat/lembaga ini di luar lingkup verifikasi Anda."))
    return body, role


def _instruction(value: Any, body: Body | None, errors: dict[str, str]) -> Instruction | None:
    try:
        instruction = instruction_get(value)
    except Invalid as exc:
        errors.update({k: " ".join(v) for k, v in exc.errors.items()})
        return None
    if body is not None and not instruction.addressees.filter(pk=body.pk).exists():
        errors.setdefault("agency", _("Perangkat/lembaga ini bukan alamat instruksi tersebut."))
    return instruction


def _indicator(value: Any, errors: dict[str, str]) -> Indicator | None:
    if value is None or value == "":
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    found = Indicator.objects.filter(number=number).first() if number and number <= 24 else None
    if found is None:
        errors["indicator"] = _("Indikator harus nomor 1 sampai 24.")
    return found


def _note(value: Any, *, limit: int, required: bool, errors: dict[str, str]) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors["note"] = _("Harus berupa teks.")
        return ""
    text = value.strip()
    if required and not text:
        errors["note"] = _("Catatan wajib diisi.")
    elif len(text) > limit:
        errors["note"] = _("Paling banyak %(n)s karakter.") % {"n": limit}
    return text


# --- notices ---------------------------------------------------------------------------------


def _notify_body(*, body: Body, kind: str, title: str, message: str, actor: User) -> list[str]:
    """Tell the body's active operators (never the actor), or its own address when it has
    none; returns who was told: usernames, or the address."""
    people = [p for p in operators_of_body(body.pk) if p.pk != actor.pk]
    rows = [Notification(user=p, kind=kind, title=title, message=message) for p in people]
    told = [p.username for p in people]
    if not people:
        row = body_address_row(body, kind=kind, title=title, message=message)
        if row is not None:
            rows.append(row)
            told.append(body.email)
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if ids:
        publish_ids_on_commit(EMAIL_TASK, ids)
    return told


# --- writing ---------------------------------------------------------------------------------


@transaction.atomic
def monitoring_note_write(
    *, user: User, agency: Any, note: Any, instruction: Any = None, indicator: Any = None
) -> MonitoringNote:
    """Write a monitoring note to a body; a trail event on its stream and a notice to it."""
    roles = roles_of(user)
    _refuse_role(roles)
    errors: dict[str, str] = {}
    body, role = _body(agency, roles, errors)
    answered = _instruction(instruction, body, errors)
    about = _indicator(indicator, errors)
    text = _note(note, limit=NOTE_MAX, required=True, errors=errors)
    if errors or body is None or answered is None:
        raise Invalid(errors)
    written = MonitoringNote.objects.create(
        instruction=answered,
        body=body,
        indicator=about,
        note=text,
        author=user,
        role=role,
        created_at=timezone.now(),
    )
    trail_append(
        stream=f"body:{body.code}",
        action="monitoring_note",
        actor=user,
        role=role,
        note=text,
        data={
            "monitoring_note": written.pk,
            "instruction": answered.pk,
            "indicator": about.number if about is not None else None,
        },
        body=body,
    )
    # Stored text is read later by other people: in the site's language, not the writer's.
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Catatan monitoring %(label)s dari %(role)s") % {
            "label": answered.label,
            "role": Role(role).label,
        }
        if about is not None:
            title += " " + _("(indikator %(n)s)") % {"n": about.number}
    _notify_body(body=body, kind="monitoring_note", title=title, message=text, actor=user)
    return written


@transaction.atomic
def compliance_remind(
    *, user: User, agency: Any, note: Any = None, instruction: Any = None
) -> ManualReminder:
    """Remind a body by hand of an instruction (the current one unless named): once a body a
    WIB day and instruction (409 after that); a trail event and a notice to the body."""
    roles = roles_of(user)
    _refuse_role(roles)
    errors: dict[str, str] = {}
    body, role = _body(agency, roles, errors)
    answered = _instruction(instruction, body, errors)
    text = _note(note, limit=REMINDER_NOTE_MAX, required=False, errors=errors)
    if errors or body is None or answered is None:
        raise Invalid(errors)
    now = timezone.now()
    day = wib_date(now)
    try:
        with transaction.atomic():  # a savepoint: the refusal leaves the outer one usable
            reminder = ManualReminder.objects.create(
                instruction=answered, body=body, day=day, note=text, sent_by=user, sent_at=now
            )
    except IntegrityError:
        raise Conflict(
            _("%(body)s sudah diingatkan hari ini untuk instruksi ini; coba lagi besok.")
            % {"body": body.name}
        ) from None
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Pengingat KLA %(label)s: batas waktu %(deadline)s") % {
            "label": answered.label,
            "deadline": long_date(answered.deadline),
        }
        message = text or _(
            "Mohon lengkapi pengajuan setiap kategori atau nyatakan nihil sebelum batas waktu."
        )
    told = _notify_body(body=body, kind="manual_reminder", title=title, message=message, actor=user)
    reminder.sent_to = told
    reminder.save(update_fields=["sent_to"])
    trail_append(
        stream=f"body:{body.code}",
        action="manual_reminder",
        actor=user,
        role=role,
        note=message,
        data={
            "manual_reminder": reminder.pk,
            "instruction": answered.pk,
            "day": day.isoformat(),
            "sent_to": told,
        },
        body=body,
    )
    return reminder
