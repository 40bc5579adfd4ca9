"""The category's own fields (``details``): their formats and what completeness means.

Declared once as data so that the API, the page forms and the submit check agree. Format
errors are refused at once; missing fields only when the operator submits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kla.errors import Invalid
from kla.models import Category


@dataclass(frozen=True)
class Field:
    """One detail field. ``kind`` names its entry in ``KINDS``: text, date, choice, choices,
    money, year or urls; every way of handling the field goes through that entry."""

    name: str
    label: Any
    kind: str = "text"
    choices: tuple[tuple[str, Any], ...] = ()
    required: bool = True

    @property
    def handling(self) -> Kind:
        return KINDS[self.kind]

    def clean(self, value: Any, years: list[int] | None) -> Any:
        """The stored value of what the API or a form gave; ``ValueError`` with the reason."""
        return self.handling.clean(self, value, years)

    def form_field(self) -> forms.Field:
        """The page's form field (never required there: completeness is for submit)."""
        return self.handling.form_field(self)

    def initial(self, value: Any) -> Any:
        """A stored value as the form shows it to be edited."""
        return None if value is None else self.handling.initial(self, value)

    def from_form(self, value: Any) -> Any:
        """What the form cleaned, as the services take it."""
        return self.handling.from_form(self, value)

    def display(self, value: Any) -> str:
        """A stored value as the submission page shows it."""
        return self.handling.display(self, value)

    def cell(self, value: Any) -> Any:
        """A stored value as a typed spreadsheet cell (text is returned as ``str``)."""
        return self.handling.cell(self, value)


REGULATION_KINDS = (
    ("perda", gettext_lazy("Peraturan Daerah")),
    ("perwali", gettext_lazy("Peraturan Wali Kota")),
    ("surat_edaran", gettext_lazy("Surat Edaran")),
    ("instruksi", gettext_lazy("Instruksi")),
    ("keputusan_walikota", gettext_lazy("Keputusan Wali Kota")),
    ("keputusan_kepala_pd", gettext_lazy("Keputusan Kepala Perangkat Daerah")),
)
FUNDING_SOURCES = (("APBD", "APBD"), ("APBN", "APBN"), ("other", gettext_lazy("Sumber lain")))
PARTNER_KINDS = (
    ("agency", gettext_lazy("Instansi")),
    ("community", gettext_lazy("Lembaga masyarakat")),
    ("mass_media", gettext_lazy("Media massa")),
    ("social_media", gettext_lazy("Media sosial")),
    ("business", gettext_lazy("Dunia usaha")),
)
DOCUMENT_KINDS = (
    ("kak_tor", gettext_lazy("KAK / TOR")),
    ("sk", gettext_lazy("SK penguatan inovasi")),
    ("other", gettext_lazy("Dokumen lain")),
)

FIELDS: dict[str, tuple[Field, ...]] = {
    Category.REGULATION: (
        Field("kind", gettext_lazy("Jenis regulasi"), "choice", REGULATION_KINDS),
        Field("number", gettext_lazy("Nomor")),
        Field("enacted_on", gettext_lazy("Tanggal ditetapkan"), "date"),
    ),
    Category.PROGRAM: (
        Field("program", gettext_lazy("Program")),
        Field("activity", gettext_lazy("Kegiatan")),
        Field("sub_activity", gettext_lazy("Sub-kegiatan")),
        Field("funding_source", gettext_lazy("Sumber dana"), "choice", FUNDING_SOURCES),
        Field("budget", gettext_lazy("Anggaran (Rp)"), "money"),
        Field("realization", gettext_lazy("Realisasi (Rp)"), "money", required=False),
        Field("year", gettext_lazy("Tahun anggaran"), "year"),
    ),
    Category.PARTNERSHIP: (
        Field("partner", gettext_lazy("Mitra")),
        Field("partner_kind", gettext_lazy("Jenis mitra"), "choice", PARTNER_KINDS),
        Field("mou_number", gettext_lazy("Nomor MoU/PKS")),
        Field("mou_date", gettext_lazy("Tanggal MoU/PKS"), "date"),
        Field("activities", gettext_lazy("Kegiatan bersama"), required=False),
        Field("links", gettext_lazy("Tautan berita/unggahan"), "urls", required=False),
    ),
    Category.INNOVATION: (
        Field("name", gettext_lazy("Nama inovasi")),
        Field("started_on", gettext_lazy("Mulai diterapkan"), "date"),
        Field("document_kinds", gettext_lazy("Dokumen pendukung"), "choices", DOCUMENT_KINDS),
    ),
}

