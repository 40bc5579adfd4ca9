"""Signed checkpoints of the log: the key, cutting, keeping, mailing (DESIGN, "Anchored").

The signing key is a file (``TRAIL_SIGNING_KEY_FILE``, written by ``manage.py trail_keygen``),
never a database row; its key name is the log's origin (``TRAIL_ORIGIN``). A checkpoint is cut
when the tree grew (beat, every ``TRAIL_CHECKPOINT_SECONDS``) and at every trail bundle export;
each is kept in the append-only ``TrailCheckpoint`` table and written once as a file into
``TRAIL_CHECKPOINT_DIR``, and each WIB day's last one is mailed to every auditor, so that
copies the database cannot change are held outside it. Every key that signed stays listed
(``TrailKey``), so that checkpoints signed before a key rotation still verify.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from kla.queue import publish_ids_on_commit
from kla.time import WIB
from roles.roles import Role
from roles.selectors import members_of_group
from workflows.models import CheckpointMail, Notification, TrailCheckpoint, TrailKey
from workflows.notifications.outbox import EMAIL_TASK
from workflows.trail.log import LogError, lock_log, log_root, log_sequence, log_size
from workflows.trail.note import Checkpoint, NoteError, Signer, Verifier

logger = logging.getLogger(__name__)

SEQUENCE_TASK = "workflows.tasks.trail_sequence"
CHECKPOINT_TASK = "workflows.tasks.trail_checkpoint"
MAIL_KIND = "trail_checkpoint"
MAIL_DAYS_BACK = 7
FILES_RETRIED = 20


class LogForked(RuntimeError):
    """The stored tree no longer extends the last checkpoint: it is not signed."""


class KeyMissing(RuntimeError):
    """No signing key where the settings say it is (``manage.py trail_keygen`` writes one)."""


def key_path() -> Path:
    return Path(settings.TRAIL_SIGNING_KEY_FILE)


def signing_key() -> Signer:
    """The log's signer, read from its file; ``KeyMissing`` when there is none or it is bad."""
    path = key_path()
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise KeyMissing(f"{path}: no signing key; run manage.py trail_keygen") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyMissing(f"{path}: the signing key cannot be read ({exc})") from None
    try:
        return Signer.parse(text)
    except NoteError as exc:
        raise KeyMissing(f"{path}: not a signing key ({exc})") from None


def key_generate() -> tuple[Signer, bool]:
    """Write a new signing key if there is none; returns the key and whether it is new."""
    path = key_path()
    if path.exists():
        return signing_key(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate(settings.TRAIL_ORIGIN)
    # Created readable by its owner alone, and never over an existing file.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(signer.serialise())
    return signer, True


def current_verifier() -> Verifier | None:
    try:
        return signing_key().verifier
    except KeyMissing:
        return None


def known_verifiers() -> list[Verifier]:
    """Every verifier key of this log: the current one and each that ever signed."""
    keys: list[Verifier] = []
    current = current_verifier()
    if current is not None:
        keys.append(current)
    for text in TrailKey.objects.values_list("verifier_key", flat=True):
        try:
            verifier = Verifier.parse(text)
        except NoteError:
            continue
        if verifier not in keys:
            keys.append(verifier)
    return keys


def checkpoint_file(checkpoint: TrailCheckpoint) -> Path:
    return Path(settings.TRAIL_CHECKPOINT_DIR) / f"checkpoint-{checkpoint.tree_size:012d}.txt"


def _write_file(checkpoint: TrailCheckpoint) -> None:
    """Keep the checkpoint as a file too, written once (an existing file is never replaced)."""
    path = checkpoint_file(checkpoint)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:
            handle.write(checkpoint.note)
    except FileExistsError:
        pass
    except OSError:
        logger.exception("checkpoint %s could not be written to %s", checkpoint.tree_size, path)


def checkpoint_latest() -> TrailCheckpoint | None:
    return TrailCheckpoint.objects.order_by("-tree_size").first()


def checkpoint_cut(*, empty: bool = False) -> TrailCheckpoint | None:
    """Sequence what is committed, then sign the tree if it grew since the last checkpoint.

    Returns the newest checkpoint (the one just cut, or the last one when the tree did not
    grow); ``None`` for an empty log unless ``empty``. ``KeyMissing`` without a key.
    """
    signer = signing_key()
    if signer.name != settings.TRAIL_ORIGIN:
        raise KeyMissing(
            f"the signing key is named {signer.name}, the log's origin is "
            f"{settings.TRAIL_ORIGIN}: the key name is the origin; give the new origin a key "
            "of its own (move the old key file away and run trail_keygen)"
        )
    log_sequence()
    with transaction.atomic():
        lock_log(wait=True)
        size = log_size()
        latest = checkpoint_latest()
        if latest is not None and latest.tree_size >= size:
            return latest
        if latest is not None and log_root(latest.tree_size).hex() != latest.root_hash:
            # Never sign a tree that does not extend the last signed one (a split view).
            raise LogForked(
                f"the stored log's root at size {latest.tree_size} is not the one its checkpoint "
                "signed: the log was changed; nothing is signed until verify_trail is clean"
            )
        if size == 0 and not empty:
            return None
        root = log_root(size)
        note = signer.sign(
            Checkpoint(origin=settings.TRAIL_ORIGIN, tree_size=size, root_hash=root).text()
        )
        verifier = signer.verifier
        now = timezone.now()
        checkpoint = TrailCheckpoint.objects.create(
            tree_size=size, root_hash=root.hex(), at=now, key_id=verifier.key_id_hex, note=note
        )
        if not TrailKey.objects.filter(verifier_key=str(verifier)).exists():
            TrailKey.objects.create(
                name=verifier.name,
                key_id=verifier.key_id_hex,
                verifier_key=str(verifier),
                first_used_at=now,
            )
    _write_file(checkpoint)
    return checkpoint


def root_b64(checkpoint: TrailCheckpoint) -> str:
    """The root as the checkpoint text gives it; a stored value that is not hex (tampered
    with) is shown as it is, for verification to name."""
    try:
        return base64.b64encode(bytes.fromhex(checkpoint.root_hash)).decode()
    except ValueError:
        return checkpoint.root_hash


def checkpoint_of_size(size: int) -> TrailCheckpoint | None:
    return TrailCheckpoint.objects.filter(tree_size=size).first()


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=WIB)
    return start, start + dt.timedelta(days=1)


