"""Evidence package and recap workbook cost at two sizes, measured in one run:
``python -m bench exports`` (needs ``DATABASE_URL`` naming a PostgreSQL server).

In a scratch database of its own (``bench._scratch``: ``<BENCH_DATABASE_PREFIX>exports``,
created and migrated by this run and dropped at the end) and a temporary storage folder it
creates, in bulk, verified submissions with two small evidence files each:
a tenth of the full size first (``BENCH_EXPORT_SIZES``, ``500,5000`` submissions by default:
1,000 then 10,000 files), and builds each export (``BENCH_EXPORT_KINDS``, both by default:
``evidence_zip,rekap_xlsx``; with only the recap no files are stored) for a consolidator at
each size, printing the time and the peak of Python memory (tracemalloc) and the ratios of
the large run to the small one. Both are written as streams, so the peak must stay flat
(ratio near 1) while the time grows linearly (time per file ratio near 1): the package copies
file by file, the recap reads its rows in keyset batches into openpyxl's write-only workbook,
which spools each sheet to disk.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench._scratch import Scratch, export_world, scratch_database, teardown

SIZES = [int(s) for s in os.environ.get("BENCH_EXPORT_SIZES", "500,5000").split(",") if s]
FILES_PER_SUBMISSION = 2
KINDS = [k for k in os.environ.get("BENCH_EXPORT_KINDS", "evidence_zip,rekap_xlsx").split(",") if k]
BATCH = 1000
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _scratch(storage_dir: str) -> Scratch:
    os.environ["EVIDENCE_ROOT"] = storage_dir
    return scratch_database("exports")


def _world() -> dict[str, Any]:
    return {**export_world(), "made": 0}


def _grow(world: dict[str, Any], total: int, *, with_files: bool = True) -> None:
    """Add verified submissions, their indicators and files (stored for real, unless
    ``with_files`` is false) up to ``total``."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from kla.models import Evidence, Submission

    through = Submission.indicators.through
    indicators = world["indicators"]
    now = timezone.now()
    while world["made"] < total:
        start = world["made"]
        size = min(BATCH, total - start)
        subs = Submission.objects.bulk_create(
            Submission(
                instruction=world["instruction"],
                body=world["bodies"][(start + i) % len(world["bodies"])],
                category="program" if (start + i) % 2 else "regulation",
                title=f"Pengajuan {start + i}",
                years=[2025],
                details={"program": "P", "funding_source": "APBD", "budget": 1000 + i},
                state="verified",
                created_by=world["operator"],
                first_submitted_at=now,
            )
            for i in range(size)
        )
        links = []
        files = []
        for i, s in enumerate(subs):
            n = start + i
            links.append(through(submission=s, indicator=indicators[n % 24]))
            if n % 3 == 0:
                links.append(through(submission=s, indicator=indicators[(n + 7) % 24]))
            for k in range(FILES_PER_SUBMISSION if with_files else 0):
                content = PDF + f"% {n}-{k}\n".encode() * 40
                name = default_storage.save(f"evidence/{s.pk}/{k}", ContentFile(content))
                files.append(
                    Evidence(
                        submission=s,
                        file=name,
                        name=f"bukti-{k}.pdf",
                        size=len(content),
                        sha256=hashlib.sha256(content).hexdigest(),
                        content_type="application/pdf",
                        uploaded_by=world["operator"],
                    )
                )
        through.objects.bulk_create(links)
        Evidence.objects.bulk_create(files)
        world["made"] += size


def _measure(build: Callable[..., None], user: Any) -> tuple[float, int, int]:
    """Time, peak traced memory and output size of one build into a temporary file."""
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        start = time.perf_counter()
        build(user=user, out=out, progress=lambda done, total: None)
        elapsed = time.perf_counter() - start
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.seek(0, os.SEEK_END)
        return elapsed, peak, out.tell()


def main() -> None:
    storage_dir = tempfile.mkdtemp(prefix="bench-kla-exports-")
    scratch = _scratch(storage_dir)
    try:
        from django.utils import translation

        from kla.reports.builders import build_rekap
        from kla.reports.package import build_evidence_zip

        translation.activate("id")
        builders = {"evidence_zip": build_evidence_zip, "rekap_xlsx": build_rekap}
        unknown = set(KINDS) - set(builders)
        if unknown:
            raise SystemExit(f"BENCH_EXPORT_KINDS: unknown {', '.join(sorted(unknown))}")
        world = _world()
        results: dict[str, list[tuple[int, int, float, int]]] = {kind: [] for kind in KINDS}
        for count in SIZES:
            _grow(world, count, with_files="evidence_zip" in KINDS)
            files = count * FILES_PER_SUBMISSION
            for kind in KINDS:
                elapsed, peak, size = _measure(builders[kind], world["consolidator"])
                # The package is counted in files, the recap in rows (one per submission).
                units = files if kind == "evidence_zip" else count
                unit = "file" if kind == "evidence_zip" else "row"
                results[kind].append((count, units, elapsed, peak))
                print(
                    f"{kind}: {count:>6} submissions, {units:>6} {unit}s: {elapsed:7.2f} s, "
                    f"{elapsed / units * 1e3:6.2f} ms per {unit}, peak {peak / 2**20:6.2f} MiB, "
                    f"output {size / 2**20:7.2f} MiB",
                    flush=True,
                )
        if len(SIZES) > 1:
            for kind, rows in results.items():
                (c_small, u_small, t_small, p_small) = rows[0]
                (c_large, u_large, t_large, p_large) = rows[-1]
                print(
                    f"{kind}: peak memory {p_small / 2**20:.2f} MiB at {c_small} submissions, "
                    f"{p_large / 2**20:.2f} MiB at {c_large} (x{c_large / c_small:.0f}): "
                    f"ratio x{p_large / p_small:.2f} (flat: ~1); time per unit "
                    f"x{(t_large / u_large) / (t_small / u_small):.2f} (linear: ~1)"
                )
    finally:
        teardown(scratch)
        shutil.rmtree(storage_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
