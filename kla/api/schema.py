"""The OpenAPI schema's own text: the region it serves, named when the schema is made."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def name_the_region(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the title names ``KLA_REGION_NAME``.

    ``SPECTACULAR_SETTINGS`` is read once at start-up; naming the region here keeps the schema
    in step with the setting pages and emails read, however it was set.
    """
    result.setdefault("info", {})["title"] = f"KLA {settings.KLA_REGION_NAME} API"
    return result
