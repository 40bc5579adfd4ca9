"""Errors the services raise; the pages and the API turn each into its status code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ServiceError(Exception):
    """Base: a refusal with a message for people and a status for the API."""

    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotVisible(ServiceError):
    """The caller may not see this: it answers 404, as if it did not exist."""

    status = 404


class Forbidden(ServiceError):
    """The caller sees it but may not do this."""

    status = 403


class Conflict(ServiceError):
    """The current state (or a changed version) does not allow this."""

    status = 409


class TooLarge(ServiceError):
    """An uploaded file is over the configured size."""

    status = 413


class Invalid(ServiceError):
    """Bad input, field by field; nothing was changed."""

    status = 400

    def __init__(self, errors: Mapping[str, Sequence[str] | str]) -> None:
        self.errors: dict[str, list[str]] = {
            key: [value] if isinstance(value, str) else [str(v) for v in value]
            for key, value in errors.items()
        }
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))


class Unavailable(ServiceError):
    """A part the service needs (the virus scanner) does not answer: try again later (503)."""

    status = 503

    def __init__(self, message: str = "", retry_after: int = 30) -> None:
        super().__init__(message)
        self.retry_after = retry_after
