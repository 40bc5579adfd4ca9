"""A deployment ``scale`` cities large, written into the current database with COPY.

``build_world(scale)`` fills the database Django's default alias names (PostgreSQL, migrated)
with what ``scale`` cities of one deployment would hold after a year and a bit of use: per
city 44 addressee bodies with an operator each, and about 1,000 submissions over two
instructions (last year's, mostly audited, and the current one, spread over every state of the
flow), each with its indicators, evidence rows (no stored files: nothing measured reads them),
evidence tags against the instruction's checklist, about ten trail events in a valid hash
chain, its open SLA timer, its notifications, and for some audited ones Inspektorat's findings
with their recommendations. The reviewers are one deployment's: a verifier of every body, a
verifier of a handful of bodies, a consolidator and an auditor.

Everything bulky goes in through PostgreSQL's COPY (psycopg 3), batch by batch, never through
ORM saves, so that the 514-city world takes minutes. The trail is written as ``trail_append``
writes it, with the same canonical form and hash (``workflows.trail.chain``), and the guard
of ``workflows.trail.guard`` stays in force: stream heads are inserted at ``seq`` 0 with the
genesis hash and then walked forward one event at a time by set-based UPDATEs, each of which
the head trigger checks against the stored event. Then the log gives the events their leaves
(``log_sequence``), the summaries are rebuilt when the project has them
(``workflows.summaries.rebuild``) and the tables are analysed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib
import importlib.util
import json
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BODIES_PER_CITY = 44
SUBMISSIONS_PER_CITY = 1000
# Of a city's submissions, the share answering last year's instruction.
PREVIOUS_SHARE = 0.4
SCOPED_BODIES = 5
BATCH = 2000
REQUIREMENTS_PER_INDICATOR = 2
FINDING_SHARE = 0.1  # of the audited submissions
INDICATORS_CSV = Path(__file__).resolve().parents[1] / "kla" / "data" / "indicators.csv"

# Where the submissions of each instruction stand (shares add up to 1).
CURRENT_STATES = (
    ("draft", 0.15),
    ("submitted", 0.20),
    ("returned", 0.10),
    ("verified", 0.20),
    ("consolidated", 0.15),
    ("audited", 0.20),
)
PREVIOUS_STATES = (("verified", 0.05), ("consolidated", 0.10), ("audited", 0.85))
CATEGORIES = ("regulation", "program", "partnership", "innovation")
BODY_KINDS = (
    "perangkat_daerah",
    "kecamatan",
    "instansi_vertikal",
    "forkopimda",
    "lembaga_masyarakat",
    "dunia_usaha",
)
EVIDENCE_KINDS = ("decree", "activity_report", "photo", "data", "other", "attendance")
DETAILS: dict[str, dict[str, Any]] = {
    "regulation": {"kind": "perwali", "number": "12/2025", "enacted_on": "2025-02-01"},
    "program": {
        "program": "Pemenuhan Hak Anak",
        "activity": "Forum Anak",
        "sub_activity": "Pelatihan",
        "funding_source": "APBD",
        "budget": 1500000,
        "year": 2025,
    },
    "partnership": {
        "partner": "Kejaksaan Negeri",
        "partner_kind": "agency",
        "mou_number": "PKS-1/2025",
        "mou_date": "2025-12-10",
    },
    "innovation": {"name": "Si Anak", "started_on": "2025-01-02", "document_kinds": ["other"]},
}
TITLES = {
    "submitted": "Pengajuan menunggu verifikasi: %s",
    "returned": "Pengajuan dikembalikan untuk perbaikan: %s",
    "verified": "Pengajuan terverifikasi: %s",
    "consolidated": "Pengajuan terkonsolidasi: %s",
    "audited": "Pengajuan selesai diaudit: %s",
}
# Who is told of a move into each state (``workflows.notifications.write``, in short).
TOLD = {
    "submitted": ("verifier",),
    "returned": ("operator",),
    "verified": ("consolidator",),
    "consolidated": ("auditor",),
    "audited": ("operator",),
}
UNREAD_DAYS = 7  # notifications newer than this are still unread


@dataclass
class World:
    """What ``build_world`` made: counts, the people to measure as, and how long it took."""

    scale: int
    instructions: list[int] = field(default_factory=list)
    current_instruction: int = 0
    bodies: int = 0
    operators: int = 0
    submissions: int = 0
    events: int = 0
    streams: int = 0
    evidence: int = 0
    timers: int = 0
    notifications: int = 0
    findings: int = 0
    recommendations: int = 0
    people: dict[str, int] = field(default_factory=dict)
    scoped_bodies: list[int] = field(default_factory=list)
    sample_submission: int = 0
    scoped_sample_submission: int = 0
    summaries: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


@dataclass
class _Plan:
    """One submission decided before any row is written (so ids can be reserved)."""

    instruction: int
    body: int
    state: str
    category: str
    indicators: list[int]
    files: int
    cycle: bool  # returned once and resubmitted on its way
    finding: bool


@dataclass
class _Rows:
    """The rows of one batch, table by table, in COPY order."""

    tables: dict[str, tuple[str, list[tuple[Any, ...]]]] = field(default_factory=dict)

    def add(self, table: str, columns: str, row: tuple[Any, ...]) -> None:
        self.tables.setdefault(table, (columns, []))[1].append(row)


class _Ids:
    """Ids reserved from each table's identity sequence, so rows can name each other."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def reserve(self, table: str, count: int) -> int:
        """The first of ``count`` consecutive ids nobody else will be given."""
        if count <= 0:
            return 0
        self.cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = self.cursor.fetchone()[0]
        self.cursor.execute("SELECT nextval(%s)", [sequence])
        first = int(self.cursor.fetchone()[0])
        self.cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
        return first


