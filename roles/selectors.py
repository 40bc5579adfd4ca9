"""Visibility querysets, in the manner of NetBox's ``restrict(user, action)``.

A submission that has never been submitted is private to its body. Once submitted (even if
later withdrawn), verifiers in scope, consolidators and auditors see it in every state.
Everything else is invisible, and the pages and API answer 404 for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kla.errors import Forbidden, Invalid
from kla.models import Body, Submission
from roles.models import BodyUserObjectPermission, Membership
from roles.permissions import is_reviewer, reviews_every_body
from roles.roles import VERIFY_CODENAME, Role, Roles, roles_of


def visibility_filter(roles: Roles, *, through: str = "") -> Q | None:
    """The filter on ``Submission`` for these roles; ``None`` when nothing is visible.

    ``through`` names the path from another model to its submission (``"submission__"`` for
    a trail event), so that a row about a submission is kept on the submission it joins,
    under the same rule, instead of asking a subquery for each row.
    """
    body, submitted = f"{through}body_id__in", f"{through}first_submitted_at__isnull"
    if reviews_every_body(roles):
        return Q(**{body: roles.operator_of}) | Q(**{submitted: False})
    q = Q(**{body: roles.operator_of}) if roles.operator_of else None
    if roles.verifier_of:
        scoped = Q(**{body: roles.verifier_of, submitted: False})
        q = scoped if q is None else q | scoped
    return q


def sees(roles: Roles, submission: Submission) -> bool:
    """``visibility_filter`` for one submission already read (the action's locking read takes
    the row by its key, then asks this): the same rule, tested to agree."""
    if roles.operates(submission.body_id):
        return True
    if submission.first_submitted_at is None:
        return False
    return reviews_every_body(roles) or submission.body_id in roles.verifier_of


def visible_to(
    user: User | AnonymousUser,
    roles: Roles | None = None,
    queryset: QuerySet[Submission] | None = None,
) -> QuerySet[Submission]:
    """The submissions this person may see."""
    qs = Submission.objects.all() if queryset is None else queryset
    q = visibility_filter(roles if roles is not None else roles_of(user))
    return qs.none() if q is None else qs.filter(q)


def finding_filter(roles: Roles) -> Q | None:
    """The filter on findings (any model with a ``body``) for these roles; ``None`` when
    nothing is visible: verifiers, consolidators and auditors see every body's, operators
    their own bodies'."""
    if is_reviewer(roles):
        return Q()
    return Q(body_id__in=roles.operator_of) if roles.operator_of else None


def body_for_operator(roles: Roles, agency: Any, *, refusal: str) -> Body:
    """The body an operator acts for: named by its code, implied when they have only one.

    ``refusal`` is what people without any body are told (403).
    """
    if not roles.operator_of:
        raise Forbidden(refusal)
    if agency in (None, ""):
        if len(roles.operator_of) > 1:
            raise Invalid({"agency": _("Anda operator beberapa perangkat: sebutkan kodenya.")})
        return Body.objects.get(pk=next(iter(roles.operator_of)))
    body = (
        Body.objects.filter(code=agency, active=True).first() if isinstance(agency, str) else None
    )
    if body is None:
        raise Invalid({"agency": _("Kode perangkat tidak dikenal.")})
    if body.pk not in roles.operator_of:
        raise Forbidden(_("Anda bukan operator %(body)s.") % {"body": body.name})
    return body


def bodies_operated_by(user: User | AnonymousUser) -> QuerySet[Body]:
    """The active bodies this person drafts for."""
    if not user.is_authenticated:
        return Body.objects.none()
    return Body.objects.filter(memberships__user=user, active=True).order_by("code")


# --- the people of a role or a body ---------------------------------------------------------


def verifiers_of(submission: Submission) -> QuerySet[User]:
    """Verifiers whose scope holds the submission's body."""
    User = get_user_model()
    return User.objects.filter(
        Q(groups__permissions__codename=VERIFY_CODENAME)
        | Q(user_permissions__codename=VERIFY_CODENAME)
        | Q(
            bodyuserobjectpermission__permission__codename=VERIFY_CODENAME,
            bodyuserobjectpermission__content_object=submission.body_id,
        ),
        is_active=True,
    ).distinct()


def members_of_group(role: Role) -> QuerySet[User]:
    return get_user_model().objects.filter(groups__name=role, is_active=True).distinct()


def operators_of(submission: Submission) -> QuerySet[User]:
    return (
        get_user_model()
        .objects.filter(memberships__body=submission.body_id, is_active=True)
        .distinct()
    )


def operators_of_body(body_id: int) -> QuerySet[User]:
    """The active people who operate for this body (a finding's, where no submission is)."""
    return get_user_model().objects.filter(memberships__body=body_id, is_active=True).distinct()


def people_of(role: Role, submission: Submission) -> QuerySet[User]:
    """The active people who hold ``role`` for this submission (in scope)."""
    if role == Role.OPERATOR:
        return operators_of(submission)
    if role == Role.VERIFIER:
        return verifiers_of(submission)
    return members_of_group(role)


def people_by_body(role: Role, body_ids: Iterable[int]) -> dict[int, list[User]]:
    """``people_of`` for many bodies at once, in at most two queries (a sweep's batch): per
    body, the active people who hold ``role`` for its submissions."""
    ids = sorted(set(body_ids))
    found: dict[int, dict[int, User]] = {pk: {} for pk in ids}
    if role == Role.OPERATOR:
        rows = Membership.objects.filter(body_id__in=ids, user__is_active=True).select_related(
            "user"
        )
        for membership in rows:
            found[membership.body_id].setdefault(membership.user_id, membership.user)
        return {pk: list(people.values()) for pk, people in found.items()}
    User = get_user_model()
    if role == Role.VERIFIER:
        everywhere = list(
            User.objects.filter(
                Q(groups__permissions__codename=VERIFY_CODENAME)
                | Q(user_permissions__codename=VERIFY_CODENAME),
                is_active=True,
            ).distinct()
        )
        scoped = BodyUserObjectPermission.objects.filter(
            permission__codename=VERIFY_CODENAME,
            content_object_id__in=ids,
            user__is_active=True,
        ).select_related("user")
        for grant in scoped:
            found[grant.content_object_id].setdefault(grant.user_id, grant.user)
        for people in found.values():
            for person in everywhere:
                people.setdefault(person.pk, person)
        return {pk: list(people.values()) for pk, people in found.items()}
    members = list(members_of_group(role))
    return {pk: list(members) for pk in ids}
