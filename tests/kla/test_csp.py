"""A strict Content-Security-Policy on every page, and nothing inline that it would block.

Every page of the rights table (tests/test_rights.py) is fetched by each person who may see it;
the admin, guardian's pages and the browsable API too. Each HTML answer must carry the policy
and hold no inline style, script or event handler: the browser would refuse them (the browser
walk in tests/test_layout.py checks that no violation is reported).
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from kla.models import Body
from tests import test_rights
from tests.test_rights import PAGES, Right, World

pytestmark = pytest.mark.django_db

# The rights table's world: the same people, submissions, files and exports.
world = test_rights.world

DATA_SCRIPTS = {"application/json", "application/ld+json"}


class InlineFinder(HTMLParser):
    """What a strict policy would block: style attributes and elements, inline scripts,
    event handler attributes, javascript: URLs and htmx's own inline code (hx-on, js:)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for name, value in attrs:
            text = value or ""
            if name == "style" or name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=...>")
            if text.strip().lower().startswith(("javascript:", "js:")):
                self.found.append(f"<{tag} {name}={text[:30]}>")
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and not named.get("src"):
            self._script_without_src = (named.get("type") or "") not in DATA_SCRIPTS

    def handle_data(self, data: str) -> None:
        if self._script_without_src and data.strip():
            self.found.append(f"<script>{data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script_without_src = False


def assert_strict(response: Any, what: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(
        [*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip()
    )
    assert "unsafe" not in policy, f"{what}: {policy!r}"
    if directives.get("default-src") == "'none'":
        # A file shown in a frame (evidence-inline): nothing of it may load or run at all.
        assert not response.headers.get("Content-Type", "").startswith("text/html"), what
        assert directives.get("frame-ancestors") == "'self'", f"{what}: {policy!r}"
        return
    assert directives.get("script-src") == "'self'", f"{what}: {policy!r}"
    assert directives.get("style-src") == "'self'", f"{what}: {policy!r}"
    assert directives.get("object-src") == "'none'", f"{what}: {policy!r}"
    assert directives.get("frame-ancestors") == "'none'", f"{what}: {policy!r}"
    assert "unsafe" not in policy, f"{what}: {policy!r}"
    if response.headers.get("Content-Type", "").startswith("text/html"):
        finder = InlineFinder()
        finder.feed(response.content.decode())
        assert finder.found == [], f"{what}: {finder.found[:5]}"


def _pages() -> list[Right]:
    return [r for r in PAGES if r.method == "get"]


@pytest.mark.parametrize("right", _pages(), ids=lambda r: r.name)
def test_every_page_carries_the_policy_and_nothing_inline(right: Right, world: World) -> None:
    seen = 0
    for who, status in right.people():
        client = Client()
        if who != "anonymous":
            client.force_login(world.people[who])
        response = client.get(right.path(world), follow=status == 302)
        assert_strict(response, f"{right.name} as {who}")
        seen += 1
    assert seen >= 2


def test_the_refusal_pages_carry_the_policy(world: World) -> None:
    client = Client()
    client.force_login(world.people["other_operator"])
    missing = client.get(reverse("submission-detail", args=[world.submitted.pk]))
    assert missing.status_code == 404
    assert_strict(missing, "404")
    client.force_login(world.people["verifier"])
    forbidden = client.get(reverse("submission-new", args=["regulation"]))
    assert forbidden.status_code == 403
    assert_strict(forbidden, "403")


def test_the_admin_and_guardians_pages_carry_the_policy(world: World) -> None:
    admin: User = world.people["superuser"]
    client = Client()
    client.force_login(admin)
    body: Body = world.submitted.body
    pages = [
        reverse("admin:index"),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_change", args=[admin.pk]),
        reverse("admin:kla_body_changelist"),
        reverse("admin:kla_body_change", args=[body.pk]),
        reverse("admin:kla_body_permissions", args=[body.pk]),
        reverse("admin:kla_submission_changelist"),
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict(response, path)


def test_the_browsable_api_carries_the_policy(world: World) -> None:
    client = Client()
    client.force_login(world.people["verifier"])
    for path in [
        "/api/v1/submissions/",
        f"/api/v1/submissions/{world.submitted.pk}/",
        "/api/v1/findings/",
        "/api/v1/trail/checkpoints/",
    ]:
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith("text/html"), path
        assert_strict(response, path)


def test_the_finder_sees_what_a_strict_policy_blocks() -> None:
    finder = InlineFinder()
    finder.feed(
        '<p style="x"></p><script>alert(1)</script><script type="application/json">{}</script>'
        '<a href="javascript:void(0)" onclick="f()">a</a><div hx-on:click="f()"></div>'
        '<style>p{}</style><script src="/static/a.js"></script>'
    )
    assert finder.found == [
        "<p style=...>",
        "<script>alert(1)",
        "<a href=javascript:void(0)>",
        "<a onclick=...>",
        "<div hx-on:click=...>",
        "<style>",
    ]
