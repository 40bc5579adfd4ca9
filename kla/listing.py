"""The lists' search, filters and sorting, one set per list, shared by the pages and the API.

DESIGN ("Lists"): ``search`` by title, the filters ``state``, ``agency``, ``category``,
``indicator`` and ``year`` (several values comma-separated: ``state=submitted,returned``),
and ``ordering`` on indexed keys only (``-due_at``, ``title``; several comma-separated). The
same names are read from the pages' URLs, so a filtered view can be bookmarked, and from the
API's query string. ``instruction`` is not here: it is read once per request, the same way on
every list (``kla.instructions``). A bad value is a field error naming what is accepted: 400
in the API, the error beside its field on a page. With no ``ordering``, what has a due time
comes overdue first, then by the nearest due time; the trail is newest first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, F, OrderBy, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l

from kla.models import Body, Category, Indicator, Instruction, Submission, SubmissionState
from workflows.models import (
    Finding,
    FindingStatus,
    Recommendation,
    RecommendationStatus,
    TrailEvent,
)
from workflows.models.supervision import FINAL_STATUSES
from workflows.supervision.findings import with_status

SEARCH_MAX = 200
UNKNOWN = _l("“%(value)s” tidak dikenal; pilih dari: %(choices)s.")


class _Choices(django_filters.fields.ChoiceField):
    """A choice field whose refusal lists what is accepted, by the codes the API uses."""

    def validate(self, value: Any) -> None:
        if value and not self.valid_value(value):
            codes = [str(k) for k, _label in self.choices if k not in ("", None)]
            raise forms.ValidationError(
                UNKNOWN,
                code="invalid_choice",
                params={"value": value, "choices": ", ".join(codes)},
            )
        super().validate(value)


class _ChoiceFilter(django_filters.ChoiceFilter):
    field_class = _Choices


class ChoicesFilter(django_filters.BaseInFilter, _ChoiceFilter):
    """One value, or several comma-separated, each among the choices."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("lookup_expr", "in")
        kwargs.setdefault("empty_label", _l("Semua"))
        kwargs.setdefault("widget", forms.Select)
        super().__init__(*args, **kwargs)


class Ordering(django_filters.OrderingFilter):
    """``ordering=key,-key``: only keys with an index; ties broken by the id, newest first.

    Missing due times sort last both ways and on both databases (PostgreSQL puts NULL last
    ascending, SQLite first)."""

    field_class = _Choices

    def __init__(self, *args: Any, tiebreak: str = "-id", **kwargs: Any) -> None:
        kwargs.setdefault("label", _l("Urutkan"))
        kwargs.setdefault("empty_label", _l("Bawaan"))
        kwargs.setdefault("widget", forms.Select)
        self.tiebreak = tiebreak
        super().__init__(*args, **kwargs)

    def build_choices(self, fields: Any, labels: dict[str, Any]) -> list[tuple[str, Any]]:
        choices: list[tuple[str, Any]] = []
        for field, param in fields.items():
            label = labels.get(field, param)
            choices.append((param, _l("%s (naik)") % label))
            choices.append((f"-{param}", _l("%s (turun)") % label))
        return choices

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        keys: list[OrderBy] = []
        for param in value:
            name = self.get_ordering_value(param)
            descending = name.startswith("-")
            expression = F(name.lstrip("-"))
            keys.append(
                expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
            )
        return qs.order_by(*keys, self.tiebreak)


