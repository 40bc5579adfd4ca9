"""The trail's log (DESIGN, "Anchored outside the database"): its verifier keys, its signed
checkpoints and RFC 9162 proofs, for anyone signed in unless said; anonymous callers get 401.

* ``GET /api/v1/trail/key/`` -> ``{name, verifier_key, public_key, keys}``: the current note
  verifier key (``public_key`` the raw 32-byte Ed25519 key in base64) and every key that
  ever signed a checkpoint, the current one first and always included. On a server without
  a signing key the first three are null and ``keys`` lists the past keys alone.
* ``GET /api/v1/trail/checkpoints/`` (newest first, paginated) and
  ``GET /api/v1/trail/checkpoints/latest/`` -> ``tree_size``, ``root_hash`` (base64), ``at``
  (when it was cut, not signed) and ``note`` (the whole signed note); latest is 404 while no
  checkpoint has been cut.
* ``GET /api/v1/trail/proof/inclusion/?stream=S&seq=N&tree_size=T`` -> ``leaf_index``,
  ``tree_size``, ``leaf_hash``, ``audit_path`` (base64) and ``checkpoint`` (the signed note
  of that size). See ``InclusionProofView`` for the statuses.
* ``GET /api/v1/trail/proof/consistency/?first=M&second=N`` -> ``first``, ``second``,
  ``proof`` (base64) and both signed notes. See ``ConsistencyProofView``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import CallerMixin, caller
from kla.api.serializers import MAX_ID
from workflows.models import TrailCheckpoint
from workflows.trail.checkpoints import (
    checkpoint_latest,
    current_verifier,
    known_verifiers,
    root_b64,
)
from workflows.trail.note import Verifier
from workflows.trail.proofs import (
    b64,
    checkpoints_newest,
    consistency_proof,
    inclusion_proof,
    proof_event,
)

# --- output ---------------------------------------------------------------------------------


class TrailVerifierKeySerializer(serializers.Serializer[Verifier]):
    """One note verifier key of the log."""

    name = serializers.CharField(help_text="The key name: the log's origin")
    verifier_key = serializers.SerializerMethodField(
        help_text="The note verifier key: <name>+<hex key id>+<base64(0x01 || public key)>"
    )
    public_key = serializers.SerializerMethodField(
        help_text="The raw 32-byte Ed25519 public key, base64"
    )
    key_id = serializers.CharField(source="key_id_hex", help_text="The 4-byte key id, hex")

    def get_verifier_key(self, obj: Verifier) -> str:
        return str(obj)

    def get_public_key(self, obj: Verifier) -> str:
        return b64(obj.public)


class TrailKeySerializer(serializers.Serializer[Any]):
    """The log's current verifier key and every key that ever signed a checkpoint."""

    name = serializers.CharField(allow_null=True, help_text="Null without a signing key")
    verifier_key = serializers.CharField(allow_null=True)
    public_key = serializers.CharField(
        allow_null=True, help_text="The raw 32-byte Ed25519 public key, base64"
    )
    keys = TrailVerifierKeySerializer(many=True, help_text="The current key first, then the past")


class TrailCheckpointSerializer(serializers.ModelSerializer[TrailCheckpoint]):
    """A signed checkpoint: the tree's size and root, when it was cut, the signed note."""

    root_hash = serializers.SerializerMethodField(help_text="The tree's root hash, base64")
    note = serializers.CharField(
        read_only=True, help_text="The C2SP signed note of the tlog-checkpoint text"
    )
    at = serializers.DateTimeField(read_only=True, help_text="When it was cut (not signed)")

    class Meta:
        model = TrailCheckpoint
        fields = ("tree_size", "root_hash", "at", "note")
        read_only_fields = fields

    def get_root_hash(self, obj: TrailCheckpoint) -> str:
        return root_b64(obj)


class InclusionProofSerializer(serializers.Serializer[Any]):
    """RFC 9162 2.1.3: one event's leaf and audit path in the tree of a signed checkpoint."""

    leaf_index = serializers.IntegerField()
    tree_size = serializers.IntegerField()
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || the event's hash bytes), base64")
    audit_path = serializers.ListField(
        child=serializers.CharField(), help_text="The audit path, base64 hashes, leaf upwards"
    )
    checkpoint = serializers.CharField(help_text="The signed note of the checkpoint of tree_size")


class ConsistencyProofSerializer(serializers.Serializer[Any]):
    """RFC 9162 2.1.4: the tree of ``first`` leaves is a prefix of the tree of ``second``."""

    first = serializers.IntegerField()
    second = serializers.IntegerField()
    proof = serializers.ListField(
        child=serializers.CharField(), help_text="Base64 hashes; empty when first == second"
    )
    first_checkpoint = serializers.CharField(help_text="The signed note of size first")
    second_checkpoint = serializers.CharField(help_text="The signed note of size second")


# --- input ----------------------------------------------------------------------------------


