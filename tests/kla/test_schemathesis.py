"""The API checked from outside against its own schema (schemathesis): every operation, with
requests generated from the document, never answers 5xx, answers only the statuses the document
lists and, for each, a body of the shape it describes.

The world: an operator's draft and submitted submission (with their evidence), a finding on the
submitted one with a follow-up and its file, a verifier's export and the flow's notifications;
the callers are the operator and the verifier in turn. Generated path ids are now and then the
ids of those rows, so that the operations reach real objects, not only 404. Each request carries
a new token: an operation that revokes tokens (logout) does not end the run. Derandomized and
bounded: the same requests on every run, a few per operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from kla.models import Evidence, Export, Submission
from kla.reports.exports import export_request
from kla.wsgi import application
from tests import factories as f
from workflows.models import Finding, FollowUpFile, Notification, Recommendation
from workflows.supervision.findings import finding_create, follow_up_post

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    # schemathesis' WSGI transport reads a response without closing it, so Django never
    # closes the request's uploaded files; the garbage collector does, after the storage
    # moved them away. A server closes every response (and the request's files with it).
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in.*_TemporaryFileCloser:pytest.PytestUnraisableExceptionWarning"
    ),
]

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
CONFIG = schemathesis.Config.from_dict(
    {
        # Requests as the document describes them; the boundary phase would multiply them.
        "generation": {"mode": "positive", "deterministic": True, "no-shrink": True},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)


@pytest.fixture
def world(people: dict[str, Any], body: Any) -> dict[str, Any]:
    """An operator's draft and submitted submission, a finding on the latter."""
    operator = people["operator"]
    draft = f.make_draft(operator, title="Draf operator")
    submitted = f.advance(f.make_draft(operator, "program"), "submitted", **people)
    finding = finding_create(
        user=people["auditor"],
        submission=submitted.pk,
        title="Dokumen belum lengkap",
        condition="Lampiran tidak ada",
        criteria="Instruksi KEEMPAT",
        recommendations=["Lengkapi lampiran"],
    )
    recommendation = finding.recommendations.get()
    follow_up_post(
        user=operator,
        finding_id=finding.pk,
        recommendation_id=recommendation.pk,
        note="Sudah dilengkapi",
        uploads=[f.pdf_upload("tindak-lanjut.pdf")],
        too_large=False,
    )
    export_request(user=people["verifier"], kind="rekap_xlsx", instruction=None)
    return {**people, "submissions": [draft, submitted], "finding": finding}


def known_ids() -> dict[str, list[str]]:
    """Ids of the world's rows, by the name of the path parameter that takes them."""
    ids = {
        "submission_id": Submission.objects.values_list("pk", flat=True),
        "evidence_id": Evidence.objects.values_list("pk", flat=True),
        "finding_id": Finding.objects.values_list("pk", flat=True),
        "recommendation_id": Recommendation.objects.values_list("pk", flat=True),
        "file_id": FollowUpFile.objects.values_list("pk", flat=True),
        "notification_id": Notification.objects.values_list("pk", flat=True),
        "export_id": Export.objects.values_list("pk", flat=True),
    }
    return {name: [str(pk) for pk in values] for name, values in ids.items()}


@pytest.fixture
def _connection_kept() -> Iterator[None]:
    """The requests run in the test's transaction: Django must not close the connection when
    one ends (its own test client disconnects the same signal)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(world: dict[str, Any], _connection_kept: None) -> Any:
    """The project's own schema, read through the WSGI application as a client would."""
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", application, config=CONFIG
    )
    real = known_ids()

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
        # Each parameter either as generated or one of the real ids of its kind.
        if not path_parameters:
            return st.just(path_parameters)
        return st.fixed_dictionaries(
            {
                name: st.sampled_from([value, *real.get(name, [])])
                for name, value in path_parameters.items()
            }
        )

    return schema


def _summary(exc: BaseException) -> str:
    """What failed: each failure's title and first lines, and the request to reproduce it."""
    parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
    return "\n".join(str(part)[:1500] for part in parts)


@pytest.mark.parametrize("caller", ["operator", "verifier"])
def test_the_api_answers_as_its_schema_says(
    api_schema: Any, world: dict[str, Any], caller: str
) -> None:
    """Every operation in turn (schemathesis' lazy pytest loader does not run under pytest 9:
    it sets ``Node._nodeid``, gone there), each with its own bounded, derandomized examples."""
    failures: dict[str, str] = {}
    answered: dict[str, set[int]] = {}
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(hooks=api_schema.hooks))
        @settings(
            max_examples=10,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            token = f.api_token(world[caller])
            response = case.call_and_validate(
                headers={"Authorization": f"Token {token}"}, checks=CHECKS
            )
            answered.setdefault(case.operation.label, set()).add(response.status_code)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' failures are a group
            # Every operation is tried; all failures are reported, each the start of its text.
            failures[operation.label] = _summary(exc)
    assert operations > 40, "the schema lists the API's operations"
    # Not only refusals: most operations reached a real object or list and answered it.
    reached = [label for label, codes in answered.items() if any(c < 300 for c in codes)]
    assert len(reached) >= 20, answered
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
