"""The lists' search, filters and ``ordering`` in the API: ``kla.listing``'s sets, a bad value
400 field by field, and each parameter in the schema with the values it accepts."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from kla.listing import ChoicesFilter, ListFilter

M = TypeVar("M", bound=Model)

DESCRIPTIONS = {
    "search": "Part of the title, any case",
    "ordering": "Sort keys, comma-separated; `-` before a key sorts descending",
}


def filtered(
    filterset_class: type[ListFilter], request: Request, queryset: QuerySet[M], **kwargs: Any
) -> QuerySet[M]:
    """The rows the query string's filters keep, in its order; 400 naming each bad value."""
    filters = filterset_class(request.query_params, queryset=queryset, **kwargs)
    if not filters.is_valid():
        raise ValidationError(filters.error_map())
    return cast("QuerySet[M]", filters.qs)


def list_parameters(filterset_class: type[ListFilter]) -> list[OpenApiParameter]:
    """The set's parameters for the schema, each naming the values it accepts where they
    are fixed (a comma-separated list is one string, so they are said, not an enum). Bodies
    are not fixed: ``agency`` says it takes codes (a filter's ``api_description``)."""
    parameters = []
    for name, declared in filterset_class.base_filters.items():
        description = getattr(declared, "api_description", None) or DESCRIPTIONS.get(
            name, str(declared.label or name)
        )
        choices = declared.extra.get("choices")
        if isinstance(choices, list | tuple) and choices:
            values = ", ".join(f"`{key}`" for key, _label in choices)
            description += f"; one or several comma-separated of {values}"
        elif isinstance(declared, ChoicesFilter):
            description += "; one or several comma-separated"
        parameters.append(OpenApiParameter(name, str, description=description))
    return parameters
