"""Trail events on the ``system`` stream for every change of an instruction, of the working
calendar, of a body and of the evidence checklist (DESIGN, "Instructions, years and places").

Instructions, calendar days and bodies change in the admin, in the seed, in
``instruction_copy`` and in a shell, so the changes are caught at the model level, as the
rights changes of ``workflows.trail.receivers`` are, with the person read from
``current_actor``. ``pre_save`` keeps the row as it was before the save, so that each event says
what changed, before and after; an event is appended only when something did change.

Rows written by ``loaddata`` (``raw``) are not recorded: a fixture restores a state, it does
not change one. A queryset ``update()`` sends no signal: the engine never changes these rows
that way. ``workflows.sla.receivers`` recomputes due times on the same signals; it is not
concerned with the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from kla.models import INSTRUCTION_FIELDS, Body, Instruction, Requirement
from roles.roles import Role
from workflows.models import CalendarDay
from workflows.trail.append import SYSTEM_STREAM, trail_append
from workflows.trail.receivers import current_actor

# The fields whose changes are recorded, per model. A body's ``seeded_name`` is the seed's own
# bookkeeping, not something a person changes.
TRACKED: dict[type[models.Model], tuple[str, ...]] = {
    Instruction: INSTRUCTION_FIELDS,
    Body: ("code", "name", "kind", "email", "active"),
    CalendarDay: ("date", "kind", "reason"),
    Requirement: (
        "instruction_id",
        "indicator_id",
        "code",
        "label",
        "description",
        "evidence_kinds",
    ),
}
# The action names of each model's events: (created, changed, deleted).
ACTIONS: dict[type[models.Model], tuple[str, str, str]] = {
    Instruction: ("instruction_create", "instruction_change", "instruction_remove"),
    Body: ("body_create", "body_change", "body_remove"),
    CalendarDay: ("calendar_day_add", "calendar_day_change", "calendar_day_remove"),
    Requirement: ("requirement_create", "requirement_change", "requirement_remove"),
}
ADDRESSEES_ADD = "instruction_addressees_add"
ADDRESSEES_REMOVE = "instruction_addressees_remove"
# Where the row as it was waits between ``pre_save`` and ``post_save``.
_BEFORE = "_trail_before"

Jsonable = str | int | bool | None | list[Any]


def jsonable(value: Any) -> Jsonable:
    """A field's value as the trail stores it: dates as ISO 8601, lists item by item."""
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def _values(sender: type[models.Model], row: models.Model | dict[str, Any]) -> dict[str, Any]:
    """The tracked fields of an instance or of a ``values()`` row, normalised alike."""
    out: dict[str, Any] = {}
    for name in TRACKED[sender]:
        field = sender._meta.get_field(name)
        assert isinstance(field, models.Field)  # TRACKED names concrete fields only
        raw = row[name] if isinstance(row, dict) else getattr(row, name)
        # ``to_python``: a save may hold what a form or a shell assigned (a date as text).
        out[name] = jsonable(field.to_python(raw))
    return out


def _subject(instance: models.Model) -> dict[str, Any]:
    """What the event is about, as people name it."""
    if isinstance(instance, Instruction):
        return {"instruction": instance.pk, "label": instance.label}
    if isinstance(instance, Body):
        return {"body": instance.code}
    if isinstance(instance, CalendarDay):
        return {"date": jsonable(CalendarDay._meta.get_field("date").to_python(instance.date))}
    if isinstance(instance, Requirement):
        return {"instruction": instance.instruction_id, "requirement": instance.code}
    raise TypeError(type(instance))


def _name(instance: models.Model) -> str:
    if isinstance(instance, Instruction):
        return instance.label
    if isinstance(instance, Body):
        return instance.code
    if isinstance(instance, Requirement):
        return f"{instance.code} {instance.label}"
    return str(_subject(instance)["date"])


def _show(value: Any) -> str:
    return "-" if value in (None, "") else str(value)


def _record(*, action: str, data: dict[str, Any], note: str) -> None:
    actor = current_actor.get()
    # P3AP2KB's verifiers keep the evidence checklist; everything else here is an
    # administrator's (or, with no person, the system's).
    role = Role.ADMIN
    if action.startswith("requirement_") and actor is not None and not actor.is_staff:
        role = Role.VERIFIER
    with transaction.atomic():
        trail_append(
            stream=SYSTEM_STREAM,
            action=action,
            actor=actor,
            role=role,
            note=note,
            data=data,
        )