def _copy(raw: Any, rows: _Rows) -> None:
    with raw.cursor() as cursor:
        for table, (columns, values) in rows.tables.items():
            if not values:
                continue
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)


def _pick(rng: random.Random, shares: Sequence[tuple[str, float]]) -> str:
    roll = rng.random()
    for state, share in shares:
        roll -= share
        if roll < 0:
            return state
    return shares[-1][0]


def _indicators() -> list[tuple[int, int]]:
    """The 24 indicators as (id, number), made from ``kla/data/indicators.csv`` if absent."""
    from kla.models import Indicator

    with INDICATORS_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            Indicator.objects.get_or_create(
                number=int(row["number"]),
                defaults={"cluster": row["cluster"], "name": row["name"]},
            )
    return list(Indicator.objects.order_by("number").values_list("pk", "number"))


def _instructions(now: dt.datetime, tag: str) -> tuple[Any, Any]:
    """Last year's instruction and the current one (whose deadline is still ahead)."""
    from kla.models import Instruction

    today = now.date()
    year = today.year
    number = 1 + max(
        [0, *Instruction.objects.filter(year__in=[year - 1, year]).values_list("number", flat=True)]
    )
    previous = Instruction.objects.create(
        number=number,
        year=year - 1,
        title=f"Instruksi KLA {tag} {year - 1}",
        issuer="Kepala Daerah",
        issued_on=today - dt.timedelta(days=440),
        deadline=today - dt.timedelta(days=380),
        years=[year - 3, year - 2],
        is_current=False,
    )
    current = Instruction.objects.create(
        number=number,
        year=year,
        title=f"Instruksi KLA {tag} {year}",
        issuer="Kepala Daerah",
        issued_on=today - dt.timedelta(days=75),
        deadline=today + dt.timedelta(days=20),
        years=[year - 2, year - 1],
        is_current=True,
    )
    return previous, current


