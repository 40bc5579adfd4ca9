"""The trail's records: stream heads and append-only events (see ``workflows.trail``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kla.models import Body, Submission

GENESIS_HASH = "0" * 64


class TrailStream(models.Model):
    """The head of one hash chain; its row is locked to append, so ``seq`` never forks."""

    name = models.CharField(max_length=80, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("alur jejak")
        verbose_name_plural = _("alur jejak")

    def __str__(self) -> str:
        return f"{self.name} @ {self.seq}"


class TrailEvent(models.Model):
    """One immutable event. Foreign keys protect, never cascade; names are kept as text."""

    stream = models.ForeignKey(TrailStream, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=40, db_index=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    files = models.JSONField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, null=True, blank=True, related_name="trail"
    )
    body = models.ForeignKey(
        Body, on_delete=models.PROTECT, null=True, blank=True, related_name="trail"
    )
    algorithm = models.PositiveSmallIntegerField(default=1)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("peristiwa jejak")
        verbose_name_plural = _("peristiwa jejak")
        ordering = ["stream_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="trail_stream_seq"),
        ]
        indexes = [
            models.Index(fields=["submission", "seq"]),
            models.Index(fields=["actor_name", "at"]),
            # The trail page, newest first (``kla.listing.TrailFilter``); read backwards, it
            # serves oldest first too.
            models.Index(fields=["-at", "-id"], name="trail_event_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.stream_id}#{self.seq} {self.action}"


class TrailLeaf(models.Model):
    """One leaf of the global Merkle tree (RFC 9162): the event at ``index``, append-only.

    ``hash`` is the leaf hash, SHA-256(0x00 || the event's 32 hash bytes), in hex.
    """

    index = models.PositiveBigIntegerField(unique=True)
    event = models.OneToOneField(TrailEvent, on_delete=models.PROTECT, related_name="leaf")
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("daun log jejak")
        verbose_name_plural = _("daun log jejak")
        ordering = ["index"]

    def __str__(self) -> str:
        return f"leaf {self.index}"


class TrailNode(models.Model):
    """The hash of a complete subtree: ``2**level`` leaves from ``index * 2**level`` on.

    Written by the sequencer as subtrees complete, so that roots and proofs of any size need
    a logarithmic number of rows; every one can be recomputed from the leaves.
    """

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("simpul log jejak")
        verbose_name_plural = _("simpul log jejak")
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="trail_node_level_index"),
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class TrailCheckpoint(models.Model):
    """A signed checkpoint of the log (C2SP tlog-checkpoint in a signed note), append-only."""

    tree_size = models.PositiveBigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)
    key_id = models.CharField(max_length=8)
    note = models.TextField()

    class Meta:
        verbose_name = _("checkpoint jejak")
        verbose_name_plural = _("checkpoint jejak")
        ordering = ["-tree_size"]

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size}"


class TrailKey(models.Model):
    """A note verifier key that signed checkpoints; past keys stay listed after a rotation."""

    name = models.CharField(max_length=200)
    key_id = models.CharField(max_length=8)
    verifier_key = models.CharField(max_length=300, unique=True)
    first_used_at = models.DateTimeField()

    class Meta:
        verbose_name = _("kunci verifikasi jejak")
        verbose_name_plural = _("kunci verifikasi jejak")
        ordering = ["first_used_at", "id"]

    def __str__(self) -> str:
        return self.verifier_key


class CheckpointMail(models.Model):
    """The day (WIB) whose last checkpoint was sent to the auditors: once, by its UNIQUE day."""

    day = models.DateField(unique=True)
    checkpoint = models.ForeignKey(TrailCheckpoint, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pengiriman checkpoint")
        verbose_name_plural = _("pengiriman checkpoint")

    def __str__(self) -> str:
        return f"{self.day}: {self.checkpoint_id}"
