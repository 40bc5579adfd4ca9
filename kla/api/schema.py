"""The OpenAPI schema's own text: the region it serves, named when the schema is made, and the
error answers every operation can give (DESIGN, "Interfaces": "Status codes")."""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings

FIELD_ERRORS = "FieldErrors"
DETAIL = "Detail"
WRITES = {"post", "put", "patch", "delete"}
METHODS = WRITES | {"get", "head", "options", "trace"}

COMPONENTS: dict[str, dict[str, Any]] = {
    FIELD_ERRORS: {
        "type": "object",
        "description": "Bad input, field by field: each field named with its messages "
        "(`detail` for what belongs to no field); a list's or an object's items by their "
        "index or key",
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"$ref": "#/components/schemas/FieldErrors"},
            ]
        },
    },
    DETAIL: {
        "type": "object",
        "description": "A refusal that belongs to no field, in the request's language",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
}

IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "The same key with the same body answers the first result again and "
    "changes nothing; with another body it is 409",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


BAD_INPUT = _answer(
    "Bad input: field by field, or a body that is not a JSON object (`detail`)",
    {"anyOf": [_ref(FIELD_ERRORS), _ref(DETAIL)]},
)
ERRORS: dict[str, dict[str, Any]] = {
    "401": _answer("No credentials, or a token unknown, revoked or expired", _ref(DETAIL)),
    "403": _answer("The caller sees it but may not do this", _ref(DETAIL)),
    "404": _answer(
        "Nothing the caller may see: no such object, or a page past the last", _ref(DETAIL)
    ),
    "409": _answer(
        "The current state or a changed version does not allow it, or an Idempotency-Key "
        "already used with another body",
        _ref(DETAIL),
    ),
    "413": _answer("A file over the upload limit, or a body too large", _ref(DETAIL)),
    "429": _answer("Too many failed sign-ins for the account or the address", _ref(DETAIL)),
    "503": _answer("The database is unavailable: try again after Retry-After", _ref(DETAIL)),
}


def _statuses(method: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses an operation can answer, by its method, parameters and security."""
    signed_in = any(requirement for requirement in operation.get("security", [{}]))
    query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
    if method in WRITES:
        # A body too large is 413 on every write, before any view reads it.
        codes = ["400", "403", "404", "409", "413"]
    else:
        # A filter or parameter with a bad value is 400; ``page`` past the last is 404.
        codes = ["404"] + (["400"] if any(p.get("name") != "page" for p in query) else [])
    # An operation anyone may call is the sign-in: its failures are throttled, not 401.
    codes.append("401" if signed_in else "429")
    return [*codes, "503"]


def describe_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation lists the error statuses it can
    answer, with the body's shape (``FieldErrors`` for 400, ``Detail`` for the others);
    a status an operation already describes in its own words keeps them, with the shape."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in COMPONENTS.items():
        schemas.setdefault(name, copy.deepcopy(component))
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in _statuses(method, operation):
                responses.setdefault(
                    code, copy.deepcopy(BAD_INPUT if code == "400" else ERRORS[code])
                )
            for code, given in responses.items():
                # An error the view described in words alone: the words, with the shape.
                if code in ERRORS or code == "400":
                    answer = BAD_INPUT if code == "400" else ERRORS[code]
                    given.setdefault("content", copy.deepcopy(answer["content"]))
            operation["responses"] = dict(sorted(responses.items()))
            # Sign-in and token answers are never kept to be answered again (kla.api.idempotency).
            if method == "post" and "/auth/" not in path:
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == IDEMPOTENCY_KEY["name"] for p in parameters):
                    parameters.append(copy.deepcopy(IDEMPOTENCY_KEY))
    return result


def name_the_region(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the title names ``KLA_REGION_NAME``.

    ``SPECTACULAR_SETTINGS`` is read once at start-up; naming the region here keeps the schema
    in step with the setting pages and emails read, however it was set.
    """
    result.setdefault("info", {})["title"] = f"KLA {settings.KLA_REGION_NAME} API"
    return result
