"""How API requests authenticate: ``Authorization: Token <t>`` (django-rest-knox), first so an
anonymous request is answered 401 with ``WWW-Authenticate: Token``. Kept apart from the views:
DRF imports its authentication classes while its own views module is still loading.

Knox's check, with an expired token named as such (knox calls it invalid) and a header that is
not ASCII answered 401 rather than 500; knox's other messages are DRF's, translated in the
project's catalogues.
"""

from __future__ import annotations

from hmac import compare_digest
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework.authentication import get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request


def unknown_token() -> str:
    # DRF's and knox's own words, in the project's catalogues in both languages.
    return _("Invalid token.")


def expired_token() -> str:
    return _(
        "Token API ini sudah kedaluwarsa karena lama tidak dipakai. "
        "Minta token baru di POST /api/v1/auth/token/."
    )


class TokenAuthentication(KnoxTokenAuthentication):  # type: ignore[misc]
    """Knox's token check: hashed tokens, their expiry moved on by each use."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        prefix = self.authenticate_header(request).encode()
        if not parts or parts[0].lower() != prefix.lower():
            return None  # no token, or credentials for another authenticator
        if len(parts) == 1:
            raise AuthenticationFailed(_("Invalid token header. No credentials provided."))
        if len(parts) > 2:
            raise AuthenticationFailed(
                _("Invalid token header. Token string should not contain spaces.")
            )
        return self.authenticate_credentials(parts[1])

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        try:
            text = token.decode("ascii")  # knox's tokens are hexadecimal
        except UnicodeDecodeError:
            raise AuthenticationFailed(
                _("Invalid token header. Token string should not contain invalid characters.")
            ) from None
        digest = hash_token(text)
        rows = AuthToken.objects.filter(token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH])
        for row in rows.select_related("user"):
            if not compare_digest(digest, row.digest):
                continue
            if row.expiry is not None and row.expiry <= timezone.now():
                username = row.user.get_username()
                row.delete()
                token_expired.send(sender=type(self), username=username, source="auth_token")
                raise AuthenticationFailed(expired_token())
            if not row.user.is_active:
                raise AuthenticationFailed(_("User inactive or deleted."))
            if knox_settings.AUTO_REFRESH and row.expiry is not None:
                self.renew_token(row)
            return row.user, row
        raise AuthenticationFailed(unknown_token())

    def renew_token(self, auth_token: Any) -> None:
        """Move the expiry on, written only once it moves by more than
        ``MIN_REFRESH_INTERVAL`` (not on every request); that write also drops the person's
        other expired tokens."""
        now = timezone.now()
        new_expiry = now + knox_settings.TOKEN_TTL
        max_ttl = knox_settings.AUTO_REFRESH_MAX_TTL
        if max_ttl is not None:
            new_expiry = min(new_expiry, auth_token.created + max_ttl)
        if (new_expiry - auth_token.expiry).total_seconds() <= knox_settings.MIN_REFRESH_INTERVAL:
            return
        auth_token.expiry = new_expiry
        auth_token.save(update_fields=("expiry",))
        AuthToken.objects.filter(user_id=auth_token.user_id, expiry__lte=now).delete()


class TokenScheme(KnoxTokenScheme):  # type: ignore[no-untyped-call]
    """The schema's security scheme for this class: ``Authorization: Token <t>``."""

    target_class = "kla.api.authentication.TokenAuthentication"
    name = "tokenAuth"