# A thousand trillion rupiah: far above any city budget, and safe for spreadsheets (15 digits).
MONEY_MAX = 10**15
# Lengths a detail may have (OWASP ASVS 5.1): a free-text field, the links and each link.
TEXT_MAX = 1_000
LINKS_MAX = 20
URL_MAX = 2_000
# "1.500.000" (dots between thousands) or "1500000", after an optional "Rp" ("Rp 1.500.000",
# as the pages show it). Nothing else: no decimals, no commas, no sign.
_MONEY = re.compile(r"^(?:rp\s*)?(\d{1,3}(?:\.\d{3})+|\d+)$", re.IGNORECASE)


def parse_money(value: Any) -> int:
    """Whole rupiah: an int, or text such as "1.500.000", "Rp 1.500.000" or "1500000"."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        amount = value
    elif isinstance(value, str) and (match := _MONEY.match(value.strip())):
        amount = int(match.group(1).replace(".", ""))
    else:
        raise ValueError
    if amount < 0 or amount > MONEY_MAX:
        raise ValueError
    return amount


def format_rupiah(value: Any) -> str:
    """1500000 -> "Rp 1.500.000" (anything but a whole number is shown as it is)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    return "Rp " + f"{value:,}".replace(",", ".")


MONEY_FORMATS_MESSAGE = gettext_lazy(
    "Masukkan rupiah utuh, tidak negatif, tanpa sen, seperti 1.500.000, Rp 1.500.000 atau 1500000."
)


class MoneyField(forms.CharField):
    """Whole rupiah typed on a page: "1.500.000", "Rp 1.500.000" or "1500000" become an
    ``int``. Anything else is kept as typed for the service to refuse, beside the field and
    together with the other fields' refusals (``MoneyKind.clean``)."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return parse_money(text)
        except ValueError:
            return text


# --- the kinds of field: cleaning, asking, showing, exporting, each written once ---------


class Kind:
    """Free text; the base of every kind."""

    name: ClassVar[str] = "text"

    def clean(self, field: Field, value: Any, years: list[int] | None) -> Any:
        if not isinstance(value, str):
            raise ValueError(_("Harus berupa teks."))
        if len(value) > TEXT_MAX:
            raise ValueError(_("Paling banyak %(n)s karakter.") % {"n": TEXT_MAX})
        return value.strip()

    def form_field(self, field: Field) -> forms.Field:
        return forms.CharField(label=field.label, required=False, max_length=TEXT_MAX)

    def initial(self, field: Field, value: Any) -> Any:
        return value

    def from_form(self, field: Field, value: Any) -> Any:
        return value

    def display(self, field: Field, value: Any) -> str:
        return str(value)

    def cell(self, field: Field, value: Any) -> Any:
        return str(value)


class DateKind(Kind):
    """A calendar date, stored as ``YYYY-MM-DD``."""

    name = "date"

    def clean(self, field: Field, value: Any, years: list[int] | None) -> Any:
        try:
            return dt.date.fromisoformat(value).isoformat()
        except (TypeError, ValueError):
            raise ValueError(_("Tanggal tidak valid; gunakan format YYYY-MM-DD.")) from None

    def form_field(self, field: Field) -> forms.Field:
        return forms.DateField(
            label=field.label,
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )

    def initial(self, field: Field, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return value
        return value

    def from_form(self, field: Field, value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    def display(self, field: Field, value: Any) -> str:
        try:
            return date_format(dt.date.fromisoformat(value), "j F Y")
        except (TypeError, ValueError):
            return str(value)

    def cell(self, field: Field, value: Any) -> Any:
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            return str(value)


class ChoiceKind(Kind):
    """One of the field's codes; pages and exports show its label."""

    name = "choice"

    def clean(self, field: Field, value: Any, years: list[int] | None) -> Any:
        allowed = [c for c, _label in field.choices]
        if value not in allowed:
            raise ValueError(
                _("Pilihan tidak dikenal; pilih salah satu dari: %s.") % ", ".join(allowed)
            )
        return value

    def form_field(self, field: Field) -> forms.Field:
        return forms.ChoiceField(
            label=field.label, required=False, choices=[("", "---------"), *field.choices]
        )

    def display(self, field: Field, value: Any) -> str:
        return str(dict(field.choices).get(value, value))

    def cell(self, field: Field, value: Any) -> Any:
        return self.display(field, value)


class ChoicesKind(Kind):
    """Any of the field's codes, kept in the order the field lists them."""

    name = "choices"

    def clean(self, field: Field, value: Any, years: list[int] | None) -> Any:
        allowed = [c for c, _label in field.choices]
        if not isinstance(value, list) or any(v not in allowed for v in value):
            raise ValueError(_("Pilihan tidak dikenal; pilih dari: %s.") % ", ".join(allowed))
        return sorted(set(value), key=allowed.index)

    def form_field(self, field: Field) -> forms.Field:
        return forms.MultipleChoiceField(
            label=field.label,
            required=False,
            choices=list(field.choices),
            widget=forms.CheckboxSelectMultiple,
        )

    def display(self, field: Field, value: Any) -> str:
        labels = dict(field.choices)
        return ", ".join(str(labels.get(v, v)) for v in value)

    def cell(self, field: Field, value: Any) -> Any:
        return self.display(field, value)