def _search(field: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(
        field_name=field,
        lookup_expr="icontains",
        label=_l("Cari judul"),
        max_length=SEARCH_MAX,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


def _agency(**kwargs: Any) -> ChoicesFilter:
    return ChoicesFilter(label=_l("Perangkat/lembaga"), choices=_body_choices, **kwargs)


def _category(field: str) -> ChoicesFilter:
    return ChoicesFilter(label=_l("Kategori"), field_name=field, choices=Category.choices)


def _indicator(submission: str) -> ChoicesFilter:
    """Rows whose submission (``pk`` or the ``submission_id`` column) has any of the
    indicators."""
    return ChoicesFilter(
        label=_l("Indikator"),
        choices=_indicator_choices,
        method=_submissions_with_indicators(submission),
    )


def _body_choices() -> list[tuple[str, str]]:
    return list(Body.objects.order_by("name").values_list("code", "name"))


def _indicator_choices() -> list[tuple[int, str]]:
    return [
        (number, f"{number}. {name}")
        for number, name in Indicator.objects.order_by("number").values_list("number", "name")
    ]


def _year_choices() -> list[tuple[int, str]]:
    years = {y for ys in Instruction.objects.values_list("years", flat=True) for y in ys or ()}
    return [(y, str(y)) for y in sorted(years, reverse=True)]


class ListFilter(django_filters.FilterSet):
    """A filter set whose ``choices`` of bodies a page may narrow to the ones it shows."""

    # Whether a page's form shows its folded filters open (``kla.web.filters``).
    more_in_use = False

    def __init__(
        self, *args: Any, bodies: Sequence[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if bodies is not None and "agency" in self.filters:
            self.filters["agency"].extra["choices"] = list(bodies)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        qs = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("ordering"):
            qs = self.default_order(qs)
        return qs

    def default_order(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        """The list's order when the person asked for none."""
        return qs.order_by("-pk")

    def error_map(self) -> dict[str, list[str]]:
        return {name: [str(m) for m in messages] for name, messages in self.errors.items()}


def _submissions_with_indicators(
    field: str,
) -> Callable[[QuerySet[Any], str, list[int]], QuerySet[Any]]:
    def method(qs: QuerySet[Any], name: str, value: list[int]) -> QuerySet[Any]:
        if not value:
            return qs
        through = Submission.indicators.through.objects.filter(
            submission_id=OuterRef(field), indicator__number__in=value
        )
        return qs.filter(Exists(through))

    return method


def _submissions_of_years(qs: QuerySet[Any], name: str, value: list[str]) -> QuerySet[Any]:
    if not value:
        return qs
    # ``years`` is a short JSON list; JSON ``contains`` is not on SQLite, places are. A
    # submission's years are among its instruction's, so no list is longer than theirs.
    years = [int(y) for y in value]
    places = max(
        (len(ys or ()) for ys in Instruction.objects.values_list("years", flat=True)),
        default=0,
    )
    match = Q(pk__in=[])
    for place in range(places):
        match |= Q(**{f"years__{place}__in": years})
    return qs.filter(match)


class SubmissionFilter(ListFilter):
    """The submissions list and "Tugas saya", on the pages and in the API."""

    search = _search("title")
    state = ChoicesFilter(label=_l("Status"), choices=SubmissionState.choices)
    agency = _agency(field_name="body__code")
    category = _category("category")
    indicator = _indicator("pk")
    year = ChoicesFilter(
        label=_l("Tahun data"), choices=_year_choices, method=_submissions_of_years
    )
    ordering = Ordering(
        fields=(
            ("due_at", "due_at"),
            ("updated_at", "updated_at"),
            ("created_at", "created_at"),
            ("first_submitted_at", "first_submitted_at"),
            ("title", "title"),
        ),
        field_labels={
            "due_at": _l("Tenggat"),
            "updated_at": _l("Terakhir diubah"),
            "created_at": _l("Dibuat"),
            "first_submitted_at": _l("Pertama diajukan"),
            "title": _l("Judul"),
        },
    )

    class Meta:
        model = Submission
        fields: list[str] = []

    def default_order(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return submissions_default_order(qs)


def submissions_default_order(qs: QuerySet[Submission], *first: Any) -> QuerySet[Submission]:
    """Overdue first, then the nearest due time, then the latest changed (after ``first``,
    keys a list puts before them)."""
    return qs.order_by(*first, F("due_at").asc(nulls_last=True), "-updated_at", "-id")


def _open_findings() -> Exists:
    return Exists(
        Recommendation.objects.filter(finding=OuterRef("pk")).exclude(status__in=FINAL_STATUSES)
    )


def _finding_status(qs: QuerySet[Any], name: str, value: list[str]) -> QuerySet[Any]:
    if not value or set(value) >= set(FindingStatus.values):
        return qs
    return with_status(qs, value[0])


def _recommendation_status(qs: QuerySet[Any], name: str, value: list[str]) -> QuerySet[Any]:
    if not value:
        return qs
    return qs.filter(
        Exists(Recommendation.objects.filter(finding=OuterRef("pk"), status__in=value))
    )


class FindingFilter(ListFilter):
    """Inspektorat's findings, on the page and in the API."""

    search = _search("title")
    agency = _agency(field_name="body__code")
    status = ChoicesFilter(
        label=_l("Status"), choices=FindingStatus.choices, method=_finding_status
    )
    recommendation_status = ChoicesFilter(
        label=_l("Status rekomendasi"),
        choices=RecommendationStatus.choices,
        method=_recommendation_status,
    )
    category = _category("submission__category")
    indicator = _indicator("submission_id")
    ordering = Ordering(
        fields=(("due_at", "due_at"), ("created_at", "created_at"), ("title", "title")),
        field_labels={
            "due_at": _l("Tenggat tindak lanjut"),
            "created_at": _l("Dicatat"),
            "title": _l("Judul"),
        },
    )

    class Meta:
        model = Finding
        fields: list[str] = []

    def default_order(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return findings_default_order(qs)


def findings_default_order(qs: QuerySet[Finding]) -> QuerySet[Finding]:
    """Open findings past their due time first, then open ones by due time, then the rest
    newest first."""
    opened = _open_findings()
    return qs.alias(
        opened=opened,
        overdue=Exists(
            Recommendation.objects.filter(
                finding=OuterRef("pk"), finding__due_at__lt=timezone.now()
            ).exclude(status__in=FINAL_STATUSES)
        ),
    ).order_by(
        F("overdue").desc(),
        F("opened").desc(),
        F("due_at").asc(),
        "-created_at",
        "-id",
    )


class TrailFilter(ListFilter):
    """The auditor's trail page (beside its own actor and date filters): several bodies or
    actions at once, the submissions' title, category and indicator, and its order."""

    search = _search("submission__title")
    agency = _agency(method="_bodies")
    action = ChoicesFilter(label=_l("Aksi"), choices=())
    category = _category("submission__category")
    indicator = _indicator("submission_id")
    ordering = Ordering(fields=(("at", "at"),), field_labels={"at": _l("Waktu")})

    class Meta:
        model = TrailEvent
        fields: list[str] = []

    def __init__(self, *args: Any, actions: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["action"].extra["choices"] = list(actions)

    def _bodies(self, qs: QuerySet[Any], name: str, value: list[str]) -> QuerySet[Any]:
        if not value:
            return qs
        return qs.filter(Q(body__code__in=value) | Q(submission__body__code__in=value))

    def default_order(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.order_by("-at", "-id")
