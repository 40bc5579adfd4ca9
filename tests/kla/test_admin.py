"""Administrators manage bodies, memberships and per-body verifier rights in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from guardian.shortcuts import assign_perm, remove_perm

from kla.models import Body, Submission
from roles.models import BodyUserObjectPermission
from roles.roles import roles_of
from tests import factories as f
from workflows.models import TrailEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/kla/body/",
        "/admin/kla/instruction/",
        "/admin/kla/submission/",
        "/admin/roles/membership/",
        "/admin/workflows/trailevent/",
    ],
)
def test_the_admin_opens_for_administrators_only(
    client: Client, superuser: User, verifier: User, url: str
) -> None:
    client.force_login(superuser)
    assert client.get(url).status_code == 200
    client.force_login(verifier)
    assert client.get(url).status_code == 302  # not staff: sent to the admin login


def test_body_object_permissions_page_opens(client: Client, superuser: User, body: Body) -> None:
    client.force_login(superuser)
    assert client.get(f"/admin/kla/body/{body.pk}/permissions/").status_code == 200


def test_a_verifier_limited_by_guardian_to_one_body(body: Body, other_body: Body) -> None:
    person = f.UserFactory(username="verif-terbatas")
    assign_perm("kla.verify_body", person, body)
    assert BodyUserObjectPermission.objects.filter(user=person, content_object=body).exists()
    roles = roles_of(person)
    assert roles.verifies(body.pk) and not roles.verifies(other_body.pk)
    grant = TrailEvent.objects.get(stream__name="body:dinkes", action="permission_grant")
    assert grant.data == {"user": "verif-terbatas", "permission": "verify_body"}
    remove_perm("kla.verify_body", person, body)
    assert not roles_of(person).verifier
    assert TrailEvent.objects.filter(action="permission_revoke").count() == 1


def test_trail_rows_are_read_only_in_the_admin(
    client: Client, superuser: User, submitted: Submission
) -> None:
    client.force_login(superuser)
    event = f.first(TrailEvent.objects.filter(submission=submitted))
    response = client.post(f"/admin/workflows/trailevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert TrailEvent.objects.filter(pk=event.pk).exists()


def test_membership_and_role_changes_are_trail_events(body: Body, verifier: User) -> None:
    person = f.make_operator(body, "op-baru")
    assert TrailEvent.objects.filter(
        stream__name="body:dinkes", action="membership_add", data__user="op-baru"
    ).exists()
    assert TrailEvent.objects.filter(
        stream__name="system", action="role_grant", data__user="verifikator"
    ).exists()
    person.memberships.all().delete()
    assert TrailEvent.objects.filter(action="membership_remove", data__user="op-baru").exists()