def checkpoints_mail(*, now: dt.datetime | None = None) -> list[dt.date]:
    """Mail each past WIB day's last checkpoint to every auditor, once a day (UNIQUE day).

    Looks back a week, so a beat that stopped for a few days catches up; returns the days.
    """
    now = now or timezone.now()
    today = now.astimezone(WIB).date()
    sent: list[dt.date] = []
    for back in range(MAIL_DAYS_BACK, 0, -1):
        day = today - dt.timedelta(days=back)
        if CheckpointMail.objects.filter(day=day).exists():
            continue
        start, end = _day_bounds(day)
        last = (
            TrailCheckpoint.objects.filter(at__gte=start, at__lt=end).order_by("-tree_size").first()
        )
        if last is None:
            continue
        try:
            with transaction.atomic():
                CheckpointMail.objects.create(day=day, checkpoint=last, sent_at=now)
                _mail_rows(day, last)
        except IntegrityError:
            continue  # another run mailed this day meanwhile
        sent.append(day)
    return sent


def _mail_rows(day: dt.date, checkpoint: TrailCheckpoint) -> None:
    with override(settings.LANGUAGE_CODE):
        title = _("Checkpoint jejak %(day)s: %(size)s peristiwa") % {
            "day": day.isoformat(),
            "size": checkpoint.tree_size,
        }
        message = _(
            "Simpan pesan bertanda tangan di bawah ini di luar sistem. Dengan berkas ini, "
            "siapa pun dapat memeriksa bahwa jejak tidak ditulis ulang: "
            "python manage.py verify_trail --checkpoint BERKAS.\n\n%(note)s"
        ) % {"note": checkpoint.note}
    rows = [
        Notification(user=person, kind=MAIL_KIND, title=title, message=message)
        for person in members_of_group(Role.AUDITOR)
    ]
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if ids:
        publish_ids_on_commit(EMAIL_TASK, ids)


def checkpoint_run(*, now: dt.datetime | None = None) -> int | None:
    """Beat's checkpoint task: cut if the tree grew, then mail the days owed."""
    size: int | None = None
    try:
        checkpoint = checkpoint_cut()
        size = checkpoint.tree_size if checkpoint is not None else None
    except (KeyMissing, LogForked, LogError) as exc:
        logger.error("no checkpoint cut: %s", exc)
    # A file that could not be written before (storage down) is written now; never replaced.
    for recent in TrailCheckpoint.objects.order_by("-tree_size")[:FILES_RETRIED]:
        _write_file(recent)
    checkpoints_mail(now=now)
    return size