def _reviewers(tag: str, scoped: list[Any]) -> dict[str, Any]:
    """The reviewers of one deployment, through the ORM (their role changes are trail events
    written by the project's own receivers)."""
    from django.contrib.auth.models import Group, Permission, User

    from roles.models import BodyUserObjectPermission
    from roles.roles import VERIFY_CODENAME, Role

    perm = Permission.objects.get(codename=VERIFY_CODENAME, content_type__app_label="kla")
    people: dict[str, Any] = {}
    for key, role, username in (
        ("verifier", Role.VERIFIER, "verifikator"),
        ("consolidator", Role.CONSOLIDATOR, "bapperida"),
        ("auditor", Role.AUDITOR, "inspektorat"),
    ):
        group, _created = Group.objects.get_or_create(name=role.value)
        if role == Role.VERIFIER:
            group.permissions.add(perm)
        user = User.objects.create(username=f"{username}-{tag}", email=f"{username}@{tag}.test")
        user.groups.add(group)
        people[key] = user
    scoped_verifier = User.objects.create(
        username=f"verifikator-lingkup-{tag}", email=f"lingkup@{tag}.test"
    )
    for body in scoped:
        BodyUserObjectPermission.objects.create(
            user=scoped_verifier, permission=perm, content_object=body
        )
    people["scoped_verifier"] = scoped_verifier
    return people


def walk_heads(cursor: Any, low: int, high: int) -> None:
    """Move the heads with ids ``low`` to ``high`` forward to their last events, one event per
    UPDATE, as the head guard allows: from ``seq`` to ``seq + 1`` and that event's hash."""
    while True:
        cursor.execute(
            "UPDATE workflows_trailstream h SET seq = e.seq, head_hash = e.hash "
            "FROM workflows_trailevent e "
            "WHERE h.id BETWEEN %s AND %s AND e.stream_id = h.id AND e.seq = h.seq + 1",
            [low, high],
        )
        if cursor.rowcount == 0:
            break


class _Chain:
    """One submission's stream, hashed event by event as ``trail_append`` hashes them."""

    def __init__(self, stream_id: int, name: str, submission: int, body: int) -> None:
        from workflows.models import GENESIS_HASH

        self.stream_id = stream_id
        self.name = name
        self.submission = submission
        self.body = body
        self.seq = 0
        self.head = GENESIS_HASH
        self.rows: list[tuple[Any, ...]] = []

    def append(
        self,
        *,
        at: dt.datetime,
        actor: tuple[int, str],
        role: str,
        action: str,
        from_state: str,
        to_state: str,
        note: str = "",
        files: Sequence[dict[str, str]] = (),
        data: dict[str, Any],
    ) -> None:
        from workflows.trail.chain import ALGORITHM, event_hash, format_at

        self.seq += 1
        record = {
            "algorithm": ALGORITHM,
            "stream": self.name,
            "seq": self.seq,
            "at": format_at(at),
            "actor": actor[1],
            "role": role,
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "note": note,
            "files": [{"name": f["name"], "sha256": f["sha256"]} for f in files],
            "data": data,
            "prev_hash": self.head,
        }
        digest = event_hash(record)
        self.rows.append(
            (
                self.stream_id,
                self.seq,
                at,
                actor[0],
                actor[1],
                role,
                action,
                from_state,
                to_state,
                note,
                json.dumps(record["files"]),
                json.dumps(data),
                self.submission,
                self.body,
                ALGORITHM,
                self.head,
                digest,
            )
        )
        self.head = digest


EVENT_COLUMNS = (
    "stream_id, seq, at, actor_id, actor_name, role, action, from_state, to_state, note, "
    "files, data, submission_id, body_id, algorithm, prev_hash, hash"
)


