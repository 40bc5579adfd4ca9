"""BAPPERIDA's consolidation screen: the verified submissions, and acting on many at once.

Acting on several rows is not one transaction: each row goes through
``workflows.services.submission_act`` in its own transaction with its own trail event, so
one refusal (four eyes, or a 409 because somebody acted first) never undoes the others, and
the screen reports per row what succeeded and why the rest failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from kla.errors import Forbidden, Invalid, NotVisible, ServiceError
from kla.models import Instruction, Submission, SubmissionState
from roles.permissions import may_consolidate, may_view_consolidation
from roles.roles import Roles, roles_of
from roles.selectors import visible_to
from workflows.services import submission_act

BATCH_ACTIONS = ("consolidate", "return")
MAX_ROWS = 200


@dataclass(frozen=True)
class RowOutcome:
    """What happened to one selected submission."""

    submission_id: int
    ok: bool
    status: int
    message: str
    title: str = ""
    agency: str = ""


def consolidation_queue(
    *,
    user: User | AnonymousUser,
    roles: Roles | None = None,
    agency: str | None = None,
    category: str | None = None,
    indicator: int | None = None,
    instruction: Instruction | None = None,
) -> QuerySet[Submission]:
    """The visible verified submissions, filtered by instruction, body code, category and
    indicator."""
    roles = roles if roles is not None else roles_of(user)
    if not may_view_consolidation(roles):
        raise NotVisible(_("Halaman tidak ditemukan."))
    qs = visible_to(user, roles).filter(state=SubmissionState.VERIFIED)
    if instruction is not None:
        qs = qs.filter(instruction=instruction)
    if agency:
        qs = qs.filter(body__code=agency)
    if category:
        qs = qs.filter(category=category)
    if indicator:
        # EXISTS rather than a join: no duplicate rows, so no DISTINCT over the whole queue.
        linked = Submission.indicators.through.objects.filter(
            submission_id=OuterRef("pk"), indicator__number=indicator
        )
        qs = qs.filter(Exists(linked))
    return qs.select_related("body").order_by("body__code", "id")


def consolidation_apply(
    *,
    user: User,
    action: Any,
    items: Sequence[tuple[int, int | None]],
    note: Any = "",
    roles: Roles | None = None,
) -> list[RowOutcome]:
    """Consolidate the selected submissions, or return one to the verifier with a reason.

    ``items`` pairs each submission id with the ``version`` the person saw (``None``: not
    checked). The whole request is refused before any row is touched when the caller is not
    a consolidator (403), the action is unknown, nothing is selected, or a return names more
    than one submission or no reason (400). After that, every row answers for itself.
    """
    if action not in BATCH_ACTIONS:
        raise Invalid({"action": _("Pilih konsolidasikan atau kembalikan.")})
    roles = roles if roles is not None else roles_of(user)
    if not may_consolidate(roles):
        raise Forbidden(_("Hanya konsolidator (BAPPERIDA) yang dapat melakukan ini."))
    if not items:
        raise Invalid({"pilih": _("Pilih setidaknya satu pengajuan.")})
    if len(items) > MAX_ROWS:
        raise Invalid({"pilih": _("Paling banyak %d pengajuan sekaligus.") % MAX_ROWS})
    if action == "return":
        if len(items) != 1:
            raise Invalid({"pilih": _("Kembalikan satu pengajuan sekaligus, dengan alasannya.")})
        if not isinstance(note, str) or not note.strip():
            raise Invalid({"note": _("Catatan (alasan) wajib diisi untuk aksi ini.")})
    outcomes: list[RowOutcome] = []
    seen: set[int] = set()
    for submission_id, version in items:
        if submission_id in seen:
            continue
        seen.add(submission_id)
        try:
            done = submission_act(
                user=user,
                submission_id=submission_id,
                action=action,
                note=note if action == "return" else "",
                version=version,
                roles=roles,
            )
        except ServiceError as exc:
            outcomes.append(RowOutcome(submission_id, False, exc.status, exc.message))
        else:
            message = (
                _("Terkonsolidasi.")
                if action == "consolidate"
                else _("Dikembalikan ke verifikator.")
            )
            outcomes.append(
                RowOutcome(submission_id, True, 200, message, done.title, done.body.code)
            )
    return outcomes
