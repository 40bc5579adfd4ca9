"""What every page shares: loading a visible submission, and the order of lists."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kla.listing import submissions_default_order
from kla.models import Submission
from kla.web.requests import AuthenticatedHttpRequest, request_roles
from roles.selectors import visible_to


def visible_submission(request: AuthenticatedHttpRequest, pk: int) -> Submission:
    """The submission if this person may see it, else 404."""
    submission = (
        visible_to(request.user, request_roles(request))
        .select_related("body", "instruction", "created_by")
        .filter(pk=pk)
        .first()
    )
    if submission is None:
        raise Http404(_("Pengajuan tidak ditemukan."))
    return submission


def list_rows(qs: QuerySet[Submission]) -> QuerySet[Submission]:
    """Submissions as lists show them: the next due first, then the latest changed."""
    return submissions_default_order(qs.select_related("body"))