class _Builder:
    """Writes the world batch by batch; keeps only what later batches need."""

    def __init__(self, scale: int, seed: int, submissions_per_city: int) -> None:
        from django.utils import timezone

        self.scale = scale
        self.rng = random.Random(seed)
        self.now = timezone.now().replace(microsecond=0)
        self.tag = f"w{seed}"
        self.submissions_per_city = submissions_per_city
        self.world = World(scale=scale)
        self.calendar: Any = None
        self.due_cache: dict[tuple[int, str, dt.date, bool], dt.datetime | None] = {}

    # --- the fixed part: instructions, checklist, bodies, people ------------------------------

    def setup(self, raw: Any, ids: _Ids) -> None:
        from django.contrib.auth.hashers import make_password

        from kla.models import Body, Requirement
        from workflows.sla.calendar import WorkCalendar

        self.calendar = WorkCalendar.load()
        self.indicators = _indicators()
        self.previous, self.current = _instructions(self.now, self.tag)
        self.instructions = {self.previous.pk: self.previous, self.current.pk: self.current}
        self.world.instructions = [self.previous.pk, self.current.pk]
        self.world.current_instruction = self.current.pk
        self.requirements: dict[tuple[int, int], list[tuple[int, str]]] = {}
        for instruction in (self.previous, self.current):
            made = Requirement.objects.bulk_create(
                Requirement(
                    instruction=instruction,
                    indicator_id=pk,
                    code=f"{number}.{k + 1}",
                    label=f"Data dukung {number}.{k + 1}",
                )
                for pk, number in self.indicators
                for k in range(REQUIREMENTS_PER_INDICATOR)
            )
            for requirement in made:
                self.requirements.setdefault((instruction.pk, requirement.indicator_id), []).append(
                    (requirement.pk, requirement.code)
                )

        count = BODIES_PER_CITY * self.scale
        first_body = ids.reserve(Body._meta.db_table, count)
        first_user = ids.reserve("auth_user", count)
        # One unusable password for every operator: nobody signs in as them here.
        password = make_password(None)
        rows = _Rows()
        self.bodies: list[tuple[int, str, int]] = []  # (body id, code, operator id)
        joined = self.now - dt.timedelta(days=500)
        for n in range(count):
            body_id, user_id = first_body + n, first_user + n
            code = f"{self.tag}-b{n:06d}"
            rows.add(
                Body._meta.db_table,
                "id, code, name, kind, email, active, seeded_name",
                (body_id, code, f"Perangkat {n}", BODY_KINDS[n % len(BODY_KINDS)], "", True, ""),
            )
            username = f"op-{code}"
            rows.add(
                "auth_user",
                "id, password, is_superuser, username, first_name, last_name, email, "
                "is_staff, is_active, date_joined",
                (user_id, password, False, username, "", "", f"{username}@example.test",
                 False, True, joined),
            )  # fmt: skip
            rows.add("roles_membership", "user_id, body_id, created_at", (user_id, body_id, joined))
            for instruction in (self.previous, self.current):
                rows.add(
                    "kla_instruction_addressees",
                    "instruction_id, body_id",
                    (instruction.pk, body_id),
                )
            self.bodies.append((body_id, code, user_id))
        _copy(raw, rows)
        self.world.bodies = self.world.operators = count

        scoped = list(Body.objects.filter(pk__in=[b[0] for b in self.bodies[:SCOPED_BODIES]]))
        people = _reviewers(self.tag, scoped)
        self.people = {key: (user.pk, user.get_username()) for key, user in people.items()}
        self.world.people = {key: user.pk for key, user in people.items()}
        self.world.scoped_bodies = [b.pk for b in scoped]
        self.scoped = set(self.world.scoped_bodies)

    # --- the submissions, batch by batch -------------------------------------------------------

    def plans(self) -> list[_Plan]:
        rng = self.rng
        total = self.submissions_per_city * self.scale
        plans = []
        for n in range(total):
            previous = rng.random() < PREVIOUS_SHARE
            state = _pick(rng, PREVIOUS_STATES if previous else CURRENT_STATES)
            first = rng.randrange(len(self.indicators))
            chosen = [self.indicators[first][0]]
            if rng.random() < 0.3:
                chosen.append(self.indicators[(first + 1 + rng.randrange(23)) % 24][0])
            plans.append(
                _Plan(
                    instruction=(self.previous if previous else self.current).pk,
                    # Spread over every body, a few more on some (as cities are).
                    body=n % len(self.bodies)
                    if rng.random() < 0.8
                    else rng.randrange(len(self.bodies)),
                    state=state,
                    category=CATEGORIES[rng.randrange(4)],
                    indicators=chosen,
                    files=2 + (rng.random() < 0.3),
                    cycle=state not in ("draft", "submitted", "returned") and rng.random() < 0.3,
                    finding=state == "audited" and rng.random() < FINDING_SHARE,
                )
            )
        return plans

    def due(self, instruction: int, step: str, started_at: dt.datetime) -> dt.datetime | None:
        from kla.time import wib_date
        from workflows.sla.timers import step_due

        inst = self.instructions[instruction]
        key = (instruction, step, wib_date(started_at), started_at <= inst.deadline_end)
        if key not in self.due_cache:
            self.due_cache[key] = step_due(
                step=step, started_at=started_at, instruction=inst, calendar=self.calendar
            )
        return self.due_cache[key]

    def batch(self, raw: Any, ids: _Ids, plans: list[_Plan]) -> None:
        from kla.models import Evidence, Submission
        from workflows.models import Finding, Recommendation, TrailStream

        first_sub = ids.reserve(Submission._meta.db_table, len(plans))
        first_stream = ids.reserve(TrailStream._meta.db_table, len(plans))
        first_file = ids.reserve(Evidence._meta.db_table, sum(p.files for p in plans))
        findings = sum(p.finding for p in plans)
        first_finding = ids.reserve(Finding._meta.db_table, findings)
        first_rec = ids.reserve(Recommendation._meta.db_table, 2 * findings)
        rows = _Rows()
        chains: list[_Chain] = []
        next_file, next_finding, next_rec = first_file, first_finding, first_rec
        for n, plan in enumerate(plans):
            sid = first_sub + n
            chain = _Chain(first_stream + n, f"submission:{sid}", sid, self.bodies[plan.body][0])
            next_file, next_finding, next_rec = self.submission(
                rows, plan, sid, chain, next_file, next_finding, next_rec
            )
            chains.append(chain)
        rows.tables[TrailStream._meta.db_table] = (
            "id, name, seq, head_hash",
            [(c.stream_id, c.name, 0, "0" * 64) for c in chains],
        )
        rows.tables["workflows_trailevent"] = (
            EVENT_COLUMNS,
            [row for c in chains for row in c.rows],
        )
        # The heads go in first (at seq 0, as the guard wants), then the events.
        order = [
            Submission._meta.db_table,
            "kla_submission_indicators",
            Evidence._meta.db_table,
            "kla_evidence_requirements",
            TrailStream._meta.db_table,
            "workflows_trailevent",
            "workflows_timer",
            "workflows_notification",
            Finding._meta.db_table,
            Recommendation._meta.db_table,
        ]
        rows.tables = {t: rows.tables[t] for t in order if t in rows.tables}
        _copy(raw, rows)
        with raw.cursor() as cursor:
            walk_heads(cursor, first_stream, first_stream + len(plans) - 1)
        world = self.world
        world.submissions += len(plans)
        world.streams += len(chains)
        world.events += sum(c.seq for c in chains)
        world.evidence += next_file - first_file
        world.findings += next_finding - first_finding
        world.recommendations += next_rec - first_rec
        world.timers += len(rows.tables.get("workflows_timer", ("", []))[1])
        world.notifications += len(rows.tables.get("workflows_notification", ("", []))[1])
        for plan, chain in zip(plans, chains, strict=True):
            if plan.instruction == self.current.pk and plan.state == "verified":
                if not world.sample_submission:
                    world.sample_submission = chain.submission
                if chain.body in self.scoped and not world.scoped_sample_submission:
                    world.scoped_sample_submission = chain.submission

    def submission(
        self,
        rows: _Rows,
        plan: _Plan,
        sid: int,
        chain: _Chain,
        next_file: int,
        next_finding: int,
        next_rec: int,
    ) -> tuple[int, int, int]:
        """The rows of one submission and its trail; returns the next free ids."""
        rng = self.rng
        body_id, code, operator_id = self.bodies[plan.body]
        operator = (operator_id, f"op-{code}")
        instruction = self.instructions[plan.instruction]
        title = f"{plan.category.title()} {code} {sid}"
        years = list(instruction.years[-1:])
        details = DETAILS[plan.category]
        numbers = sorted(number for pk, number in self.indicators if pk in plan.indicators)

        steps = self.steps(plan)
        start_floor = dt.datetime.combine(instruction.issued_on, dt.time(8), tzinfo=dt.UTC)
        gaps = [dt.timedelta(minutes=rng.randrange(30, 30 * 60)) for _ in steps]
        span = sum(gaps, dt.timedelta())
        if plan.instruction == self.current.pk:
            latest = self.now - span - dt.timedelta(hours=1)
        else:
            latest = start_floor + dt.timedelta(days=200)
        window = max(0, int((latest - start_floor).total_seconds()))
        at = start_floor + dt.timedelta(seconds=rng.randrange(window + 1), microseconds=sid % 1000)
        created_at = at

        files: list[dict[str, Any]] = []
        for k in range(plan.files):
            digest = hashlib.sha256(f"{self.tag}:{sid}:{k}".encode()).hexdigest()
            first_indicator = plan.indicators[0]
            served = self.requirements[(plan.instruction, first_indicator)]
            tags = [served[k % len(served)]] if k % 3 != 2 else []
            files.append(
                {
                    "id": next_file,
                    "name": f"bukti-{k + 1}.pdf",
                    "sha256": digest,
                    "size": 40_000 + 997 * k + sid % 5000,
                    "kind": EVIDENCE_KINDS[(sid + k) % len(EVIDENCE_KINDS)],
                    "requirements": tags,
                }
            )
            next_file += 1

        version = 1
        state = ""
        first_submitted: dt.datetime | None = None
        step_started = at
        uploaded = 0
        description = ""
        reviewer = self.people["verifier"]
        if body_id in self.scoped and rng.random() < 0.5:
            reviewer = self.people["scoped_verifier"]
        for (action, role, to_state), gap in zip(steps, gaps, strict=True):
            from_state = state
            actor = operator
            if role == "verifier":
                actor = reviewer
            elif role in ("consolidator", "auditor"):
                actor = self.people[role]
            data: dict[str, Any]
            event_files: list[dict[str, str]] = []
            note = ""
            if action == "create":
                data = {
                    "title": title,
                    "years": years,
                    "indicators": numbers,
                    "details": details,
                    "version": version,
                    "agency": code,
                    "category": plan.category,
                }
            elif action == "evidence_upload":
                version += 1
                f = files[uploaded]
                f["at"] = at
                uploaded += 1
                event_files = [{"name": f["name"], "sha256": f["sha256"]}]
                data = {
                    "evidence": f["id"],
                    "size": f["size"],
                    "kind": f["kind"],
                    "requirements": sorted(r[1] for r in f["requirements"]),
                    "version": version,
                }
            elif action == "edit":
                version += 1
                description = f"Uraian {sid} v{version}"
                data = {"changed": ["description"], "description": description, "version": version}
            elif action == "evidence_download":
                f = files[0]
                event_files = [{"name": f["name"], "sha256": f["sha256"]}]
                data = {"evidence": f["id"]}
            else:
                version += 1
                data = {"version": version}
                if action in ("submit", "resubmit"):
                    event_files = [{"name": f["name"], "sha256": f["sha256"]} for f in files]
                    data |= {
                        "files": [
                            {
                                "evidence": f["id"],
                                "kind": f["kind"],
                                "requirements": sorted(r[1] for r in f["requirements"]),
                            }
                            for f in files
                        ],
                        "title": title,
                        "description": description,
                        "years": years,
                        "indicators": numbers,
                        "details": details,
                        "late": False,
                    }
                    if first_submitted is None:
                        first_submitted = at
                if action == "return":
                    note = "Lengkapi bukti dukung sesuai data dukung indikator."
            chain.append(
                at=at,
                actor=actor,
                role=role,
                action=action,
                from_state=from_state if action != "create" else "",
                to_state=to_state,
                note=note,
                files=event_files,
                data=data,
            )
            if to_state != from_state:
                step_started = at
                self.notify(rows, to_state, sid, title, at, body_id, operator_id, note)
            state = to_state
            at = at + gap
        updated_at = chain.rows[-1][2]

        if plan.finding:
            next_finding, next_rec = self.finding(
                rows, plan, sid, chain, body_id, operator_id, at, next_finding, next_rec
            )

        due: dt.datetime | None = None
        if state != "audited":
            due = self.due(plan.instruction, state, step_started)
            rows.add(
                "workflows_timer",
                "submission_id, step, started_at, due_at",
                (sid, state, step_started, due),
            )
        rows.add(
            "kla_submission",
            "id, instruction_id, body_id, category, title, description, years, details, state, "
            "version, late, first_submitted_at, due_at, created_by_id, created_at, updated_at",
            (sid, plan.instruction, body_id, plan.category, title, description,
             json.dumps(years), json.dumps(details), state, version, False, first_submitted,
             due, operator_id, created_at, updated_at),
        )  # fmt: skip
        for indicator in plan.indicators:
            rows.add(
                "kla_submission_indicators",
                "submission_id, indicator_id",
                (sid, indicator),
            )
        for f in files:
            rows.add(
                "kla_evidence",
                "id, submission_id, file, name, size, sha256, content_type, kind, uploaded_at, "
                "uploaded_by_id",
                (f["id"], sid, f"evidence/{sid}/{f['sha256'][:32]}", f["name"], f["size"],
                 f["sha256"], "application/pdf", f["kind"], f["at"], operator_id),
            )  # fmt: skip
            for requirement, _code in f["requirements"]:
                rows.add(
                    "kla_evidence_requirements",
                    "evidence_id, requirement_id",
                    (f["id"], requirement),
                )
        return next_file, next_finding, next_rec

    def steps(self, plan: _Plan) -> list[tuple[str, str, str]]:
        """The events (action, role, state after) that bring a submission to its state."""
        path = [("create", "operator", "draft")]
        path += [("evidence_upload", "operator", "draft")] * plan.files
        path += [("edit", "operator", "draft")]
        if plan.state != "draft":
            # A download leaves the state as it is ("": the state it was read in).
            path += [("submit", "operator", "submitted"), ("evidence_download", "verifier", "")]
        if plan.state == "returned" or plan.cycle:
            path += [("return", "verifier", "returned")]
        if plan.cycle:
            path += [("edit", "operator", "returned"), ("resubmit", "operator", "submitted")]
        if plan.state in ("verified", "consolidated", "audited"):
            path += [("approve", "verifier", "verified")]
        if plan.state in ("consolidated", "audited"):
            path += [("consolidate", "consolidator", "consolidated")]
        if plan.state == "audited":
            path += [("evidence_download", "auditor", ""), ("audit", "auditor", "audited")]
        filled: list[tuple[str, str, str]] = []
        state = ""
        for action, role, to_state in path:
            state = to_state or state
            filled.append((action, role, state))
        return filled

    def notify(
        self,
        rows: _Rows,
        to_state: str,
        sid: int,
        title: str,
        at: dt.datetime,
        body_id: int,
        operator_id: int,
        note: str,
    ) -> None:
        if to_state not in TOLD:
            return
        people: list[int] = []
        for role in TOLD[to_state]:
            if role == "operator":
                people.append(operator_id)
            elif role == "verifier":
                people.append(self.people["verifier"][0])
                if body_id in self.scoped:
                    people.append(self.people["scoped_verifier"][0])
            else:
                people.append(self.people[role][0])
        old = at < self.now - dt.timedelta(days=UNREAD_DAYS)
        read = at + dt.timedelta(hours=2) if old else None
        for person in people:
            rows.add(
                "workflows_notification",
                "user_id, email, kind, submission_id, title, message, created_at, read_at, "
                "emailed_at",
                (person, "", f"state:{to_state}", sid, TITLES[to_state] % f"#{sid} {title}",
                 note, at, read, at + dt.timedelta(minutes=1)),
            )  # fmt: skip

    def finding(
        self,
        rows: _Rows,
        plan: _Plan,
        sid: int,
        chain: _Chain,
        body_id: int,
        operator_id: int,
        at: dt.datetime,
        fid: int,
        rid: int,
    ) -> tuple[int, int]:
        """Inspektorat's finding about an audited submission, with two recommendations, as
        ``finding_create`` records it (the event in the submission's stream)."""
        auditor = self.people["auditor"]
        instruction = self.instructions[plan.instruction]
        due = at + dt.timedelta(days=instruction.follow_up_days)
        texts = [f"Lengkapi dokumen {sid}", f"Perbaiki tata kelola {sid}"]
        fields = {
            "title": f"Temuan {sid}",
            "condition": "Bukti dukung belum lengkap.",
            "criteria": "Instruksi, diktum KETIGA.",
            "cause": "",
            "effect": "",
        }
        rows.add(
            "workflows_finding",
            "id, instruction_id, body_id, submission_id, title, condition, criteria, cause, "
            "effect, created_by_id, created_at, due_at",
            (fid, plan.instruction, body_id, sid, fields["title"], fields["condition"],
             fields["criteria"], "", "", auditor[0], at, due),
        )  # fmt: skip
        for n, text in enumerate(texts):
            rows.add(
                "workflows_recommendation",
                "id, finding_id, text, status, due_at",
                (rid + n, fid, text, "open", due),
            )
        chain.append(
            at=at,
            actor=auditor,
            role="auditor",
            action="finding_create",
            from_state="",
            to_state="",
            data={"finding": fid, **fields, "recommendations": texts},
        )
        rows.add(
            "workflows_notification",
            "user_id, email, kind, submission_id, title, message, created_at, read_at, "
            "emailed_at",
            (operator_id, "", "finding:new", sid, f"Temuan baru: {fields['title']}", "", at,
             None, at + dt.timedelta(minutes=1)),
        )  # fmt: skip
        return fid + 1, rid + len(texts)


