"""Evidence and exports on S3-compatible storage (``STORAGE_S3_BUCKET``): uploaded through the
service, downloaded and shown through the views, packaged, exported and checked for fixity,
all through the storage API, against an in-process S3 (moto: no server, no network)."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from moto import mock_aws
from storages.backends.s3 import S3Storage

from kla.models import Evidence, Export, Submission
from tests import factories as f
from workflows.trail.fixity import fixity_check_all

pytestmark = pytest.mark.django_db
BUCKET = "kla-evidence-test"
CHANGED = f.PDF_BYTES + b"% changed in the bucket\n"


def objects(client: Any) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


@pytest.fixture
def s3(settings: Any, _eager_celery: Any, tmp_path: Path) -> Iterator[Any]:
    """The storage as ``STORAGE_S3_BUCKET`` configures it, on moto's S3; its client."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        # What kla.settings builds when STORAGE_S3_BUCKET is set (test_settings checks that).
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": BUCKET,
                    "access_key": "testing",
                    "secret_key": "testing",
                    "region_name": "us-east-1",
                    "location": "kla",
                    "default_acl": "private",
                    "querystring_auth": True,
                    "file_overwrite": False,
                    "addressing_style": "path",
                },
            },
        }
        assert isinstance(default_storage, S3Storage)  # the setting reset the lazy storage
        yield client
    assert not (tmp_path / "evidence").exists(), "a file went to the local folder"


def test_evidence_is_uploaded_to_the_bucket_and_downloaded_through_the_views(
    s3: Any, client: Client, operator: User, verifier: User, submitted: Submission
) -> None:
    evidence = submitted.evidence.get()
    stored = objects(s3)
    assert stored == {f"kla/{evidence.file.name}": f.PDF_BYTES}
    acl = s3.get_object_acl(Bucket=BUCKET, Key=f"kla/{evidence.file.name}")
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]  # private: owner only

    client.force_login(verifier)
    page: Any = client.get(reverse("evidence-download", args=[submitted.pk, evidence.pk]))
    assert page.status_code == 200
    assert b"".join(page.streaming_content) == f.PDF_BYTES
    shown: Any = client.get(reverse("evidence-inline", args=[submitted.pk, evidence.pk]))
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content) == f.PDF_BYTES
    assert submitted.trail.filter(action="evidence_download").count() == 2

    s3.delete_object(Bucket=BUCKET, Key=f"kla/{evidence.file.name}")
    # Each download re-hashes the object first: one gone from the bucket is refused (409).
    gone = client.get(reverse("evidence-download", args=[submitted.pk, evidence.pk]))
    assert gone.status_code == 409


def test_an_export_is_stored_in_the_bucket_and_downloaded_through_its_view(
    s3: Any,
    client: Client,
    consolidator: User,
    verified: Submission,
    django_capture_on_commit_callbacks: Any,
) -> None:
    evidence: Evidence = verified.evidence.get()
    client.force_login(consolidator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports"), {"kind": "evidence_zip"})
    assert response.status_code in {200, 302}, response.content
    export = Export.objects.get()
    assert export.state == "done", export.error
    assert f"kla/{export.file}" in objects(s3)

    answer: Any = client.get(reverse("export-file", args=[export.pk]))
    assert answer.status_code == 200
    data = b"".join(answer.streaming_content)
    assert hashlib.sha256(data).hexdigest() == export.sha256
    package = zipfile.ZipFile(io.BytesIO(data))
    members = [n for n in package.namelist() if n.endswith(".pdf")]
    assert members and all(package.read(n) == f.PDF_BYTES for n in members)
    rows = list(csv.DictReader(io.StringIO(package.read("manifest.csv").decode("utf-8-sig"))))
    assert rows and {(r["sha256"], r["status"]) for r in rows} == {(evidence.sha256, "ok")}


def test_fixity_reads_the_bucket_and_sees_a_changed_object(s3: Any, submitted: Submission) -> None:
    evidence = submitted.evidence.get()
    (result,) = [r for r in fixity_check_all() if r.file_id == evidence.pk]
    assert result.ok and result.found == hashlib.sha256(f.PDF_BYTES).hexdigest()

    s3.put_object(Bucket=BUCKET, Key=f"kla/{evidence.file.name}", Body=CHANGED)
    (result,) = [r for r in fixity_check_all() if r.file_id == evidence.pk]
    assert not result.ok
    assert result.found == hashlib.sha256(CHANGED).hexdigest()

    s3.delete_object(Bucket=BUCKET, Key=f"kla/{evidence.file.name}")
    (result,) = [r for r in fixity_check_all() if r.file_id == evidence.pk]
    assert not result.ok and result.found is None
