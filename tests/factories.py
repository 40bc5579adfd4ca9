"""Factories and helpers that build the world of a test through the real services."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model, QuerySet

from kla.drafting import evidence_add, submission_create
from kla.models import Body, BodyKind, Indicator, Instruction, Submission, SubmissionState
from roles.models import BodyUserObjectPermission, Membership
from roles.roles import VERIFY_CODENAME, Role

__all__ = ["Membership", "Role"]  # used by tests as f.Membership and f.Role
from workflows.services import DECLARED_DOCUMENTS, submission_act

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


M = TypeVar("M", bound=Model)
R = TypeVar("R", bound=Model)


class ModelFactory(factory.django.DjangoModelFactory[M]):
    """factory_boy's model factory, typed: calling it gives the model instance it saved."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:

        def __new__(cls, *args: Any, **kwargs: Any) -> M:  # type: ignore[misc]
            ...


class InstructionFactory(ModelFactory[Instruction]):
    class Meta:
        model = Instruction
        django_get_or_create = ("number", "year")
        skip_postgeneration_save = True

    number = 2
    year = 2026
    title = "Pelaksanaan Kota Layak Anak Kota Metro Tahun 2026"
    issuer = "Wali Kota Metro"
    issued_on = dt.date(2026, 3, 17)
    deadline = dt.date(2026, 4, 1)
    years = factory.LazyAttribute(lambda o: [o.year - 2, o.year - 1, o.year])
    is_current = True

    @factory.post_generation
    def addressees(obj: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        # As the seed does: every body is an addressee unless the test names them.
        # get_or_create runs this for an existing instruction too: leave its addressees be.
        if not create:
            return
        if extracted is not None:
            obj.addressees.set(extracted)
        elif not obj.addressees.exists():
            obj.addressees.set(Body.objects.all())


class BodyFactory(ModelFactory[Body]):
    class Meta:
        model = Body
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"body-{n}")
    name = factory.LazyAttribute(lambda o: f"Perangkat {o.code}")
    kind = BodyKind.PERANGKAT_DAERAH

    @factory.post_generation
    def addressed_by(obj: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        # A new body is an addressee of the current instruction unless the test says otherwise
        # (``addressed_by=[]``), as the seed makes every body of its file one.
        if not create:
            return
        instructions = (
            Instruction.objects.filter(is_current=True) if extracted is None else extracted
        )
        for instruction in instructions:
            instruction.addressees.add(obj)


class IndicatorFactory(ModelFactory[Indicator]):
    class Meta:
        model = Indicator
        django_get_or_create = ("number",)

    number = factory.Sequence(lambda n: n % 24 + 1)
    cluster = "kelembagaan"
    name = factory.LazyAttribute(lambda o: f"Indikator {o.number}")


class UserFactory(ModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", "rahasia-123")

    @factory.post_generation
    def save_password(obj: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


PASSWORD = "rahasia-123"


def group(role: Role) -> Group:
    """The global role's group, with the verifier's model-level permission."""
    grp, _ = Group.objects.get_or_create(name=role.value)
    if role == Role.VERIFIER:
        grp.permissions.add(
            Permission.objects.get(codename=VERIFY_CODENAME, content_type__app_label="kla")
        )
    return grp


def make_operator(body: Body, username: str | None = None) -> Any:
    user = UserFactory(**({"username": username} if username else {}))
    Membership.objects.get_or_create(user=user, body=body)
    return user


def make_role(role: Role, username: str | None = None) -> Any:
    user = UserFactory(**({"username": username} if username else {}))
    user.groups.add(group(role))
    return user


def make_scoped_verifier(bodies: list[Body], username: str | None = None) -> Any:
    user = UserFactory(**({"username": username} if username else {}))
    perm = Permission.objects.get(codename=VERIFY_CODENAME, content_type__app_label="kla")
    for body in bodies:
        BodyUserObjectPermission.objects.get_or_create(
            user=user, permission=perm, content_object=body
        )
    return user


INDICATORS_CSV = Path(__file__).resolve().parents[1] / "kla" / "data" / "indicators.csv"


def ensure_indicators() -> None:
    """The 24 indicators; loaded once per session, made again only after a flush."""
    if Indicator.objects.count() < 24:
        for number in range(1, 25):
            IndicatorFactory(number=number)


def load_reference_data() -> None:
    """The 24 indicators in their real clusters, as the seed has them, and the working
    calendar's revision row, as the migrations leave them."""
    from workflows.models import CalendarRevision

    with INDICATORS_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            IndicatorFactory(number=int(row["number"]), cluster=row["cluster"], name=row["name"])
    if not CalendarRevision.objects.exists():
        CalendarRevision.objects.create()


COMPLETE_DETAILS: dict[str, dict[str, Any]] = {
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
        "partner": "Kejaksaan Negeri Metro",
        "partner_kind": "agency",
        "mou_number": "PKS-1/2025",
        "mou_date": "2025-12-10",
    },
    # "other": declaring a KAK/TOR or an SK asks for a file of its kind (KEEMPAT), which helpers
    # uploading their own files would not carry; make_draft uploads them when a test declares.
    "innovation": {"name": "Si Anak", "started_on": "2025-01-02", "document_kinds": ["other"]},
}


def first(queryset: QuerySet[R]) -> R:
    """The first row of a query the test expects to find something."""
    row = queryset.first()
    assert row is not None, f"no row in {queryset.model.__name__}"
    return row


def pdf_upload(name: str = "bukti.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def make_draft(
    operator: Any,
    category: str = "regulation",
    *,
    with_evidence: bool = True,
    agency: str | None = None,
    instruction: Instruction | None = None,
    **fields: Any,
) -> Submission:
    """A complete draft created through the services, as an operator would (for the current
    instruction, made when missing, unless one is given)."""
    if instruction is None:
        InstructionFactory()
    ensure_indicators()
    values = {
        "title": "Perwali tentang Kawasan Tanpa Rokok",
        "description": "Salinan regulasi",
        "years": [2025],
        "indicators": [17],
        "details": COMPLETE_DETAILS[category],
    } | fields
    submission = submission_create(
        user=operator,
        category=category,
        agency=agency,
        instruction=instruction.pk if instruction is not None else None,
        fields=values,
    )
    if with_evidence:
        # Complete means KEEMPAT too: a file of its kind for each document an innovation declares.
        details = values["details"] if category == "innovation" else {}
        declared = details.get("document_kinds") or []
        kinds: list[str | None] = [
            DECLARED_DOCUMENTS[d].value for d in declared if d in DECLARED_DOCUMENTS
        ]
        for kind in kinds or [None]:
            evidence_add(user=operator, submission_id=submission.pk, upload=pdf_upload(), kind=kind)
    submission.refresh_from_db()
    return submission


STEPS = {
    SubmissionState.DRAFT: ("operator", "submit", ""),
    SubmissionState.RETURNED: ("operator", "resubmit", "Sudah diperbaiki"),
    SubmissionState.SUBMITTED: ("verifier", "approve", ""),
    SubmissionState.VERIFIED: ("consolidator", "consolidate", ""),
    SubmissionState.CONSOLIDATED: ("auditor", "audit", ""),
}


def advance(submission: Submission, to: str, **people: Any) -> Submission:
    """Drive a submission along the happy path to ``to`` with the people given."""
    if to == SubmissionState.RETURNED:
        submission = advance(submission, SubmissionState.SUBMITTED, **people)
        return submission_act(
            user=people["verifier"], submission_id=submission.pk, action="return", note="Kurang"
        )
    while submission.state != to:
        who, action, note = STEPS[SubmissionState(submission.state)]
        submission = submission_act(
            user=people[who], submission_id=submission.pk, action=action, note=note
        )
    return submission


def api_token(user: User) -> str:
    """A new API token of the person (django-rest-knox), for ``Authorization: Token <t>``."""
    from knox.models import AuthToken

    _instance, token = AuthToken.objects.create(user)
    return str(token)