@receiver(pre_save, sender=Instruction, dispatch_uid="trail_instruction_before")
@receiver(pre_save, sender=Body, dispatch_uid="trail_body_before")
@receiver(pre_save, sender=CalendarDay, dispatch_uid="trail_calendar_before")
@receiver(pre_save, sender=Requirement, dispatch_uid="trail_requirement_before")
def _remember(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw") or instance.pk is None:
        return
    before = sender._default_manager.filter(pk=instance.pk).values(*TRACKED[sender]).first()
    setattr(instance, _BEFORE, before)


@receiver(post_save, sender=Instruction, dispatch_uid="trail_instruction_saved")
@receiver(post_save, sender=Body, dispatch_uid="trail_body_saved")
@receiver(post_save, sender=CalendarDay, dispatch_uid="trail_calendar_saved")
@receiver(post_save, sender=Requirement, dispatch_uid="trail_requirement_saved")
def _saved(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    before_row = instance.__dict__.pop(_BEFORE, None)
    if kwargs.get("raw"):
        return
    created_action, changed_action, _deleted = ACTIONS[sender]
    after = _values(sender, instance)
    if created or before_row is None:
        shown = ", ".join(f"{k} {_show(v)}" for k, v in after.items())
        _record(
            action=created_action,
            data=_subject(instance) | {"values": after},
            note=f"{_name(instance)}: {shown}",
        )
        return
    before = _values(sender, before_row)
    saved: Iterable[str] | None = kwargs.get("update_fields")
    names = [n for n in TRACKED[sender] if saved is None or n in saved]
    changes = {n: {"before": before[n], "after": after[n]} for n in names if before[n] != after[n]}
    if not changes:
        return
    shown = "; ".join(f"{k} {_show(v['before'])} → {_show(v['after'])}" for k, v in changes.items())
    _record(
        action=changed_action,
        data=_subject(instance) | {"changes": changes},
        note=f"{_name(instance)}: {shown}",
    )


@receiver(post_delete, sender=Instruction, dispatch_uid="trail_instruction_deleted")
@receiver(post_delete, sender=Body, dispatch_uid="trail_body_deleted")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="trail_calendar_deleted")
@receiver(post_delete, sender=Requirement, dispatch_uid="trail_requirement_deleted")
def _deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    _created, _changed, deleted_action = ACTIONS[sender]
    values = _values(sender, instance)
    _record(
        action=deleted_action,
        data=_subject(instance) | {"values": values},
        note=_name(instance),
    )


# --- addressees -----------------------------------------------------------------------------

Through = Instruction.addressees.through


def _addressees_record(action: str, pairs: Iterable[tuple[int, int]]) -> None:
    """One event per instruction, naming the bodies added to or removed from its addressees."""
    by_instruction: dict[int, set[int]] = {}
    for instruction_id, body_id in pairs:
        by_instruction.setdefault(instruction_id, set()).add(body_id)
    if not by_instruction:
        return
    instructions = Instruction.objects.in_bulk(list(by_instruction))
    codes = dict(
        Body.objects.filter(
            pk__in={b for bodies in by_instruction.values() for b in bodies}
        ).values_list("pk", "code")
    )
    for instruction_id in sorted(by_instruction):
        instruction = instructions[instruction_id]
        bodies = sorted(codes[b] for b in by_instruction[instruction_id])
        _record(
            action=action,
            data={"instruction": instruction.pk, "label": instruction.label, "bodies": bodies},
            note=f"{instruction.label}: {', '.join(bodies)}",
        )


@receiver(m2m_changed, sender=Through, dispatch_uid="trail_addressees_changed")
def _addressees_changed(
    sender: Any,
    instance: Instruction | Body,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    # ``reverse``: ``body.instructions`` changed; ``instance`` is the body, ``pk_set`` the
    # instructions. Removals are recorded before they happen (in the same transaction) so that
    # only the pairs that really were there are named; Django sends ``pk_set`` as asked.
    mine = "body_id" if reverse else "instruction_id"
    theirs = "instruction_id" if reverse else "body_id"
    if action == "post_add" and pk_set:
        pairs = [(instance.pk, other) for other in pk_set]
        verb = ADDRESSEES_ADD
    elif action in ("pre_remove", "pre_clear"):
        present = Through._default_manager.filter(**{mine: instance.pk})
        if action == "pre_remove":
            if not pk_set:
                return
            present = present.filter(**{f"{theirs}__in": pk_set})
        pairs = [(instance.pk, other) for other in present.values_list(theirs, flat=True)]
        verb = ADDRESSEES_REMOVE
    else:
        return
    _addressees_record(verb, [(b, i) for i, b in pairs] if reverse else pairs)
