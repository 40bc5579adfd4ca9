"""Who a submission waits for, read from the flow: "Tugas saya", and the people told or
escalated to when a submission enters a state or stays in it too long.

A state waits for the roles of the duties that leave it (``workflows.flow.duty_roles``): a
draft or a returned submission for the operators of its body, a submitted one for the
verifiers in scope, a verified one for the consolidators, a consolidated one for the auditors.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from kla.models import Submission
from roles.permissions import holds, scope_of
from roles.roles import Role, Roles, roles_of
from roles.selectors import people_by_body, people_of, visible_to
from workflows.flow import duty_roles, waiting_states

DUTY_ROLES = (Role.OPERATOR, Role.VERIFIER, Role.CONSOLIDATOR, Role.AUDITOR)


def duty_filter(roles: Roles, role: Role) -> Q | None:
    """The submissions waiting for this person in one role; ``None`` when they hold none."""
    if not holds(roles, role):
        return None
    q = Q(state__in=waiting_states(role))
    scope = scope_of(roles, role)
    return q if scope is None else q & Q(body_id__in=scope)


def waiting_for(
    user: User | AnonymousUser, roles: Roles | None = None, *, role: Role | None = None
) -> QuerySet[Submission]:
    """The visible submissions waiting for this person's duty, in one role or in all."""
    roles = roles if roles is not None else roles_of(user)
    duty = Q(pk__in=[])
    for held in (role,) if role is not None else DUTY_ROLES:
        q = duty_filter(roles, held)
        if q is not None:
            duty |= q
    return visible_to(user, roles).filter(duty)


def waiting_people(submission: Submission, state: str) -> QuerySet[User]:
    """The active people a submission in this state waits for, each once, as one query (the
    roles of ``duty_roles``, each as ``roles.selectors.people_of`` finds them): a subquery of
    the notifications' ``INSERT ... SELECT``."""
    wanted = Q(pk__in=[])
    for role in duty_roles(state):
        wanted |= Q(pk__in=people_of(role, submission).values("pk"))
    return get_user_model().objects.filter(wanted)


def people_waited_for_many(
    keys: Iterable[tuple[str, int]],
) -> dict[tuple[str, int], list[User]]:
    """``waiting_people`` for many (state, body id) pairs at once: two queries a role at
    most, whatever the number of bodies (a sweep's batch)."""
    pairs = set(keys)
    by_role: dict[Role, dict[int, list[User]]] = {}
    for role in {role for state, _body in pairs for role in duty_roles(state)}:
        by_role[role] = people_by_body(role, {body for _state, body in pairs})
    found: dict[tuple[str, int], list[User]] = {}
    for state, body in pairs:
        seen: dict[int, User] = {}
        for role in duty_roles(state):
            for person in by_role[role][body]:
                seen.setdefault(person.pk, person)
        found[(state, body)] = list(seen.values())
    return found