def _in_batches(items: Sequence[_Plan], size: int) -> Iterable[list[_Plan]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def build_world(
    scale: int,
    *,
    seed: int = 0,
    submissions_per_city: int = SUBMISSIONS_PER_CITY,
    sequence: bool = True,
    progress: bool = False,
) -> World:
    """Fill the current database with a world ``scale`` cities large (module docstring).

    ``submissions_per_city`` shrinks a city for quick tests; ``sequence`` gives the events
    their leaves in the log, as the beat's sequencer would have. Inside a transaction (a test)
    everything stays in it; otherwise each batch commits and the tables are vacuumed at the end.
    """
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        raise RuntimeError("build_world needs PostgreSQL (COPY)")
    if scale < 1:
        raise ValueError("scale: one city or more")
    builder = _Builder(scale, seed, submissions_per_city)
    world = builder.world
    autocommit = not connection.in_atomic_block

    def tick(name: str, began: float) -> float:
        now = time.perf_counter()
        world.seconds[name] = world.seconds.get(name, 0.0) + now - began
        if progress:
            print(f"  world x{scale}: {name} {now - began:.1f} s", flush=True)
        return now

    began = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection
    with transaction.atomic(), connection.cursor() as cursor:
        builder.setup(raw, _Ids(cursor))
    began = tick("bodies and people", began)
    plans = builder.plans()
    for n, chunk in enumerate(_in_batches(plans, BATCH), start=1):
        with transaction.atomic(), connection.cursor() as cursor:
            builder.batch(raw, _Ids(cursor), chunk)
        if progress and n % 25 == 0:
            print(
                f"  world x{scale}: {world.submissions:,} of {len(plans):,} submissions, "
                f"{time.perf_counter() - began:.0f} s",
                flush=True,
            )
    began = tick("submissions and trail", began)
    if sequence:
        from workflows.trail.log import log_sequence

        log_sequence()
        began = tick("log", began)
    if importlib.util.find_spec("workflows.summaries") is not None:
        summaries: Any = importlib.import_module("workflows.summaries")
        summaries.rebuild()
        world.summaries = True
        began = tick("summaries", began)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if autocommit else "ANALYZE")
    tick("analyze", began)
    return world
