"""Reading a follow-up's files: the auditor who assesses a response opens what the body sent.

Every download is a trail event on the finding's stream, as evidence downloads are: the files
may hold children's personal data, and auditors must see who read them.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from kla.errors import NotVisible
from roles.permissions import reading_role
from roles.roles import roles_of
from workflows.models import FollowUpFile
from workflows.supervision.findings import findings_visible_to
from workflows.trail.append import trail_append
from workflows.trail.fixity import follow_up_file_intact


def follow_up_file_download(*, user: User, finding_id: int, file_id: int) -> FollowUpFile:
    """The file if the person may see its finding (else 404), with its download recorded.

    It is hashed first, outside the transaction: a file whose bytes differ from its follow-up
    event, or that is missing, is refused with 409 saying why, its failure recorded in a
    transaction of its own and no download recorded (``workflows.trail.fixity``).
    """
    roles = roles_of(user)
    finding = (
        findings_visible_to(roles)
        .select_related("body", "submission")
        .filter(pk=finding_id)
        .first()
    )
    if finding is None:
        raise NotVisible(_("Temuan tidak ditemukan."))
    found = (
        FollowUpFile.objects.select_related("entry")
        .filter(pk=file_id, entry__recommendation__finding=finding)
        .first()
    )
    if found is None:
        raise NotVisible(_("Berkas tidak ditemukan."))
    follow_up_file_intact(found)
    with transaction.atomic():
        trail_append(
            stream=finding.stream,
            action="follow_up_download",
            actor=user,
            role=reading_role(roles, finding.body_id),
            files=[{"name": found.name, "sha256": found.sha256}],
            data={
                "finding": finding.pk,
                "recommendation": found.entry.recommendation_id,
                "file": found.pk,
            },
            submission=finding.submission,
            body=finding.body,
        )
    return found
