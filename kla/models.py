"""The domain: the instruction, the addressee bodies, the 24 indicators, submissions, evidence.

These models import nothing above them: rights live in ``roles``, the flow and the trail in
``workflows``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import BaseConstraint
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kla.time import WIB


class SubmissionState(models.TextChoices):
    """The states of the submission flow; pages show the Indonesian labels."""

    DRAFT = "draft", _("Draf")
    SUBMITTED = "submitted", _("Menunggu verifikasi")
    RETURNED = "returned", _("Dikembalikan untuk perbaikan")
    VERIFIED = "verified", _("Terverifikasi")
    CONSOLIDATED = "consolidated", _("Terkonsolidasi")
    AUDITED = "audited", _("Selesai diaudit")


EDITABLE_STATES = frozenset({SubmissionState.DRAFT, SubmissionState.RETURNED})


class Category(models.TextChoices):
    """The four things the instruction asks each addressee for (diktum KESATU to KEEMPAT)."""

    REGULATION = "regulation", _("Regulasi")
    PROGRAM = "program", _("Program dan kegiatan")
    PARTNERSHIP = "partnership", _("Kemitraan")
    INNOVATION = "innovation", _("Inovasi")


# What an administrator sets on an instruction (besides its addressees): the admin's form and
# the trail of its changes read this one list.
INSTRUCTION_FIELDS = (
    "number",
    "year",
    "title",
    "issuer",
    "issued_on",
    "effective_on",
    "deadline",
    "years",
    "budget_verify",
    "budget_revise",
    "budget_consolidate",
    "budget_audit",
    "follow_up_days",
    "is_current",
)


class Instruction(models.Model):
    """An instruction of the head of the region: what it asks about, of whom, and by when.

    Everything the product counts belongs to one instruction: submissions, nihil declarations,
    reminders, exports, compliance and coverage. Exactly one is current; new drafts go to it
    unless they name another. Next year's is copied from this year's (``instruction_copy``).
    """

    number = models.PositiveIntegerField(_("nomor"))
    year = models.PositiveIntegerField(
        _("tahun"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    title = models.CharField(_("judul"), max_length=300)
    issuer = models.CharField(
        _("yang menetapkan"), max_length=200, blank=True, help_text=_("misalnya Wali Kota")
    )
    issued_on = models.DateField(_("tanggal ditetapkan"))
    effective_on = models.DateField(
        _("berlaku sejak"),
        blank=True,
        help_text=_("Kosong: sejak tanggal ditetapkan. Draf dapat dibuat mulai tanggal ini."),
    )
    deadline = models.DateField(_("batas waktu"))
    years = models.JSONField(
        _("tahun pelaporan"), default=list, help_text=_("Daftar tahun, misalnya [2024, 2025]")
    )
    addressees: models.ManyToManyField[Body, Any] = models.ManyToManyField(
        "Body", related_name="instructions", blank=True, verbose_name=_("yang dituju")
    )
    budget_verify = models.PositiveSmallIntegerField(_("hari kerja verifikasi"), default=2)
    budget_revise = models.PositiveSmallIntegerField(_("hari kerja perbaikan"), default=2)
    budget_consolidate = models.PositiveSmallIntegerField(_("hari kerja konsolidasi"), default=2)
    budget_audit = models.PositiveSmallIntegerField(_("hari kerja audit"), default=5)
    follow_up_days = models.PositiveSmallIntegerField(_("hari tindak lanjut temuan"), default=60)
    is_current = models.BooleanField(_("berlaku"), default=True)

    class Meta:
        verbose_name = _("instruksi")
        verbose_name_plural = _("instruksi")
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["number", "year"], name="instruction_number_year"),
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="one_current_instruction",
            ),
        ]

    def __str__(self) -> str:
        issuer = f" {self.issuer}" if self.issuer else ""
        return f"Instruksi{issuer} {self.number}/{self.year}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.effective_on is None:
            self.effective_on = self.issued_on
        if isinstance(self.years, list):
            self.years = sorted(set(self.years))
        with transaction.atomic():
            if self.is_current:
                # Exactly one is current: making this one current hands it over. Saved one by
                # one (not ``update``) so that the trail records the handover too.
                for other in Instruction.objects.select_for_update().filter(is_current=True):
                    if other.pk != self.pk:
                        other.is_current = False
                        other.save(update_fields=["is_current"])
            super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_constraints(self) -> list[tuple[type[models.Model], Sequence[BaseConstraint]]]:
        # Forms validate the model's constraints; "one current" is kept by ``save`` itself.
        return [
            (model, [c for c in constraints if c.name != "one_current_instruction"])
            for model, constraints in super().get_constraints()
        ]

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        years = self.years
        if (
            not isinstance(years, list)
            or not years
            or any(isinstance(y, bool) or not isinstance(y, int) for y in years)
            or any(not 2000 <= y <= 2100 for y in years)
        ):
            errors["years"] = _("Tahun pelaporan harus daftar tahun, misalnya [2024, 2025].")
        if (
            not self.is_current
            and self.pk
            and Instruction.objects.filter(pk=self.pk, is_current=True).exists()
        ):
            errors["is_current"] = _(
                "Selalu ada satu instruksi yang berlaku: jadikan instruksi lain berlaku."
            )
        if self.issued_on and self.deadline and self.deadline < self.issued_on:
            errors["deadline"] = _("Batas waktu tidak boleh sebelum tanggal ditetapkan.")
        if errors:
            raise ValidationError(errors)

    @property
    def label(self) -> str:
        """The short name people use: "<number>/<year>"."""
        return f"{self.number}/{self.year}"

    @property
    def deadline_end(self) -> dt.datetime:
        """The last minute of the deadline day as due times count it, 23:59:59 WIB."""
        return dt.datetime.combine(self.deadline, dt.time(23, 59, 59), tzinfo=WIB)

    @property
    def late_from(self) -> dt.datetime:
        """The instant a first submit is late: 00:00:00 WIB of the day after the deadline."""
        next_day = self.deadline + dt.timedelta(days=1)
        return dt.datetime.combine(next_day, dt.time(0, 0), tzinfo=WIB)

    @property
    def budgets(self) -> dict[str, int]:
        """The working days of each step, and the days a finding's follow-up is given."""
        return {
            "verify": self.budget_verify,
            "revise": self.budget_revise,
            "consolidate": self.budget_consolidate,
            "audit": self.budget_audit,
            "follow_up_days": self.follow_up_days,
        }

    @classmethod
    def current(cls) -> Instruction | None:
        """The instruction new submissions answer."""
        return cls.objects.filter(is_current=True).first()