class WholeNumberField(serializers.IntegerField):
    """A query parameter that is a whole number written in decimal digits, nothing else
    (``5.0``, ``-1`` or ``1e3`` are refused, where DRF's ``IntegerField`` takes some)."""

    def __init__(self, *, min_value: int = 0, **kwargs: Any) -> None:
        super().__init__(min_value=min_value, max_value=MAX_ID, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        text = str(data)
        if not (text.isascii() and text.isdigit()) or len(text) > 20:
            self.fail("invalid")
        return int(text)


class InclusionQuerySerializer(serializers.Serializer[Any]):
    stream = serializers.CharField(
        max_length=80, help_text="The event's stream: submission:<id>, body:<code> or system"
    )
    seq = WholeNumberField(help_text="The event's sequence number in its stream")
    tree_size = WholeNumberField(
        required=False,
        help_text="The size of a stored checkpoint; the latest checkpoint when absent",
    )


class ConsistencyQuerySerializer(serializers.Serializer[Any]):
    first = WholeNumberField(
        min_value=1, help_text="The older checkpoint's size, 0 < first <= second"
    )
    second = WholeNumberField(
        required=False, help_text="The newer checkpoint's size; the latest when absent"
    )


def query(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


BAD_INPUT = OpenApiResponse(
    description="A parameter missing or not a whole number, or a size no stored checkpoint has"
)
NOT_IN_TREE = OpenApiResponse(
    description="No checkpoint cut yet while tree_size was left to the latest, or the event "
    "is not yet in that tree"
)
NO_CHECKPOINT = OpenApiResponse(
    description="No checkpoint cut yet while second was left to the latest"
)


# --- views ----------------------------------------------------------------------------------


class TrailKeyView(GenericAPIView[Any]):
    """The log's note verifier key, and every key that ever signed (past keys stay listed)."""

    serializer_class = TrailKeySerializer

    @extend_schema(operation_id="trail_key", responses=TrailKeySerializer)
    def get(self, request: Request) -> Response:
        current = current_verifier()
        keys = known_verifiers()  # the current one first, when there is one
        return Response(
            TrailKeySerializer(
                {
                    "name": current.name if current else None,
                    "verifier_key": str(current) if current else None,
                    "public_key": b64(current.public) if current else None,
                    "keys": keys,
                }
            ).data
        )


class CheckpointListView(GenericAPIView[TrailCheckpoint]):
    """The signed checkpoints, newest first."""

    serializer_class = TrailCheckpointSerializer

    def get_queryset(self) -> QuerySet[TrailCheckpoint]:
        return checkpoints_newest()

    @extend_schema(
        operation_id="trail_checkpoints_list", responses=TrailCheckpointSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CheckpointLatestView(GenericAPIView[TrailCheckpoint]):
    """The newest signed checkpoint; 404 while none has been cut."""

    serializer_class = TrailCheckpointSerializer

    @extend_schema(
        operation_id="trail_checkpoints_latest",
        responses={
            200: TrailCheckpointSerializer,
            404: OpenApiResponse(description="No checkpoint has been cut yet"),
        },
    )
    def get(self, request: Request) -> Response:
        latest = checkpoint_latest()
        if latest is None:
            raise NotFound(_("Belum ada checkpoint jejak."))
        return Response(self.get_serializer(latest).data)


class InclusionProofView(CallerMixin, GenericAPIView[Any]):
    """The inclusion proof of one event (``stream``, ``seq``) in a signed checkpoint.

    In this order: 400 when ``stream`` or ``seq`` is missing, or ``seq`` or ``tree_size`` is
    not a whole number; 404 when the event does not exist or the caller may not ask for it
    (auditors and consolidators may ask for any event, everybody else only for the events of
    the submissions they see, never for the body and system streams); 400 when ``tree_size``
    is not the size of a stored checkpoint; 409 when ``tree_size`` is left to the latest and
    no checkpoint has been cut yet, and 409 when the event is not yet in that tree (not
    sequenced yet, or sequenced after it): asked again after the next checkpoint, it is.
    """

    serializer_class = InclusionProofSerializer

    @extend_schema(
        operation_id="trail_proof_inclusion",
        parameters=[InclusionQuerySerializer],
        responses={
            200: InclusionProofSerializer,
            400: BAD_INPUT,
            404: OpenApiResponse(description="No such event, or one the caller may not ask for"),
            409: NOT_IN_TREE,
        },
    )
    def get(self, request: Request) -> Response:
        asked = query(InclusionQuerySerializer, request)
        event = proof_event(
            user=caller(request), stream=asked["stream"], seq=asked["seq"], roles=self.roles
        )
        proof = inclusion_proof(event=event, tree_size=asked.get("tree_size"))
        return Response(InclusionProofSerializer(proof.as_data()).data)


class ConsistencyProofView(GenericAPIView[Any]):
    """The consistency proof between two signed checkpoints, ``0 < first <= second``.

    400 when ``first`` is missing, either is not a whole number, they are out of order or
    either is not the size of a stored checkpoint; 409 when ``second`` is left to the latest
    and no checkpoint has been cut yet. Equal sizes give an empty proof.
    """

    serializer_class = ConsistencyProofSerializer

    @extend_schema(
        operation_id="trail_proof_consistency",
        parameters=[ConsistencyQuerySerializer],
        responses={200: ConsistencyProofSerializer, 400: BAD_INPUT, 409: NO_CHECKPOINT},
    )
    def get(self, request: Request) -> Response:
        asked = query(ConsistencyQuerySerializer, request)
        proof = consistency_proof(first=asked["first"], second=asked.get("second"))
        return Response(ConsistencyProofSerializer(proof.as_data()).data)
