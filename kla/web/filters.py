"""The lists' filter forms on the pages: ``kla.listing``'s sets read from the URL, so a
filtered view is a bookmark, each bad value shown beside its field (the page answers 400 and
lists nothing rather than guess), and the instruction chosen beside them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django import forms
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from django_filters.widgets import BaseCSVWidget

from kla.listing import ListFilter
from kla.models import Instruction
from kla.web.requests import AuthenticatedHttpRequest

F = TypeVar("F", bound=ListFilter)


class CSVHiddenInput(BaseCSVWidget, forms.HiddenInput):  # type: ignore[misc]
    """A comma-separated value kept in the form without a control."""


M = TypeVar("M", bound=Model)


def page_filters(
    filterset_class: type[F],
    request: AuthenticatedHttpRequest,
    queryset: QuerySet[M],
    *,
    bodies: Sequence[tuple[str, str]] | None = None,
    **kwargs: Any,
) -> F:
    """The list's filter set bound to the page's query string.

    ``bodies`` narrows the body choices to those the page can show; with one body or none
    there is nothing to choose and the field is hidden (a bookmark's value still counts)."""
    filters = filterset_class(request.GET, queryset=queryset, bodies=bodies, **kwargs)
    if bodies is not None and len(bodies) <= 1 and "agency" in filters.form.fields:
        filters.form.fields["agency"].widget = CSVHiddenInput()
    # The folded part of the form opens while anything in it is given (or refused).
    folded = [name for name in request.GET if name not in ("search", "halaman")]
    filters.more_in_use = any(request.GET.get(name) for name in folded)
    if filters.is_bound and not filters.form.is_valid():
        for name in filters.form.errors:
            if name in filters.form.fields:
                widget = filters.form.fields[name].widget
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["aria-describedby"] = f"filter-error-{name}"
    return filters


def filter_query(request: AuthenticatedHttpRequest) -> str:
    """The page's query string without its page number, for the pager's links."""
    query = request.GET.copy()
    query.pop("halaman", None)
    return query.urlencode()


def instruction_choices(*, allow_all: bool = True) -> list[tuple[str, str]]:
    """The instruction filter's options: the one chosen in the header, every one, each."""
    choices = [("", _("Yang ditampilkan"))]
    if allow_all:
        choices.append(("all", _("Semua instruksi")))
    choices += [(str(i.pk), i.label) for i in Instruction.objects.order_by("-year", "-number")]
    return choices