class BodyKind(models.TextChoices):
    """Kinds of addressee body, as the instruction lists them."""

    PERANGKAT_DAERAH = "perangkat_daerah", _("Perangkat Daerah")
    KECAMATAN = "kecamatan", _("Kecamatan")
    INSTANSI_VERTIKAL = "instansi_vertikal", _("Instansi vertikal")
    FORKOPIMDA = "forkopimda", _("Forkopimda")
    LEMBAGA_MASYARAKAT = "lembaga_masyarakat", _("Lembaga masyarakat")
    DUNIA_USAHA = "dunia_usaha", _("BUMN dan dunia usaha")


class Body(models.Model):
    """An addressee of the instruction: a Perangkat Daerah, a kecamatan, Kemenag, PKK..."""

    code = models.SlugField(_("kode"), max_length=40, unique=True)
    name = models.CharField(_("nama"), max_length=200)
    kind = models.CharField(_("jenis"), max_length=30, choices=BodyKind.choices)
    email = models.EmailField(
        _("surel"),
        blank=True,
        help_text=_("Menerima pengingat dan pemberitahuan bila belum ada operator."),
    )
    active = models.BooleanField(_("aktif"), default=True)
    # The name the seed last wrote: the seed updates a name only while it still equals this,
    # so a name an administrator changed stays.
    seeded_name = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("perangkat/lembaga")
        verbose_name_plural = _("perangkat/lembaga")
        ordering = ["code"]
        default_permissions = ("add", "change", "delete", "view")
        permissions = [("verify_body", _("Can verify the submissions of the body"))]

    def __str__(self) -> str:
        return self.name


