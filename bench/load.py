"""A bounded load of the mixed workload against gunicorn, on the loopback only.

Three runs of ``LOAD_SECONDS`` (300 by default) with ``LOAD_USERS`` clients (30): the mixed
workload (``bench/locustfile.py``: operators drafting, uploading and submitting, a verifier
approving), the same number of clients on a trivial page (the login form), and the mixed
workload again with its Redis frozen (SIGSTOP: a broker that accepts and never answers) for
``LOAD_OUTAGE`` seconds (60) in the middle. Each prints throughput, p50/p95/p99, errors (5xx
or no answer) and what was lost: submissions acknowledged (201) but absent, submits or
approvals acknowledged (200) but not in the trail, emails owed but never sent once the
broker was back, and the trail's chains re-walked.

Everything runs on a scratch database (``<BENCH_DATABASE_PREFIX>load``, created by this run and
dropped at the end) and a Redis of its own on a free port; gunicorn has 4
workers, beside one Celery worker and beat (relay every 10 s).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._scratch import scratch_database, teardown

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
SECONDS = int(os.environ.get("LOAD_SECONDS", "300"))
USERS = int(os.environ.get("LOAD_USERS", "30"))
OUTAGE = int(os.environ.get("LOAD_OUTAGE", "60"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing answers on 127.0.0.1:{port}")


def _locust(env: dict[str, str], host: str, classes: list[str], out: Path) -> dict[str, Any]:
    prefix = out / "_".join(classes)
    subprocess.run(
        [
            str(VENV / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--only-summary",
            "-u",
            str(USERS),
            "-r",
            str(max(1, USERS // 5)),
            "-t",
            f"{SECONDS}s",
            "--stop-timeout",
            "10",
            "--host",
            host,
            "--csv",
            str(prefix),
            *classes,
        ],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=SECONDS + 120,
    )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return {
        "requests": int(total["Request Count"]),
        "errors": int(total["Failure Count"]),
        "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
    }


def _lost(ledger: Path) -> dict[str, int]:
    """What was acknowledged but is not in the database, and emails never sent."""
    from kla.models import Submission
    from workflows.models import Notification, TrailEvent
    from workflows.trail.reading import verify_database

    seen: dict[str, set[int]] = {"created": set(), "submitted": set(), "approved": set()}
    if ledger.exists():
        for line in ledger.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            seen[row["kind"]].add(row["submission"])
    existing = set(Submission.objects.values_list("pk", flat=True))
    with_event = {
        action: set(
            TrailEvent.objects.filter(action=action).values_list("submission_id", flat=True)
        )
        for action in ("submit", "approve")
    }
    _checker, breaks = verify_database()
    return {
        "created": len(seen["created"]),
        "created_lost": len(seen["created"] - existing),
        "submitted_lost": len(seen["submitted"] - with_event["submit"]),
        "approved_lost": len(seen["approved"] - with_event["approve"]),
        "emails_unsent": Notification.objects.filter(emailed_at__isnull=True).count(),
        "trail_breaks": len(breaks),
    }


def _drain_outbox(seconds: float) -> None:
    """Give the relay time to send what the outage left owed (bounded)."""
    from workflows.models import Notification

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Notification.objects.filter(emailed_at__isnull=True).exists():
            return
        time.sleep(2)


def _print(name: str, result: dict[str, Any]) -> None:
    print(
        f"{name:<22} {result['requests']:>7} req  {result['rps']:7.1f}/s  "
        f"p50 {result['p50']:6.0f} ms  p95 {result['p95']:6.0f} ms  p99 {result['p99']:6.0f} ms  "
        f"errors {result['errors']}",
        flush=True,
    )


def main() -> None:
    if shutil.which("redis-server") is None or not (VENV / "gunicorn").exists():
        raise SystemExit("bench.load needs redis-server and the bench extra (make bench)")
    scratch = scratch_database("load")
    from django.conf import settings
    from django.core.management import call_command

    from kla.models import Body

    call_command("seed_metro", "--demo-users", "--password", "metro2026", verbosity=0)
    db = settings.DATABASES["default"]
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    redis_port, web_port = _free_port(), _free_port()
    work = Path(tempfile.mkdtemp(prefix="kla-load-"))
    env = {
        **os.environ,
        "KLA_DEMO": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "EVIDENCE_ROOT": str(work / "evidence"),
        "KLA_VAR_DIR": str(work / "var"),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "RELAY_SECONDS": "10",
        "BROKER_SOCKET_TIMEOUT": "5",
        "LOAD_LEDGER": str(work / "ledger.jsonl"),
        "LOAD_BODIES": ",".join(
            Body.objects.exclude(code="dp3ap2kb").values_list("code", flat=True)
        ),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    procs: list[subprocess.Popen[bytes]] = []

    def start(*cmd: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        procs.append(proc)
        return proc

    try:
        redis = start(
            "redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", ""
        )
        _wait_for(redis_port)
        start(
            str(VENV / "gunicorn"), "kla.wsgi:application", "-w", "4",
            "-b", f"127.0.0.1:{web_port}", "--timeout", "60",
        )  # fmt: skip
        start(str(VENV / "celery"), "-A", "kla", "worker", "-c", "2", "--loglevel=WARNING")
        start(
            str(VENV / "celery"), "-A", "kla", "beat", "--loglevel=WARNING",
            "--schedule", str(work / "beat-schedule"),
        )  # fmt: skip
        _wait_for(web_port)
        host = f"http://127.0.0.1:{web_port}"
        print(f"{USERS} clients, {SECONDS} s each, gunicorn 4 workers, loopback", flush=True)

        mixed = _locust(env, host, ["Operator", "Verifier"], work)
        _print("mixed workload", mixed)
        trivial = _locust(env, host, ["Trivial"], work)
        _print("trivial page", trivial)
        ratio = mixed["rps"] / trivial["rps"] if trivial["rps"] else 0.0
        print(f"throughput, mixed workload / trivial page: {ratio:.2f}", flush=True)

        def outage() -> None:
            time.sleep(max(0, (SECONDS - OUTAGE) / 2))
            redis.send_signal(signal.SIGSTOP)
            time.sleep(OUTAGE)
            redis.send_signal(signal.SIGCONT)

        freezer = threading.Thread(target=outage, daemon=True)
        freezer.start()
        frozen = _locust(env, host, ["Operator", "Verifier"], work)
        freezer.join()
        _print(f"mixed, Redis frozen {OUTAGE}s", frozen)
        _drain_outbox(120)
        print("lost:", json.dumps(_lost(Path(env["LOAD_LEDGER"]))), flush=True)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)
        teardown(scratch)


if __name__ == "__main__":
    main()
