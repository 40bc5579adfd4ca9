"""Serializers of the JSON API: the shapes DESIGN's "Interfaces" section lists.

Output serializers read prefetched rows (see ``views.submission_queryset``). Input is checked
here only for shape and type; formats and rules are the services' (``kla.drafting``,
``workflows.services``), which answer field by field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ParseError, ValidationError

from kla.models import Category, Evidence, EvidenceKind, Submission
from kla.reports.duplicates import prime_duplicates, serialized_duplicates
from workflows.flow import ACTIONS
from workflows.models import Notification, TrailEvent
from workflows.services import allowed_actions
from workflows.sla.recompute import recomputing
from workflows.trail.append import PUBLIC_FIELDS

# The largest value a PostgreSQL bigint holds: ids beyond it cannot exist.
MAX_ID = 2**63 - 1


class EvidenceSerializer(serializers.ModelSerializer[Evidence]):
    """One evidence file as the API shows it: its kind, the codes of the requirements it serves
    and the same file elsewhere (``duplicates``)."""

    requirements = serializers.SerializerMethodField()
    duplicates = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = (
            "id",
            "name",
            "size",
            "sha256",
            "uploaded_at",
            "kind",
            "requirements",
            "duplicates",
        )
        read_only_fields = fields

    def get_requirements(self, obj: Evidence) -> list[str]:
        # Reads the prefetch cache (``kla.api.base.with_related``): flat on lists.
        return sorted(r.code for r in obj.requirements.all())

    def get_duplicates(self, obj: Evidence) -> list[dict[str, Any]]:
        # Only the other submissions the caller may see (kla.reports.duplicates).
        return serialized_duplicates(self, obj)


class SubmissionSerializer(serializers.ModelSerializer[Submission]):
    """A submission with what the caller may do with it now.

    The view puts ``roles`` (read once per request) in the context; ``allowed_actions``
    comes from the action service's own rules.
    """

    agency = serializers.CharField(source="body.code", read_only=True)
    allowed_actions = serializers.SerializerMethodField()
    indicators = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()
    due_recomputing = serializers.SerializerMethodField(
        help_text="Open due times are being recomputed after a change of the calendar, a "
        "deadline or a budget: due_at is null until they are done"
    )

    class Meta:
        model = Submission
        fields = (
            "id",
            "instruction",
            "agency",
            "category",
            "title",
            "description",
            "state",
            "version",
            "late",
            "due_at",
            "due_recomputing",
            "allowed_actions",
            "indicators",
            "years",
            "details",
            "evidence",
        )
        read_only_fields = fields

    def get_due_recomputing(self, obj: Submission) -> bool:
        # Asked once per response: the list's rows share the root serializer's context.
        context: Any = self.context
        if "due_recomputing" not in context:
            context["due_recomputing"] = recomputing()
        return bool(context["due_recomputing"]) and obj.due_at is not None

    def to_representation(self, instance: Submission) -> dict[str, Any]:
        data = super().to_representation(instance)
        if data.get("due_recomputing"):
            data["due_at"] = None  # never a due time that may be stale
        return dict(data)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(ACTIONS)))
    def get_allowed_actions(self, obj: Submission) -> list[str]:
        request = self.context["request"]
        return allowed_actions(
            user=request.user,
            submission=obj,
            roles=self.context["roles"],
            facts=self.context.get("facts", {}).get(obj.pk),
        )

    def get_indicators(self, obj: Submission) -> list[int]:
        # Reads the prefetch cache: sorting in Python keeps it one query per page.
        return sorted(indicator.number for indicator in obj.indicators.all())

    def get_evidence(self, obj: Submission) -> list[dict[str, Any]]:
        current = getattr(obj, "current_evidence", None)
        if current is None:
            current = list(obj.evidence.filter(removed_at__isnull=True))
        prime_duplicates(
            self, obj, current
        )  # one query for the whole page (kla.reports.duplicates)
        return list(EvidenceSerializer(current, many=True, context=self.context).data)


# --- input: what the API takes, checked for shape and type before any service sees it ------
# The services check the rules (formats, ranges, states, rights) and answer field by field;
# these fields refuse with the services' own words, so both paths say the same thing.


class TextField(serializers.CharField):
    """Text and nothing else (DRF's ``CharField`` would turn ``5`` into ``"5"``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        messages = {"invalid": _l("Harus berupa teks."), **kwargs.pop("error_messages", {})}
        super().__init__(error_messages=messages, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class CodeField(serializers.ChoiceField):
    """One of a list of codes; anything else is refused with the codes that are accepted."""

    def __init__(self, choices: Any, *, unknown: Any, **kwargs: Any) -> None:
        super().__init__(choices, **kwargs)
        self.unknown = unknown

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or data not in self.choice_strings_to_values:
            raise ValidationError(str(self.unknown) % ", ".join(self.choice_strings_to_values))
        return data


class IntegerListField(serializers.ListField):
    """A list of whole numbers (no text, no fractions, no booleans), with one message."""

    def __init__(self, *, invalid: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(child=serializers.IntegerField(), **kwargs)
        self.invalid = invalid

    def to_internal_value(self, data: Any) -> list[int]:
        if not isinstance(data, list) or any(
            isinstance(n, bool) or not isinstance(n, int) for n in data
        ):
            raise ValidationError(str(self.invalid))
        return list(data)


class InputSerializer(serializers.Serializer[Any]):
    """Refuses every key it does not know, naming it, besides the fields' own errors."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        unknown = (
            {key: [_("Kolom tidak dikenal.")] for key in data if key not in self.fields}
            if isinstance(data, dict)
            else {}
        )
        try:
            value: dict[str, Any] = super().to_internal_value(data)
        except ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
            raise ValidationError({**unknown, **detail}) from None
        if unknown:
            raise ValidationError(unknown)
        return value


class SubmissionEditSerializer(InputSerializer):
    """``PATCH /api/v1/submissions/{id}/``: the fields given change, the others stay."""

    title = TextField(
        allow_null=True,
        max_length=300,
        error_messages={"max_length": _l("Paling banyak 300 karakter.")},
    )
    description = TextField(allow_null=True)
    years = IntegerListField(
        invalid=_l("Tahun harus daftar bilangan tahun, misalnya [2024, 2025].")
    )
    indicators = IntegerListField(invalid=_l("Indikator harus daftar nomor 1 sampai 24."))
    details = serializers.DictField(
        required=False, help_text="The category's own fields (DESIGN: Submissions)"
    )
    version = serializers.IntegerField(
        required=False, allow_null=True, help_text="The version you saw: 409 when it changed"
    )


class SubmissionCreateSerializer(SubmissionEditSerializer):
    """``POST /api/v1/submissions/``: a new draft in one category, for one of your bodies."""

    category = CodeField(Category.choices, unknown=_l("Kategori tidak dikenal; pilih dari: %s."))
    agency = TextField(help_text="Body code, when you operate for several")
    instruction = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The instruction the draft answers (an id); the current one when absent",
        error_messages={"invalid": _l("Instruksi harus berupa id (bilangan bulat).")},
    )
    version = None  # type: ignore[assignment]


class ActionSerializer(InputSerializer):
    """``{action, note?, version?}``; the action service checks the rights and the note."""

    action = CodeField(
        [(action, action) for action in ACTIONS], unknown=_l("Aksi tidak dikenal; pilih dari: %s.")
    )
    note = TextField(allow_null=True, error_messages={"invalid": _l("Catatan harus berupa teks.")})
    version = serializers.IntegerField(
        required=False, allow_null=True, help_text="The version you saw: 409 when it changed"
    )


class CodeListField(serializers.ListField):
    """A list of codes (text), with one message for anything else, null included."""

    def __init__(self, *, invalid: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(child=serializers.CharField(), **kwargs)
        self.invalid = invalid

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            raise ValidationError(str(self.invalid))
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list) or any(not isinstance(c, str) for c in data):
            raise ValidationError(str(self.invalid))
        return list(data)


class PresentCodeField(CodeField):
    """A code that may be left out but not sent null (null would not say what to keep)."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            raise ValidationError(str(self.unknown) % ", ".join(self.choice_strings_to_values))
        return super().validate_empty_values(data)


class EvidenceTagSerializer(InputSerializer):
    """``PATCH .../evidence/{eid}/``: the file's kind and the requirements it serves (the
    codes given replace the set); what is absent stays."""

    kind = PresentCodeField(
        EvidenceKind.choices,
        unknown=_l("Jenis bukti tidak dikenal; pilih dari: %s."),
        required=False,
    )
    requirements = CodeListField(
        invalid=_l('Kebutuhan harus berupa daftar kode, misalnya ["2.1", "2.3"].'),
        help_text="Codes of requirements of the submission's own indicators",
    )
    version = serializers.IntegerField(
        required=False, allow_null=True, help_text="The version you saw: 409 when it changed"
    )


class TrailEventSerializer(serializers.ModelSerializer[TrailEvent]):
    """One trail event, with the hashes that chain it."""

    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = TrailEvent
        fields = PUBLIC_FIELDS
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    """One of the caller's notifications."""

    class Meta:
        model = Notification
        fields = ("id", "kind", "submission", "title", "message", "created_at", "read_at")
        read_only_fields = fields


class TokenResponseSerializer(serializers.Serializer[Any]):
    """``{token}``, for the schema."""

    token = serializers.CharField()


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every key and value inside ``value`` with its dotted path, without recursion."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        yield where, item
        if isinstance(item, dict):
            for key, child in item.items():
                yield where, key
                stack.append((f"{where}.{key}" if where else str(key), child))
        elif isinstance(item, list):
            stack.extend((where, child) for child in item)


def _bad_text(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. "\ud800" in the JSON
        return True
    return False


def json_object(data: Any) -> dict[str, Any]:
    """The request body as a JSON object whose text the database can store, else 400.

    PostgreSQL refuses NUL characters and lone surrogates with an error, so they are refused
    here, field by field, before any service sees them.
    """
    if not isinstance(data, dict):
        raise ParseError(_("Isi permintaan harus berupa objek JSON."))
    errors: dict[str, list[str]] = {}
    for key, value in data.items():
        for where, item in _walk(value, str(key)):
            if isinstance(item, str) and _bad_text(item):
                errors.setdefault(where, [_("Teks memuat karakter yang tidak diizinkan.")])
        if isinstance(key, str) and _bad_text(key):
            errors.setdefault("detail", [_("Nama kolom memuat karakter yang tidak diizinkan.")])
    if errors:
        raise ValidationError(errors)
    return data


def object_id(value: str) -> int:
    """A URL id as an integer; anything else cannot name a row, so the caller gets 404."""
    if not value.isascii() or not value.isdigit() or int(value) > MAX_ID or int(value) == 0:
        raise NotFound(_("Tidak ditemukan."))
    return int(value)


class ApiTokenSerializer(serializers.Serializer[Any]):
    """One of the caller's API tokens: its id (knox's ``token_key``, the first characters of
    the token), never the token nor its digest; ``current``: the one making this request."""

    id = serializers.CharField(source="token_key", read_only=True)
    created = serializers.DateTimeField(read_only=True)
    expiry = serializers.DateTimeField(read_only=True, allow_null=True)
    current = serializers.SerializerMethodField()

    def get_current(self, obj: Any) -> bool:
        return bool(obj.digest == self.context.get("current_digest"))
