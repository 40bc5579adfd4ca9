"""The mixed workload of ``bench.load``: operators drafting and submitting, verifiers approving.

Loopback only: the host is the gunicorn that ``bench.load`` started on 127.0.0.1. Every
answer the load counts as an error is a 5xx or no answer at all; a 409 between two verifiers
racing for one submission is the flow working, not an error. What was created and approved
is written to ``LOAD_LEDGER`` (JSON Lines), so the bench can check afterwards that nothing
acknowledged was lost.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import uuid
from typing import Any

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "metro2026")
LEDGER = os.environ.get("LOAD_LEDGER", "var/load-ledger.jsonl")
BODIES = [code for code in os.environ.get("LOAD_BODIES", "").split(",") if code]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DRAFT = {
    "category": "regulation",
    "title": "Perwali Kawasan Tanpa Rokok",
    "years": [2025],
    "indicators": [17],
    "details": {"kind": "perwali", "number": "12", "enacted_on": "2025-02-01"},
}
_next_body = itertools.count()
_ledger_lock = threading.Lock()


def _record(kind: str, submission: int) -> None:
    with _ledger_lock, open(LEDGER, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"kind": kind, "submission": submission}) + "\n")


class _ApiUser(HttpUser):
    abstract = True
    username = ""

    def on_start(self) -> None:
        answer = self.client.post(
            "/api/v1/auth/token/", json={"username": self.username, "password": PASSWORD}
        )
        self.client.headers["Authorization"] = f"Token {answer.json()['token']}"

    def _ok(self, response: Any) -> bool:
        """Count a 5xx or no answer as an error; a refusal of the flow (409) is not one."""
        if response.status_code == 0 or response.status_code >= 500:
            response.failure(f"{response.status_code}")
            return False
        response.success()
        return bool(response.ok)


class Operator(_ApiUser):
    """Drafts a regulation, attaches its evidence and submits it, then looks at the list."""

    weight = 3
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.username = f"op-{BODIES[next(_next_body) % len(BODIES)]}"
        super().on_start()

    @task(3)
    def submit_one(self) -> None:
        key = {"Idempotency-Key": uuid.uuid4().hex}
        with self.client.post(
            "/api/v1/submissions/", json=DRAFT, headers=key, catch_response=True
        ) as created:
            if not self._ok(created):
                return
            pk = created.json()["id"]
        _record("created", pk)
        with self.client.post(
            f"/api/v1/submissions/{pk}/evidence/",
            files={"file": ("perwali.pdf", PDF, "application/pdf")},
            name="/api/v1/submissions/[id]/evidence/",
            catch_response=True,
        ) as uploaded:
            if not self._ok(uploaded):
                return
        with self.client.post(
            f"/api/v1/submissions/{pk}/actions/",
            json={"action": "submit"},
            name="/api/v1/submissions/[id]/actions/",
            catch_response=True,
        ) as submitted:
            if self._ok(submitted):
                _record("submitted", pk)

    @task(1)
    def look(self) -> None:
        with self.client.get("/api/v1/submissions/", catch_response=True) as listed:
            self._ok(listed)


class Verifier(_ApiUser):
    """Takes what waits for verification and approves it; a race lost is a 409."""

    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.username = "verifikator2"
        super().on_start()

    @task
    def approve_waiting(self) -> None:
        with self.client.get("/api/v1/tasks/", catch_response=True) as waiting:
            if not self._ok(waiting):
                return
            rows = waiting.json()["results"][:3]
        for row in rows:
            with self.client.post(
                f"/api/v1/submissions/{row['id']}/actions/",
                json={"action": "approve", "version": row["version"]},
                name="/api/v1/submissions/[id]/actions/ (approve)",
                catch_response=True,
            ) as approved:
                if self._ok(approved):
                    _record("approved", row["id"])


class Trivial(HttpUser):
    """The baseline: the same number of people asking for the login page, nothing else."""

    wait_time = between(0.5, 1.5)

    @task
    def login_page(self) -> None:
        self.client.get("/masuk/")
