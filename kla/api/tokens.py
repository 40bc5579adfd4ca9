"""API tokens (django-rest-knox): issuing, listing and revoking a person's own, and killing
every one of them when the person's password changes.

Knox stores each token hashed (``digest``) with its first characters in clear
(``token_key``): that prefix is the token's public id here, enough to name it, useless to sign
in with. A token expires after ``REST_KNOX["TOKEN_TTL"]`` without use (``AUTO_REFRESH``: every
use moves the expiry on, written at most once per ``MIN_REFRESH_INTERVAL``).

A password change is caught at the model level, so that every way of changing it counts: the
reset page, the admin, ``manage.py changepassword``, ``set_password()`` and ``save()`` in
code, making the password unusable. Only ``QuerySet.update()`` passes by unseen, as it does
every signal. Django's own upgrade of a hash on sign-in (a new hasher or more iterations; the
password is the same) keeps the tokens.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import get_hasher, identify_hasher
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken
from knox.settings import knox_settings

from kla.errors import Conflict, NotVisible

# Where the stored hash waits between pre_save and post_save, on the instance being saved.
_BEFORE = "_kla_password_before"


def live_tokens(user: AbstractBaseUser) -> QuerySet[Any]:
    """The person's tokens that still sign in, newest first."""
    now = timezone.now()
    mine = AuthToken.objects.filter(user_id=user.pk)
    live: QuerySet[Any] = mine.filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
    return live.order_by("-created")


def _drop_expired(user: AbstractBaseUser) -> None:
    AuthToken.objects.filter(user_id=user.pk, expiry__lte=timezone.now()).delete()


def token_issue(user: AbstractBaseUser) -> tuple[Any, str]:
    """A new token of the person, ``(row, token)``; 409 once they hold the most allowed."""
    limit: int | None = knox_settings.TOKEN_LIMIT_PER_USER
    with transaction.atomic():
        # The person's row is the lock: two requests at once cannot both take the last place.
        type(user)._default_manager.select_for_update().filter(pk=user.pk).first()
        _drop_expired(user)
        if limit is not None and live_tokens(user).count() >= limit:
            raise Conflict(
                _(
                    "Anda sudah memegang %(limit)d token API, batas per orang. Cabut token "
                    "yang tidak dipakai lagi (DELETE /api/v1/auth/tokens/{id}/ atau POST "
                    "/api/v1/auth/logout-all/, juga lewat API yang bisa dijelajah setelah "
                    "masuk), lalu minta token lagi."
                )
                % {"limit": limit}
            )
        row, token = AuthToken.objects.create(user)
    return row, str(token)


def token_revoke(user: AbstractBaseUser, token_key: str) -> None:
    """Revoke one of the person's live tokens by its id; anybody else's or unknown is 404."""
    _drop_expired(user)
    deleted, _rows = AuthToken.objects.filter(user_id=user.pk, token_key=token_key).delete()
    if not deleted:
        raise NotVisible(_("Token API tidak ditemukan."))


def tokens_revoke_all(user: AbstractBaseUser) -> int:
    """Revoke every token of the person; how many there were."""
    deleted, _rows = AuthToken.objects.filter(user_id=user.pk).delete()
    return int(deleted)


def _is_hash_upgrade(before: str, instance: Any, update_fields: Any) -> bool:
    """Django's ``check_password`` re-hashing the same password with the preferred hasher: it
    saves only ``password``, after clearing the raw one ``set_password`` remembers."""
    if update_fields is None or set(update_fields) != {"password"}:
        return False
    if getattr(instance, "_password", None) is not None:
        return False  # set_password() was called: a new password
    try:
        hasher = identify_hasher(before)
    except ValueError:
        return False
    preferred = get_hasher("default")
    return hasher.algorithm != preferred.algorithm or bool(preferred.must_update(before))


def remember_password(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """pre_save: read the stored hash of a person being changed (not when only other fields
    are saved, as ``last_login`` on every sign-in)."""
    update_fields = kwargs.get("update_fields")
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True)
    for password in stored:
        setattr(instance, _BEFORE, password)


def revoke_on_password_change(
    sender: Any, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any
) -> None:
    """post_save: a stored hash that changed kills every token of the person."""
    before = instance.__dict__.pop(_BEFORE, None)
    if raw or created or before is None or before == instance.password:
        return
    if _is_hash_upgrade(before, instance, kwargs.get("update_fields")):
        return
    tokens_revoke_all(instance)


def connect() -> None:
    """Connect the receivers (from ``KlaConfig.ready``)."""
    user_model = settings.AUTH_USER_MODEL
    pre_save.connect(remember_password, sender=user_model, dispatch_uid="kla_tokens_before")
    post_save.connect(
        revoke_on_password_change, sender=user_model, dispatch_uid="kla_tokens_password"
    )
