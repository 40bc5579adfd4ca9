"""A small world for the consolidation, coverage and export tests, built through the services."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

from django.test import Client

from kla.drafting import evidence_add, evidence_remove
from kla.models import Submission
from tests import factories as f

_SERIAL = itertools.count(1)
INDICATORS_CSV = Path(__file__).resolve().parents[2] / "kla" / "data" / "indicators.csv"


def real_indicators() -> None:
    """The 24 indicators in their real clusters (the factories put all in Kelembagaan)."""
    with INDICATORS_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            f.IndicatorFactory(number=int(row["number"]), cluster=row["cluster"], name=row["name"])


def unique_pdf(tag: str) -> bytes:
    """A PDF whose content (and so SHA-256) is its own."""
    return f.PDF_BYTES + f"% {tag}\n".encode()


def make(
    operator: Any,
    to: str,
    people: dict[str, Any],
    *,
    category: str = "regulation",
    indicators: list[int] | None = None,
    files: list[bytes] | None = None,
    removed: int = 0,
    **fields: Any,
) -> Submission:
    """A submission with these indicators and evidence, driven to state ``to``.

    ``files``: the contents of its current evidence; ``removed`` more files are uploaded and
    taken out again before submitting (they must never count).
    """
    submission = f.make_draft(
        operator,
        category,
        with_evidence=False,
        indicators=indicators or [17],
        **fields,
    )
    for i, content in enumerate(
        files if files is not None else [unique_pdf(f"auto-{next(_SERIAL)}")]
    ):
        evidence_add(
            user=operator,
            submission_id=submission.pk,
            upload=f.pdf_upload(f"bukti-{i}.pdf", content),
        )
    for i in range(removed):
        gone = evidence_add(
            user=operator,
            submission_id=submission.pk,
            upload=f.pdf_upload(f"keluar-{i}.pdf", unique_pdf(f"removed-{submission.pk}-{i}")),
        )
        evidence_remove(user=operator, submission_id=submission.pk, evidence_id=gone.pk)
    submission.refresh_from_db()
    if to != "draft":
        submission = f.advance(submission, to, **{**people, "operator": operator})
    return submission


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