class MoneyKind(Kind):
    """Whole rupiah, not negative; pages accept "1.500.000"."""

    name = "money"

    def clean(self, field: Field, value: Any, years: list[int] | None) -> Any:
        try:
            return parse_money(value)
        except (ValueError, AttributeError):
            raise ValueError(str(MONEY_FORMATS_MESSAGE)) from None

    def form_field(self, field: Field) -> forms.Field:
        return MoneyField(
            label=field.label,
            required=False,
            help_text=gettext_lazy("Rupiah utuh, misalnya 1.500.000"),
            widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": "30"}),
        )

    def initial(self, field: Field, value: Any) -> Any:
        """Shown to be edited as the pages show it ("Rp 1.500.000"), which is accepted back."""
        return format_rupiah(value) if isinstance(value, int) else value

    def display(self, field: Field, value: Any) -> str:
        return format_rupiah(value)

    def cell(self, field: Field, value: Any) -> Any:
        return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


class YearKind(MoneyKind):
    """A budget year, one of the submission's years."""

    name = "year"

    def clean(self, field: Field, value: Any, years: list[int] | None) -> Any:
        # A whole number or its digits ("2025"); never a float that would be truncated.
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(_("Tahun tidak valid."))
        if years is not None and value not in years:
            raise ValueError(_("Tahun anggaran harus salah satu tahun pengajuan."))
        return value

    def form_field(self, field: Field) -> forms.Field:
        return forms.TypedChoiceField(
            label=field.label,
            required=False,
            coerce=int,
            empty_value=None,
            # The instruction's years: the form that holds the field fills them in.
            choices=[("", "---------")],
        )

    def initial(self, field: Field, value: Any) -> Any:
        return value

    def display(self, field: Field, value: Any) -> str:
        return str(value)


class UrlsKind(Kind):
    """Links (http or https); pages ask for one a line."""

    name = "urls"

    def clean(self, field: Field, value: Any, years: list[int] | None) -> Any:
        if isinstance(value, str):
            value = [line.strip() for line in value.splitlines() if line.strip()]
        if not isinstance(value, list):
            raise ValueError(_("Harus berupa daftar URL."))
        if len(value) > LINKS_MAX:
            raise ValueError(_("Paling banyak %(n)s tautan.") % {"n": LINKS_MAX})
        for url in value:
            if isinstance(url, str) and len(url) > URL_MAX:
                raise ValueError(_("Sebuah tautan paling banyak %(n)s karakter.") % {"n": URL_MAX})
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
                raise ValueError(_("URL tidak valid: %s") % url)
        return value

    def form_field(self, field: Field) -> forms.Field:
        return forms.CharField(
            label=field.label,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=gettext_lazy("Satu tautan per baris (http:// atau https://)."),
        )

    def initial(self, field: Field, value: Any) -> Any:
        return "\n".join(str(v) for v in value) if isinstance(value, list) else value

    def from_form(self, field: Field, value: Any) -> Any:
        return [line.strip() for line in str(value).splitlines() if line.strip()]

    def display(self, field: Field, value: Any) -> str:
        return "\n".join(str(v) for v in value)

    def cell(self, field: Field, value: Any) -> Any:
        return self.display(field, value)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(),
        DateKind(),
        ChoiceKind(),
        ChoicesKind(),
        MoneyKind(),
        YearKind(),
        UrlsKind(),
    )
}


def clean_details(category: str, data: Any, years: list[int] | None = None) -> dict[str, Any]:
    """Check formats; empty values are kept as missing. Raises ``Invalid`` per field."""
    if not isinstance(data, Mapping):
        raise Invalid({"details": _("Harus berupa objek JSON.")})
    fields = {f.name: f for f in FIELDS[category]}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            errors[f"details.{key}"] = _("Kolom tidak dikenal untuk kategori ini.")
            continue
        if value is None or value == "" or value == []:
            continue
        try:
            clean[key] = field.clean(value, years)
        except ValueError as exc:
            errors[f"details.{key}"] = str(exc) or _("Nilai tidak valid.")
    if errors:
        raise Invalid(errors)
    return clean


def missing_details(category: str, details: Mapping[str, Any]) -> list[str]:
    """The required fields not yet filled in."""
    return [
        f.name for f in FIELDS[category] if f.required and details.get(f.name) in (None, "", [])
    ]