class Cluster(models.TextChoices):
    """Kelembagaan and the five clusters of Perpres 25/2021."""

    KELEMBAGAAN = "kelembagaan", _("Kelembagaan")
    K1 = "k1", _("Klaster I: Hak Sipil dan Kebebasan")
    K2 = "k2", _("Klaster II: Lingkungan Keluarga dan Pengasuhan Alternatif")
    K3 = "k3", _("Klaster III: Kesehatan Dasar dan Kesejahteraan")
    K4 = "k4", _("Klaster IV: Pendidikan, Pemanfaatan Waktu Luang, dan Kegiatan Budaya")
    K5 = "k5", _("Klaster V: Perlindungan Khusus")


class Indicator(models.Model):
    """One of the 24 KLA indicators; weights only when an administrator enters them."""

    number = models.PositiveSmallIntegerField(
        _("nomor"), unique=True, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    cluster = models.CharField(_("klaster"), max_length=20, choices=Cluster.choices)
    name = models.CharField(_("indikator"), max_length=300)
    typical_owners = models.CharField(_("pengampu umum"), max_length=300, blank=True)
    weight = models.DecimalField(_("bobot"), max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("indikator")
        verbose_name_plural = _("indikator")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


class Submission(models.Model):
    """What one body delivers for one category; its state is driven by ``workflows.flow``."""

    instruction = models.ForeignKey(Instruction, on_delete=models.PROTECT, related_name="+")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="submissions")
    category = models.CharField(_("kategori"), max_length=20, choices=Category.choices)
    title = models.CharField(_("judul"), max_length=300, blank=True)
    description = models.TextField(_("uraian"), blank=True)
    years = models.JSONField(_("tahun"), default=list, blank=True)
    indicators = models.ManyToManyField(Indicator, related_name="submissions", blank=True)
    details = models.JSONField(_("rincian"), default=dict, blank=True)
    state = models.CharField(
        _("status"),
        max_length=20,
        choices=SubmissionState.choices,
        default=SubmissionState.DRAFT,
        db_index=True,
    )
    version = models.PositiveIntegerField(default=1)
    late = models.BooleanField(_("terlambat"), default=False)
    first_submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    due_at = models.DateTimeField(_("tenggat"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("pengajuan")
        verbose_name_plural = _("pengajuan")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["body", "category"]),
            # The keys the lists sort by (``kla.listing``): each has its index.
            models.Index(fields=["due_at"], name="submission_due_at"),
            # The lists' default order as PostgreSQL sorts it: due_at ASC NULLS LAST, then
            # the latest changed (``kla.listing.submissions_default_order``).
            models.Index(fields=["due_at", "-updated_at", "-id"], name="submission_list_order"),
            models.Index(fields=["updated_at"], name="submission_updated_at"),
            models.Index(fields=["created_at"], name="submission_created_at"),
            models.Index(fields=["title"], name="submission_title"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title or self.get_category_display()}"

    @property
    def stream(self) -> str:
        """The trail stream of everything about this submission."""
        return f"submission:{self.pk}"

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE_STATES


class EvidenceKind(models.TextChoices):
    """What an evidence file is, as the national evaluation's items ask for them."""

    REGULATION_TEXT = "regulation_text", _("Naskah regulasi")
    DECREE = "decree", _("Surat keputusan (SK)")
    KAK_TOR = "kak_tor", _("KAK/TOR")
    MOU = "mou", _("Nota kesepahaman (MoU/PKS)")
    ACTIVITY_REPORT = "activity_report", _("Laporan kegiatan")
    BUDGET_DOCUMENT = "budget_document", _("Dokumen anggaran (DPA/RKA, realisasi)")
    ATTENDANCE = "attendance", _("Daftar hadir")
    PHOTO = "photo", _("Foto kegiatan")
    PUBLICATION = "publication", _("Publikasi (berita, media sosial)")
    DATA = "data", _("Data dan tabel")
    OTHER = "other", _("Lainnya")


class Requirement(models.Model):
    """One item of an instruction's evidence checklist (data dukung) under one indicator.

    ``evidence_kinds`` are the kinds of file that satisfy it (empty: any). It is met when a
    current file tagged with it belongs to a submission of the instruction that is verified or
    beyond.
    """

    instruction = models.ForeignKey(
        Instruction, on_delete=models.PROTECT, related_name="requirements"
    )
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="requirements")
    code = models.CharField(_("kode"), max_length=20)
    label = models.CharField(_("nama"), max_length=300)
    description = models.TextField(_("uraian"), blank=True, max_length=2000)
    evidence_kinds = models.JSONField(
        _("jenis bukti"), default=list, blank=True, help_text=_("Kosong: jenis apa pun")
    )

    class Meta:
        verbose_name = _("kebutuhan data dukung")
        verbose_name_plural = _("kebutuhan data dukung")
        ordering = ["indicator__number", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["instruction", "code"], name="requirement_code_per_instruction"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    def accepts(self, kind: str) -> bool:
        """Whether a file of this kind can serve the requirement."""
        return not self.evidence_kinds or kind in self.evidence_kinds


def evidence_path(instance: Evidence, filename: str) -> str:
    # A random name: the original one is kept in the row, never trusted as a path.
    return f"evidence/{instance.submission_id}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """An uploaded file. Its bytes never change: a new upload is a new row, removal only marks
    it; what it is (``kind``) and the requirements it serves may change while the submission is
    editable, each change a trail event."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=300)
    name = models.CharField(_("nama berkas"), max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=120)
    kind = models.CharField(
        _("jenis"), max_length=20, choices=EvidenceKind.choices, default=EvidenceKind.OTHER
    )
    requirements = models.ManyToManyField(
        Requirement, related_name="evidence", blank=True, verbose_name=_("kebutuhan yang dipenuhi")
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("bukti dukung")
        verbose_name_plural = _("bukti dukung")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def current(self) -> bool:
        return self.removed_at is None


class ExportKind(models.TextChoices):
    """What reviewers can take away: the recap workbook, the package of evidence files, the
    compliance matrix and the follow-up matrix of findings; and Inspektorat the trail bundle
    (the whole log up to a checkpoint cut for it, of no instruction)."""

    REKAP_XLSX = "rekap_xlsx", _("Rekap pengajuan (XLSX)")
    EVIDENCE_ZIP = "evidence_zip", _("Paket bukti dukung (ZIP)")
    COMPLIANCE_XLSX = "compliance_xlsx", _("Matriks kepatuhan (XLSX)")
    FINDINGS_XLSX = "findings_xlsx", _("Matriks tindak lanjut temuan (XLSX)")
    TRAIL_BUNDLE = "trail_bundle", _("Bundel jejak (JSON Lines)")


class ExportState(models.TextChoices):
    """Where an export is; the worker moves it, the page and the API read it."""

    PENDING = "pending", _("Menunggu")
    RUNNING = "running", _("Sedang dibuat")
    DONE = "done", _("Selesai")
    FAILED = "failed", _("Gagal")


class Export(models.Model):
    """One requested export, built by a Celery task; state and progress live in this row.

    ``updated_at`` is the worker's heartbeat: a pending row nobody touched for a while lost
    its broker message and is queued again by the sweep; a running row whose heartbeat stopped
    lost its worker and may be taken over. ``attempt`` tells a late worker it was replaced.
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    kind = models.CharField(_("jenis"), max_length=20, choices=ExportKind.choices)
    instruction = models.ForeignKey(
        Instruction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(
        _("status"),
        max_length=10,
        choices=ExportState.choices,
        default=ExportState.PENDING,
        db_index=True,
    )
    progress = models.PositiveSmallIntegerField(
        _("kemajuan"), default=0, validators=[MaxValueValidator(100)]
    )
    file = models.CharField(_("berkas"), max_length=300, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(_("galat"), blank=True)
    attempt = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("ekspor")
        verbose_name_plural = _("ekspor")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "updated_at"], name="export_state_heartbeat")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="export_progress_max_100"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def filename(self) -> str:
        """The name the download carries (the stored name's last part)."""
        return self.file.rsplit("/", 1)[-1]


class IdempotentRequest(models.Model):
    """A POST of the API made with an ``Idempotency-Key``, and the answer it got.

    The same person sending the same key and body again gets this answer again, with its
    status, and nothing is done twice; the same key with another body is refused (409). The
    row is written in the transaction of the request itself, so it exists exactly when what
    the request did was committed.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("permintaan idempoten")
        verbose_name_plural = _("permintaan idempoten")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class Preference(models.Model):
    """What one person chose to see: the instruction the pages show them (none: the current)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    instruction = models.ForeignKey(
        Instruction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("preferensi")
        verbose_name_plural = _("preferensi")

    def __str__(self) -> str:
        return str(self.user_id)
