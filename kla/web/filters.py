"""The lists' filter forms on the pages: ``kla.listing``'s sets read from the URL, so a
filtered view is a bookmark, each bad value shown beside its field (the page answers 400 and
lists nothing rather than guess), and the instruction chosen beside them."""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from kla.listing import ListFilter
from kla.models import Instruction
from kla.web.requests import AuthenticatedHttpRequest
from roles.permissions import is_reviewer
from roles.roles import Roles

F = TypeVar("F", bound=ListFilter)


M = TypeVar("M", bound=Model)


class BodyPicker(forms.TextInput):
    """A body field as a search rather than a list of every body: a text field for codes
    (``many``: several comma-separated) whose ``<datalist>`` htmx fills from the body search
    (``/perangkat/cari/``) as the person types, the names of the bodies given beside it, and
    a link to the search page, which finds codes without JavaScript."""

    input_type = "search"

    def __init__(self, attrs: dict[str, Any] | None = None, *, many: bool = True) -> None:
        super().__init__(attrs)
        self.many = many
        # The names of the bodies the value names, set by ``kla.listing.BodyCodes``.
        self.names: list[str] = []

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        attrs = dict(attrs or {})
        options = f"{attrs.get('id') or name}-options"
        search = reverse("body-search")
        attrs.update(
            {
                "list": options,
                "autocomplete": "off",
                "spellcheck": "false",
                "hx-get": search,
                "hx-trigger": "input changed delay:300ms",
                "hx-target": f"#{options}",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
            }
        )
        if self.many:
            attrs["hx-vals"] = '{"banyak": "1"}'
        field = super().render(name, value, attrs, renderer)
        picked = (
            format_html_join(", ", "{}", ((n,) for n in self.names))
            if self.names
            else SafeString("")
        )
        return format_html(
            '{}<datalist id="{}"></datalist>{}<a class="body-find" href="{}" target="_blank"'
            ' rel="noopener">{}</a>',
            field,
            options,
            format_html('<small class="body-picked">{}</small>', picked) if picked else "",
            search,
            _("Cari kode perangkat"),
        )


def sees_one_body(roles: Roles) -> bool:
    """Whether every row of this person's lists is of one body (an operator of one body who
    reviews nothing): their lists have no body to choose (read from the roles, no query)."""
    return not is_reviewer(roles) and len(roles.operator_of) <= 1


def page_filters(
    filterset_class: type[F],
    request: AuthenticatedHttpRequest,
    queryset: QuerySet[M],
    *,
    one_body: bool = False,
    **kwargs: Any,
) -> F:
    """The list's filter set bound to the page's query string.

    The body filter is a search (``BodyPicker``); with ``one_body`` (``sees_one_body``)
    there is nothing to choose and the field is hidden (a bookmark's value still counts)."""
    filters = filterset_class(request.GET, queryset=queryset, **kwargs)
    if "agency" in filters.form.fields:
        filters.form.fields["agency"].widget = forms.HiddenInput() if one_body else BodyPicker()
    # The folded part of the form opens while anything in it is given (or refused).
    folded = [name for name in request.GET if name not in ("search", "halaman", "kursor")]
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
    query.pop("kursor", None)
    return query.urlencode()


def instruction_choices(*, allow_all: bool = True) -> list[tuple[str, str]]:
    """The instruction filter's options: the one chosen in the header, every one, each."""
    choices = [("", _("Yang ditampilkan"))]
    if allow_all:
        choices.append(("all", _("Semua instruksi")))
    choices += [(str(i.pk), i.label) for i in Instruction.objects.order_by("-year", "-number")]
    return choices
