"""The evidence package laid out by requirement, at two sizes measured in one run:
``python -m bench package`` (needs ``DATABASE_URL`` naming a PostgreSQL server).

In a scratch database of its own (``<BENCH_DATABASE_PREFIX>package``, created and migrated
by this run and dropped at the end, so it never meets ``bench.exports``' one) and a temporary
storage folder, it creates in bulk an instruction whose checklist has 48 requirements (two per
indicator), verified submissions with two indicators and two small stored files each, and an
``evidence_upload`` trail event per file (rows written directly, not chained, the heads walked
forward to them as the guard allows: only the manifest's look-up of stream and ``seq`` is
measured). Of every four files one names no
requirement (``lainnya`` of both indicators), one names a requirement of one indicator (and so
sits under ``lainnya`` of the other) and two name one requirement of each indicator: every file
has two places in the package.

It builds the package for a consolidator at a tenth of the full size first and then at the full
size (``BENCH_PACKAGE_FILES``, ``1000,10000`` files by default), printing the time, the peak of
Python memory (tracemalloc), the output's size and its members, then the ratios of the large
run to the small one: the package streams, so the peak must stay flat (ratio near 1) while the
time grows linearly (time per file ratio near 1).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import tracemalloc
import zipfile
from typing import Any

from bench._scratch import export_world, scratch_database, teardown

SIZES = [int(s) for s in os.environ.get("BENCH_PACKAGE_FILES", "1000,10000").split(",") if s]
FILES_PER_SUBMISSION = 2
REQUIREMENTS_PER_INDICATOR = 2  # 24 indicators: 48 requirements
BATCH = 500
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _world() -> dict[str, Any]:
    """The shared export world with 48 requirements, two per indicator."""
    from kla.models import Requirement

    world = export_world()
    requirements = Requirement.objects.bulk_create(
        Requirement(
            instruction=world["instruction"],
            indicator=indicator,
            code=f"{indicator.number}.{k + 1}",
            label=f"Kebutuhan {indicator.number}.{k + 1}",
        )
        for indicator in world["indicators"]
        for k in range(REQUIREMENTS_PER_INDICATOR)
    )
    return {
        **world,
        "requirements": {(r.indicator_id, r.code[-1]): r for r in requirements},
        "files": 0,
    }


def _served(world: dict[str, Any], n: int, first: Any, second: Any) -> list[Any]:
    """The requirements file ``n`` names: none, one of ``first``, or one of each indicator."""
    which = str(n % REQUIREMENTS_PER_INDICATOR + 1)
    share = n % 4
    if share == 0:
        return []
    if share == 1:
        return [world["requirements"][(first.pk, which)]]
    return [world["requirements"][(first.pk, which)], world["requirements"][(second.pk, which)]]


def _grow(world: dict[str, Any], total: int) -> None:
    """Add verified submissions with their files (stored for real), tags and upload events
    until there are ``total`` files."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import connection
    from django.utils import timezone

    from bench._world import walk_heads
    from kla.models import Evidence, Submission
    from workflows.models import TrailEvent, TrailStream

    through = Submission.indicators.through
    tags = Evidence.requirements.through
    indicators = world["indicators"]
    now = timezone.now()
    while world["files"] < total:
        start = world["files"] // FILES_PER_SUBMISSION
        size = max(1, min(BATCH, (total - world["files"]) // FILES_PER_SUBMISSION))
        subs = Submission.objects.bulk_create(
            Submission(
                instruction=world["instruction"],
                body=world["bodies"][(start + i) % len(world["bodies"])],
                category="regulation",
                title=f"Pengajuan {start + i}",
                years=[2025],
                state="verified",
                created_by=world["operator"],
                first_submitted_at=now,
            )
            for i in range(size)
        )
        # Heads start at seq 0 (the guard's rule) and are walked to their events below.
        streams = TrailStream.objects.bulk_create(TrailStream(name=s.stream) for s in subs)
        links, files, served = [], [], []
        for i, submission in enumerate(subs):
            n = start + i
            first, second = indicators[n % 24], indicators[(n + 7) % 24]
            links += [
                through(submission=submission, indicator=first),
                through(submission=submission, indicator=second),
            ]
            for k in range(FILES_PER_SUBMISSION):
                m = n * FILES_PER_SUBMISSION + k
                content = PDF + f"% {m}\n".encode() * 40
                name = default_storage.save(f"evidence/{submission.pk}/{k}", ContentFile(content))
                files.append(
                    Evidence(
                        submission=submission,
                        file=name,
                        name=f"bukti-{k}.pdf",
                        size=len(content),
                        sha256=hashlib.sha256(content).hexdigest(),
                        content_type="application/pdf",
                        uploaded_by=world["operator"],
                    )
                )
                served.append(_served(world, m, first, second))
        through.objects.bulk_create(links)
        Evidence.objects.bulk_create(files)
        tags.objects.bulk_create(
            tags(evidence=evidence, requirement=requirement)
            for evidence, requirements in zip(files, served, strict=True)
            for requirement in requirements
        )
        TrailEvent.objects.bulk_create(
            TrailEvent(
                stream=streams[index // FILES_PER_SUBMISSION],
                seq=index % FILES_PER_SUBMISSION + 1,
                at=now,
                actor=world["operator"],
                actor_name="op",
                role="operator",
                action="evidence_upload",
                files=[{"name": evidence.name, "sha256": evidence.sha256}],
                data={"evidence": evidence.pk, "size": evidence.size},
                submission=evidence.submission,
                prev_hash="0" * 64,
                hash=hashlib.sha256(f"bench-{evidence.pk}".encode()).hexdigest(),
            )
            for index, evidence in enumerate(files)
        )
        with connection.cursor() as cursor:
            walk_heads(cursor, streams[0].pk, streams[-1].pk)
        world["files"] += len(files)


def _measure(user: Any, instruction: Any) -> tuple[float, int, int, int]:
    """Time, peak traced memory, output size and member count of one package."""
    from kla.reports.package import build_evidence_zip

    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        start = time.perf_counter()
        build_evidence_zip(
            user=user, out=out, progress=lambda done, total: None, instruction=instruction
        )
        elapsed = time.perf_counter() - start
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = out.tell()
        out.seek(0)
        with zipfile.ZipFile(out) as package:
            members = len(package.infolist())
        return elapsed, peak, size, members


def main() -> None:
    storage_dir = tempfile.mkdtemp(prefix="bench-kla-package-")
    os.environ["EVIDENCE_ROOT"] = storage_dir
    scratch = scratch_database("package")
    try:
        from django.utils import translation

        translation.activate("id")
        world = _world()
        results: list[tuple[int, float, int]] = []
        for files in SIZES:
            _grow(world, files)
            elapsed, peak, size, members = _measure(world["consolidator"], world["instruction"])
            results.append((world["files"], elapsed, peak))
            print(
                f"evidence package: {world['files']:>6} files, {members:>6} members: "
                f"{elapsed:7.2f} s, {elapsed / world['files'] * 1e3:6.2f} ms per file, "
                f"peak {peak / 2**20:6.2f} MiB, output {size / 2**20:7.2f} MiB",
                flush=True,
            )
        if len(results) > 1:
            (f_small, t_small, p_small), (f_large, t_large, p_large) = results[0], results[-1]
            print(
                f"evidence package: at {f_large} / at {f_small} files: "
                f"time per file x{(t_large / f_large) / (t_small / f_small):.2f} (linear: ~1), "
                f"peak memory x{p_large / p_small:.2f} (flat: ~1)"
            )
    finally:
        teardown(scratch)
        shutil.rmtree(storage_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
