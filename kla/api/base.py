"""What every endpoint shares: the JSON parser, the caller, loading a submission they see."""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.serializers import (
    InputSerializer,
    SubmissionSerializer,
    json_object,
    object_id,
)
from kla.listing import COUNT_CAP, BoundedPaginator
from kla.models import Evidence, Submission
from roles.roles import Roles, roles_of
from roles.selectors import visible_to
from workflows.four_eyes import action_facts


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, also answering 400 for input nested too deep to decode."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON bertingkat terlalu dalam.")) from None
        except UnicodeDecodeError:
            raise ParseError(_("Isi permintaan bukan UTF-8 yang sah.")) from None
        except ParseError as exc:
            # DRF wraps the decoder's ValueError (UnicodeDecodeError included) in a message
            # built without gettext, which would stay English; say it in the request's language.
            cause = exc.__context__
            if isinstance(cause, UnicodeDecodeError):
                raise ParseError(_("Isi permintaan bukan UTF-8 yang sah.")) from None
            if isinstance(cause, ValueError):
                raise ParseError(_("JSON parse error - {detail}").format(detail=cause)) from None
            raise


class BoundedPagination(PageNumberPagination):
    """``?page=N``, 50 rows a page and no way to ask for more; ``count`` is exact up to
    ``COUNT_CAP`` rows and null beyond (DESIGN: "``count`` may be null"), so that a list
    costs the same whatever the number of rows (``kla.listing.BoundedPaginator``)."""

    page_size = 50
    max_page_size = 50
    django_paginator_class = BoundedPaginator
    last_page_strings = ()

    def get_paginated_response(self, data: Any) -> Response:
        assert self.page is not None  # after paginate_queryset
        paginator = self.page.paginator
        exact = getattr(paginator, "exact", True)
        return Response(
            {
                "count": paginator.count if exact else None,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        shape = super().get_paginated_response_schema(schema)
        shape["properties"]["count"] = {
            "type": "integer",
            "nullable": True,
            "description": f"Exact up to {COUNT_CAP} rows, null beyond",
            "example": 123,
        }
        return shape


def with_related(queryset: QuerySet[Submission]) -> QuerySet[Submission]:
    """What the serializer reads, in a fixed number of queries per page."""
    return queryset.select_related("body").prefetch_related(
        "indicators",
        Prefetch(
            "evidence",
            queryset=Evidence.objects.filter(removed_at__isnull=True)
            .order_by("uploaded_at", "id")
            .prefetch_related("requirements"),
            to_attr="current_evidence",
        ),
    )


def valid_input(serializer_class: type[InputSerializer], request: Request) -> dict[str, Any]:
    """The request body checked by the serializer the schema publishes for it, else 400."""
    serializer = serializer_class(data=json_object(request.data))
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def caller(request: Request) -> User:
    """The authenticated person (every view here requires authentication)."""
    return cast(User, request.user)


class CallerMixin:
    """The caller's roles, read once per request, and loading a submission they see."""

    request: Any  # the view's DRF Request

    @cached_property
    def roles(self) -> Roles:
        return roles_of(caller(self.request))

    def visible(self) -> QuerySet[Submission]:
        return with_related(visible_to(caller(self.request), self.roles))

    def load(self, submission_id: str) -> Submission:
        """The submission if the caller may see it, else 404."""
        submission = self.visible().filter(pk=object_id(submission_id)).first()
        if submission is None:
            raise NotFound(_("Pengajuan tidak ditemukan."))
        return submission


class SubmissionAPIView(CallerMixin, GenericAPIView[Submission]):
    """Base of the submission endpoints: loading through visibility and rendering."""

    serializer_class = SubmissionSerializer
    parser_classes = [SafeJSONParser]
    pagination_class = BoundedPagination

    def get_queryset(self) -> QuerySet[Submission]:
        return self.visible()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "roles": self.roles}

    def paginated(self, queryset: QuerySet[Submission]) -> Response:
        """One page of submissions, the trail facts for all of them read at once."""
        page = self.paginate_queryset(queryset) or []
        facts = action_facts(user=caller(self.request), submission_ids=[s.pk for s in page])
        serializer = SubmissionSerializer(
            page, many=True, context={**self.get_serializer_context(), "facts": facts}
        )
        return self.get_paginated_response(serializer.data)

    def respond(self, submission_id: int, code: int = status.HTTP_200_OK) -> Response:
        """The submission as it is now, re-read after the service changed it."""
        submission = self.get_queryset().get(pk=submission_id)
        return Response(self.get_serializer(submission).data, status=code)
