"""Duplicate evidence: the same file (by SHA-256) handed in more than once.

The same signed regulation or activity report submitted by two bodies, or under two
categories, would be counted twice as data dukung; the verifier and the consolidator are
told next to the file. Only duplicates the viewer may see are listed (``roles.selectors``):
naming a submission the viewer cannot open would leak that it exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from kla.models import Evidence
from roles.roles import Roles, roles_of
from roles.selectors import visible_to


@dataclass(frozen=True)
class Duplicate:
    """Another current file with the same content, in another visible submission."""

    evidence_id: int
    submission_id: int
    agency: str
    agency_name: str
    category: str
    name: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "evidence": self.evidence_id,
            "submission": self.submission_id,
            "agency": self.agency,
            "agency_name": self.agency_name,
            "category": self.category,
            "name": self.name,
        }


def evidence_duplicates(
    *,
    user: User | AnonymousUser,
    evidence: Iterable[Evidence],
    roles: Roles | None = None,
) -> dict[int, list[Duplicate]]:
    """For each given file, the current files with its hash in other visible submissions.

    One query for any number of files; files without duplicates are left out of the result.
    """
    files = list(evidence)
    hashes = {e.sha256 for e in files}
    if not hashes:
        return {}
    roles = roles if roles is not None else roles_of(user)
    others = (
        Evidence.objects.filter(
            sha256__in=hashes,
            removed_at__isnull=True,
            submission_id__in=visible_to(user, roles).values("pk"),
        )
        .order_by("submission_id", "id")
        .values_list(
            "id",
            "sha256",
            "submission_id",
            "submission__body__code",
            "submission__body__name",
            "submission__category",
            "name",
        )
    )
    by_hash: dict[str, list[Duplicate]] = defaultdict(list)
    for pk, sha, submission_id, code, body_name, category, name in others:
        by_hash[sha].append(Duplicate(pk, submission_id, code, body_name, category, name))
    result: dict[int, list[Duplicate]] = {}
    for e in files:
        found = [d for d in by_hash.get(e.sha256, ()) if d.submission_id != e.submission_id]
        if found:
            result[e.pk] = found
    return result


def annotate_duplicates(
    *,
    user: User | AnonymousUser,
    evidence: Iterable[Evidence],
    roles: Roles | None = None,
) -> None:
    """Set ``duplicates`` (a list, maybe empty) on each file, for templates and serializers."""
    files = list(evidence)
    found = evidence_duplicates(user=user, evidence=files, roles=roles)
    for e in files:
        e.duplicates = found.get(e.pk, [])  # type: ignore[attr-defined]


def prime_duplicates(serializer: Any, submission: Any, current: list[Evidence]) -> None:
    """Annotate the current files of every submission on the serializer's page at once.

    Called by the submission serializer before it renders a submission's files: when it
    renders a list, its parent holds the page, whose prefetched ``current_evidence`` lists
    are annotated in one query, so the page costs one query however long it is.
    """
    if not current or hasattr(current[0], "duplicates"):
        return
    request = (getattr(serializer, "context", {}) or {}).get("request")
    if request is None:
        return
    page = getattr(getattr(serializer, "parent", None), "instance", None)
    files: list[Evidence] = list(current)
    if isinstance(page, list):
        for other in page:
            if other is not submission:
                files.extend(getattr(other, "current_evidence", None) or [])
    annotate_duplicates(user=request.user, evidence=files, roles=serializer.context.get("roles"))


def serialized_duplicates(serializer: Any, evidence: Evidence) -> list[dict[str, Any]]:
    """``duplicates`` of one file in the API, as annotated for its page, else computed.

    Reads the request (and the roles, when the view put them there) from the serializer's
    context; without a request nobody is asking, so nothing is listed.
    """
    cached = getattr(evidence, "duplicates", None)
    if cached is None:
        request = (getattr(serializer, "context", {}) or {}).get("request")
        if request is None:
            return []
        annotate_duplicates(
            user=request.user, evidence=[evidence], roles=serializer.context.get("roles")
        )
        cached = evidence.duplicates  # type: ignore[attr-defined]
    return [d.as_dict() for d in cached]
