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

import base64
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

import django_filters
from django import forms
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.core.validators import slug_re
from django.db.models import (
    Case,
    Exists,
    F,
    Model,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
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

M = TypeVar("M", bound=Model)

SEARCH_MAX = 200
UNKNOWN = _l("“%(value)s” tidak dikenal; pilih dari: %(choices)s.")
# Bodies are not listed as choices (a country holds tens of thousands): a filter names them
# by code, and only the codes given are looked up.
BODY_CODE_MAX = 40
BODY_CODES_MAX = 50
BODY_SEARCH_LIMIT = 20
UNKNOWN_BODY = _l("Kode perangkat tidak dikenal: %(codes)s.")
BODY_CODES_TOO_MANY = _l("Paling banyak %(max)s kode perangkat sekaligus.")
BODY_CODE_ONE = _l("Pilih satu perangkat/lembaga saja.")


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


class BodyCodes(forms.Field):
    """Body codes, one or several comma-separated (``many``): only the codes given are looked
    up, in one query, whatever the number of bodies; an unknown one is refused by name.

    ``found`` is what the lookup found (code -> ``(pk, name)``), for the page to show the
    names beside the field; ``active_only`` refuses a body that no longer takes part."""

    widget = forms.TextInput

    def __init__(self, *args: Any, many: bool = True, active_only: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.many = many
        self.active_only = active_only
        self.found: dict[str, tuple[int, str]] = {}

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        text = "" if value in self.empty_values else str(value)
        return list(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))

    def validate(self, value: list[str]) -> None:
        if not value:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return
        if len(value) > (BODY_CODES_MAX if self.many else 1):
            raise forms.ValidationError(
                BODY_CODES_TOO_MANY if self.many else BODY_CODE_ONE,
                code="too_many",
                params={"max": BODY_CODES_MAX},
            )
        # A code is a slug; anything else is unknown without asking the database.
        codes = [c for c in value if len(c) <= BODY_CODE_MAX and slug_re.fullmatch(c)]
        bodies = Body.objects.filter(code__in=codes)
        if self.active_only:
            bodies = bodies.filter(active=True)
        rows = bodies.values_list("pk", "code", "name")
        self.found = {code: (pk, name) for pk, code, name in rows}
        names = [self.found[c][1] for c in value if c in self.found]
        if hasattr(self.widget, "names"):
            self.widget.names = names
        unknown = [c for c in value if c not in self.found]
        if unknown:
            raise forms.ValidationError(
                UNKNOWN_BODY, code="unknown_body", params={"codes": ", ".join(unknown)}
            )


class BodyCode(BodyCodes):
    """One body's code (``""`` when none is given and none is required)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["many"] = False
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> str:
        codes = super().clean(value)
        return codes[0] if codes else ""


def body_search(text: str, *, limit: int = BODY_SEARCH_LIMIT) -> list[tuple[str, str]]:
    """``(code, name)`` of at most ``limit`` active bodies whose name or code holds
    ``text`` (any case): the code itself first, then names that begin with it, by name."""
    text = text.replace("\x00", "").strip()[:SEARCH_MAX]  # no text column holds a NUL
    if not text:
        return []
    rank = Case(
        When(code__iexact=text, then=Value(0)),
        When(Q(code__istartswith=text) | Q(name__istartswith=text), then=Value(1)),
        default=Value(2),
    )
    matches = Body.objects.filter(Q(name__icontains=text) | Q(code__icontains=text), active=True)
    return list(
        matches.alias(rank=rank)
        .order_by("rank", "name", "code")
        .values_list("code", "name")[:limit]
    )


class BodyFilter(django_filters.Filter):
    """``agency``: one body code, or several comma-separated, each a known body."""

    field_class = BodyCodes
    api_description = (
        "Body codes, one or several comma-separated (`GET /api/v1/bodies/?search=` finds "
        "them); an unknown code is 400"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("lookup_expr", "in")
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "search"}))
        super().__init__(*args, **kwargs)


def _agency(**kwargs: Any) -> BodyFilter:
    return BodyFilter(label=_l("Perangkat/lembaga"), **kwargs)


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


def _indicator_choices() -> list[tuple[int, str]]:
    return [
        (number, f"{number}. {name}")
        for number, name in Indicator.objects.order_by("number").values_list("number", "name")
    ]


def _year_choices() -> list[tuple[int, str]]:
    years = {y for ys in Instruction.objects.values_list("years", flat=True) for y in ys or ()}
    return [(y, str(y)) for y in sorted(years, reverse=True)]


def _bodies_matching(qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
    return qs.filter(Q(name__icontains=value) | Q(code__icontains=value)) if value else qs


class ListFilter(django_filters.FilterSet):
    """A list's filter set: its default order and its errors by field."""

    # Whether a page's form shows its folded filters open (``kla.web.filters``).
    more_in_use = False

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
    newest first: open ones by due time ascending put those past due first, on the index
    ``finding_default_order`` (``is_open`` is kept by the findings services)."""
    return qs.order_by("-is_open", "due_at", "-created_at", "-id")


class _TrailOrdering(Ordering):
    """``at`` or ``-at``, ties broken by the id the same way (the index's order)."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        return qs.order_by("at", "id") if list(value) == ["at"] else qs.order_by("-at", "-id")


class TrailFilter(ListFilter):
    """The auditor's trail page (beside its own actor and date filters): several bodies or
    actions at once, the submissions' title, category and indicator, and its order."""

    search = _search("submission__title")
    agency = _agency(method="_bodies")
    action = ChoicesFilter(label=_l("Aksi"), choices=())
    category = _category("submission__category")
    indicator = _indicator("submission_id")
    # Only the time, both ways: the index ``(at, id)`` read forwards or backwards serves
    # either, so the pages go by key (``keyset_page``) without sorting or counting.
    ordering = _TrailOrdering(fields=(("at", "at"),), field_labels={"at": _l("Waktu")})

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

    def newest_first(self) -> bool:
        """Whether the list reads newest first (the default); call after ``is_valid``."""
        return list(self.form.cleaned_data.get("ordering") or ["-at"]) != ["at"]


class BodySearch(ListFilter):
    """The active bodies by part of their name or code (``GET /api/v1/bodies/``): how a
    program finds the codes the lists' ``agency`` takes."""

    search = django_filters.CharFilter(
        label=_l("Cari nama atau kode"),
        method=_bodies_matching,
        max_length=SEARCH_MAX,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    search.api_description = "Part of the name or the code, any case"

    class Meta:
        model = Body
        fields: list[str] = []

    def default_order(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.order_by("code")


# --- Pages of a list, bounded whatever the number of rows -----------------------------------
# A list's count stops here: counting every readable row costs as much as reading them all,
# and past this many rows nobody reads a number, they narrow the list.
COUNT_CAP = 1000
# No list holds more rows than this; a page number past it is refused before the database
# is asked for an offset it cannot take.
OFFSET_MAX = 2**31
CURSOR_MAX = 200
BAD_CURSOR = _l("Penanda halaman tidak valid; buka lagi daftarnya dari halaman pertama.")


class BoundedPaginator(Paginator):  # type: ignore[type-arg]
    """Django's paginator, counting at most ``COUNT_CAP`` rows (one bounded COUNT) and
    reading one row past the page to know whether another follows.

    ``exact`` says whether ``count`` is the real count (else there are more than
    ``COUNT_CAP``: ``count`` is ``COUNT_CAP + 1`` and ``num_pages`` not known). Past the
    counted rows a page number is still served: an empty page when nothing is there."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        rows: QuerySet[Any] = self.object_list  # type: ignore[assignment]
        return int(rows[: self.cap + 1].count())

    @property
    def exact(self) -> bool:
        return self.count <= self.cap

    def validate_number(self, number: Any) -> int:
        if self.exact:
            return int(super().validate_number(number))
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(_l("Nomor halaman bukan bilangan bulat.")) from None
        if number < 1:
            raise EmptyPage(_l("Nomor halaman kurang dari 1."))
        if (number - 1) * self.per_page > OFFSET_MAX:  # beyond what any list holds
            raise EmptyPage(_l("Halaman itu tidak berisi hasil."))
        return int(number)

    def page(self, number: Any) -> BoundedPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        return BoundedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def get_page(self, number: Any) -> BoundedPage:
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(1 if not self.exact else max(self.num_pages, 1))


class BoundedPage(Page):  # type: ignore[type-arg]
    """A page that knows whether another follows from the row read past it."""

    def __init__(self, rows: list[Any], number: int, paginator: BoundedPaginator, *, more: bool):
        super().__init__(rows, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        return self.number + 1

    def start_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + 1 if self.object_list else 0

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


@dataclass(frozen=True)
class Cursor:
    """A position in a list read newest first by ``(at, id)``: the rows ``newer`` than it
    (or older), opaque in the URL."""

    newer: bool
    at: dt.datetime
    pk: int

    def encode(self) -> str:
        text = f"{'n' if self.newer else 'o'}|{self.at.isoformat()}|{self.pk}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        """The cursor in ``value``; ``ValueError`` (``BAD_CURSOR``) for anything else."""
        if not 0 < len(value) <= CURSOR_MAX or not _CURSOR_TEXT.fullmatch(value):
            raise ValueError(BAD_CURSOR)
        try:
            text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
            way, at_text, pk_text = text.split("|")
            at = dt.datetime.fromisoformat(at_text)
            pk = int(pk_text)
            # In UTC, as the database compares it; at the ends of ``datetime`` that overflows.
            at = at.astimezone(dt.UTC) if at.tzinfo is not None else at
        except (ValueError, UnicodeDecodeError, OverflowError):
            raise ValueError(BAD_CURSOR) from None
        if (
            way not in ("n", "o")
            or at.tzinfo is None
            or not pk_text.isdigit()
            or not 0 < pk < 2**63
        ):
            raise ValueError(BAD_CURSOR)
        return cls(newer=way == "n", at=at, pk=pk)


_CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class KeysetPage(Generic[M]):
    """One page of a list read by key: its rows in the list's order, and the cursors of the
    pages beside it (``""`` where there is none)."""

    rows: list[M]
    newer: str
    older: str
    first: bool

    def has_other_pages(self) -> bool:
        return bool(self.newer or self.older or not self.first)


def keyset_page(
    qs: QuerySet[M],
    *,
    cursor: Cursor | None,
    size: int,
    newest_first: bool = True,
    field: str = "at",
) -> KeysetPage[M]:
    """``size`` rows of ``qs`` from the cursor on, by ``(field, id)`` in one query of
    ``size + 1`` rows, on the index of that pair whatever the number of rows: no count."""
    newer = cursor.newer if cursor is not None else not newest_first
    if cursor is None:
        window = qs
    else:
        lt, gt = f"{field}__lt", f"{field}__gt"
        before = Q(**{lt: cursor.at}) | Q(**{field: cursor.at, "pk__lt": cursor.pk})
        after = Q(**{gt: cursor.at}) | Q(**{field: cursor.at, "pk__gt": cursor.pk})
        # The plain bound lets the index's range start at the cursor.
        window = (
            qs.filter(after, **{f"{field}__gte": cursor.at})
            if newer
            else qs.filter(before, **{f"{field}__lte": cursor.at})
        )
    keys = (F(field).asc(), F("pk").asc()) if newer else (F(field).desc(), F("pk").desc())
    fetched = list(window.order_by(*keys)[: size + 1])
    more, rows = len(fetched) > size, fetched[:size]
    if newer == newest_first:
        rows.reverse()  # read towards the list's start, shown in the list's order
    if not rows:
        return KeysetPage(rows=[], newer="", older="", first=cursor is None)
    newest, oldest = (rows[0], rows[-1]) if newest_first else (rows[-1], rows[0])
    # Beyond the rows read there are more when the extra row came; behind the cursor there
    # are the rows it was taken from.
    has_newer = more if newer else cursor is not None
    has_older = cursor is not None if newer else more
    return KeysetPage(
        rows=rows,
        newer=Cursor(True, getattr(newest, field), newest.pk).encode() if has_newer else "",
        older=Cursor(False, getattr(oldest, field), oldest.pk).encode() if has_older else "",
        first=cursor is None,
    )
