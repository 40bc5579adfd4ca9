"""Who may look at what: every role and scope predicate, written once.

Who may *act* on a submission is the flow's (``workflows.flow``); these predicates say who may
open a page or an endpoint and read what it shows. Each takes the person's ``Roles``, read once
per request (``roles.roles.roles_of``), and names what it guards, so that a view, a template
and a service asking the same question get the same answer.
"""

from __future__ import annotations

from roles.roles import Role, Roles


def is_reviewer(roles: Roles) -> bool:
    """A verifier (in any scope), a consolidator or an auditor: the people who review."""
    return roles.verifier or roles.consolidator or roles.auditor


def reviews_every_body(roles: Roles) -> bool:
    """Sees every submission that has been submitted at least once, of every body.

    Consolidators, auditors and verifiers of all bodies; a verifier given some bodies only
    (per-body permissions) sees those bodies alone.
    """
    return roles.consolidator or roles.auditor or roles.verifier_everywhere


def may_view_coverage(roles: Roles) -> bool:
    """Indicator coverage (``/cakupan/``, ``GET /api/v1/coverage/``): reviewers."""
    return is_reviewer(roles)


def may_edit_checklist(roles: Roles) -> bool:
    """Adding, changing and deleting the evidence checklist (data dukung): P3AP2KB's
    verifiers of every body, and administrators. A verifier given some bodies only does not:
    the checklist is the whole instruction's."""
    return roles.verifier_everywhere or roles.administrator


def may_read_checklist(roles: Roles) -> bool:
    """The evidence checklist (``/data-dukung/``, ``GET /api/v1/requirements/``): reviewers
    and operators alike, and those who edit it; nobody else (404)."""
    return is_reviewer(roles) or bool(roles.operator_of) or may_edit_checklist(roles)


def may_view_compliance(roles: Roles) -> bool:
    """The compliance matrix (``/kepatuhan/``, ``GET /api/v1/compliance/``): reviewers."""
    return is_reviewer(roles)


def may_view_consolidation(roles: Roles) -> bool:
    """The consolidation screen: consolidators act on it, the other reviewers only look."""
    return is_reviewer(roles)


def may_consolidate(roles: Roles) -> bool:
    """Consolidating or returning from the consolidation screen: BAPPERIDA alone."""
    return roles.consolidator


def may_export(roles: Roles) -> bool:
    """Requesting the rekap workbook or the evidence package: reviewers."""
    return is_reviewer(roles)


def may_read_trail(roles: Roles) -> bool:
    """Opening the trail page, for the events of the submissions the person may see."""
    return is_reviewer(roles)


def may_export_trail(roles: Roles) -> bool:
    """Downloading the trail (CSV, JSON Lines, the bundle): Inspektorat."""
    return roles.auditor


def may_prove_every_event(roles: Roles) -> bool:
    """Asking the log's inclusion proof of any event (``GET /api/v1/trail/proof/inclusion/``):
    Inspektorat and BAPPERIDA. Everybody else asks only for the events of the submissions
    they see. A proof discloses hashes alone, never what the event says."""
    return roles.auditor or roles.consolidator


def may_read_every_stream(roles: Roles) -> bool:
    """Reading the body and system streams (memberships, roles, reminders, exports) besides
    the streams of the submissions the person sees: Inspektorat, who reads everything."""
    return roles.auditor


def may_open_nihil(roles: Roles) -> bool:
    """The nihil page: operators declare on it, reviewers read it."""
    return bool(roles.operator_of) or is_reviewer(roles)


def may_draft(roles: Roles) -> bool:
    """Declaring nihil, creating a draft: operators of a body."""
    return bool(roles.operator_of)


def may_view_findings(roles: Roles) -> bool:
    """The findings (``/temuan/``, ``GET /api/v1/findings/``): reviewers all of them,
    operators their own body's."""
    return bool(roles.operator_of) or is_reviewer(roles)


def may_record_findings(roles: Roles) -> bool:
    """Recording, correcting and assessing findings: Inspektorat alone."""
    return roles.auditor


def may_view_followup_matrix(roles: Roles) -> bool:
    """The follow-up matrix (``/temuan/matriks/``, ``GET /api/v1/findings/matrix/``, the
    ``findings_xlsx`` export): reviewers; an operator, like anybody else, gets 404."""
    return is_reviewer(roles)


def reading_role(roles: Roles, body_id: int) -> str:
    """The role a person reads a submission of this body in, for its trail event."""
    if roles.operates(body_id):
        return Role.OPERATOR
    if roles.verifies(body_id):
        return Role.VERIFIER
    if roles.consolidator:
        return Role.CONSOLIDATOR
    if roles.auditor:
        return Role.AUDITOR
    return ""


def reviewing_role(roles: Roles) -> str:
    """The role a reviewer acts in where no body is concerned (exports), in this order."""
    for held, role in (
        (roles.consolidator, Role.CONSOLIDATOR),
        (roles.verifier, Role.VERIFIER),
        (roles.auditor, Role.AUDITOR),
    ):
        if held:
            return role
    return ""


def holds(roles: Roles, role: Role) -> bool:
    """Whether the person holds this role anywhere."""
    if role == Role.OPERATOR:
        return bool(roles.operator_of)
    if role == Role.VERIFIER:
        return roles.verifier
    if role == Role.CONSOLIDATOR:
        return roles.consolidator
    if role == Role.AUDITOR:
        return roles.auditor
    return False


def scope_of(roles: Roles, role: Role) -> frozenset[int] | None:
    """The bodies in which the person acts in this role; ``None`` for every body.

    An operator acts for the bodies they belong to, a verifier for every body or for the
    bodies an administrator gave them; consolidators and auditors for every body.
    """
    if role == Role.OPERATOR:
        return roles.operator_of
    if role == Role.VERIFIER and not roles.verifier_everywhere:
        return roles.verifier_of
    return None


def may_view_monitoring(roles: Roles) -> bool:
    """Monitoring notes (``/monitoring/``, ``GET /api/v1/monitoring-notes/``): reviewers all of
    them, operators their own body's."""
    return bool(roles.operator_of) or is_reviewer(roles)


def may_monitor(roles: Roles) -> bool:
    """Writing monitoring notes and reminding a body by hand (Diktum KELIMA): P3AP2KB's
    verifiers (a scoped one within their bodies) and BAPPERIDA's consolidators."""
    return roles.verifier or roles.consolidator


def monitoring_role(roles: Roles, body_id: int) -> str:
    """The role someone monitors this body in: a verifier of it first, else consolidator;
    empty when they may not monitor it (a scoped verifier outside their bodies)."""
    if roles.verifies(body_id):
        return Role.VERIFIER
    if roles.consolidator:
        return Role.CONSOLIDATOR
    return ""
