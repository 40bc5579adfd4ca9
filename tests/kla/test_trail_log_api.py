"""The trail's log for people and programs: its keys, checkpoints and proofs in the API, the
trail bundle as an export, and the trail page's checkpoints, keys, proof files and bundle.

Every proof the API returns is checked here by a verifier written from RFC 9162 alone
(2.1.3.2 and 2.1.4.2), against the root of a checkpoint whose Ed25519 signature is checked
with ``cryptography`` and the public key the API publishes, never with the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from kla.models import Export, ExportKind, ExportState, Submission
from tests import factories as f
from workflows.models import TrailCheckpoint, TrailEvent, TrailKey, TrailLeaf
from workflows.trail.append import event_record, trail_append
from workflows.trail.checkpoints import checkpoint_cut, current_verifier
from workflows.trail.log import log_sequence
from workflows.trail.note import Signer

pytestmark = pytest.mark.django_db

KEY = "/api/v1/trail/key/"
CHECKPOINTS = "/api/v1/trail/checkpoints/"
LATEST = "/api/v1/trail/checkpoints/latest/"
INCLUSION = "/api/v1/trail/proof/inclusion/"
CONSISTENCY = "/api/v1/trail/proof/consistency/"
EXPORTS = "/api/v1/exports/"
TRAIL = reverse("trail-list")
BUNDLE = reverse("trail-bundle")


# --- RFC 9162, from the RFC's text alone -------------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def merkle_tree_hash(inputs: list[bytes]) -> bytes:
    """MTH (RFC 9162 2.1.1): the empty hash, a leaf hash, or a node over the split at the
    largest power of two smaller than the number of inputs."""
    n = len(inputs)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + inputs[0])
    split = 1 << ((n - 1).bit_length() - 1)
    return sha256(b"\x01" + merkle_tree_hash(inputs[:split]) + merkle_tree_hash(inputs[split:]))


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, inclusion_path: list[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2, step by step."""
    if leaf_index >= tree_size:  # 1
        return False
    fn, sn = leaf_index, tree_size - 1  # 2
    r = leaf  # 3
    for p in inclusion_path:  # 4
        if sn == 0:  # 4a
            return False
        if fn & 1 or fn == sn:  # 4b
            r = sha256(b"\x01" + p + r)  # 4b i
            if not fn & 1:  # 4b ii
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1  # 4c
    return sn == 0 and r == root  # 5


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: list[bytes]
) -> bool:
    """RFC 9162 2.1.4.2, step by step (for 0 < first < second)."""
    if not path:  # 1
        return False
    if first & (first - 1) == 0:  # 2: first is an exact power of 2
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1  # 3
    while fn & 1:  # 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # 5
    for c in path[1:]:  # 6
        if sn == 0:  # 6a
            return False
        if fn & 1 or fn == sn:  # 6b
            fr = sha256(b"\x01" + c + fr)
            sr = sha256(b"\x01" + c + sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = sha256(b"\x01" + sr + c)
        fn, sn = fn >> 1, sn >> 1  # 6c
    return fr == first_hash and sr == second_hash and sn == 0  # 7


def signed_root(note: str, public_key: bytes) -> tuple[int, bytes]:
    """The tree size and root of a C2SP signed checkpoint, once its signature verifies."""
    text, blank, signatures = note.partition("\n\n")
    assert blank, note
    body = (text + "\n").encode()
    line = signatures.rstrip("\n")
    assert line.startswith("\u2014 ")
    _name, _, encoded = line[2:].partition(" ")
    raw = base64.b64decode(encoded)
    Ed25519PublicKey.from_public_bytes(public_key).verify(raw[4:], body)  # raises if forged
    _origin, size, root = text.split("\n")
    return int(size), base64.b64decode(root)


def leaf_inputs() -> list[bytes]:
    """The events' hash bytes in leaf order: what the tree is built over."""
    leaves = TrailLeaf.objects.select_related("event").order_by("index")
    return [bytes.fromhex(leaf.event.hash) for leaf in leaves]


def b64list(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


# --- fixtures ---------------------------------------------------------------------------------


def grow(count: int) -> None:
    with transaction.atomic():
        for n in range(count):
            trail_append(stream="system", action="test_event", actor=None, data={"n": n})


def cut() -> TrailCheckpoint:
    checkpoint = checkpoint_cut()
    assert checkpoint is not None
    return checkpoint


@pytest.fixture
def public_key(api: Any, outsider: Any) -> bytes:
    return base64.b64decode(api.as_(outsider).get(KEY).json()["public_key"])


@pytest.fixture
def sizes(submitted: Submission) -> list[int]:
    """Three checkpoints, the tree growing in between: their sizes, oldest first."""
    made = [cut().tree_size]
    grow(3)
    made.append(cut().tree_size)
    grow(6)
    made.append(cut().tree_size)
    return made


@pytest.fixture
def private_draft(operator: Any) -> Submission:
    """Never submitted: private to its body."""
    return f.make_draft(operator, title="Rancangan yang belum diajukan")


def first_event(submission: Submission) -> TrailEvent:
    return f.first(TrailEvent.objects.filter(submission=submission).order_by("seq"))


def ask(client: Any, **params: Any) -> Any:
    return client.get(INCLUSION, params)


# --- the verifier keys ------------------------------------------------------------------------


def test_the_key_is_the_current_verifier_key_with_its_raw_public_key(
    api: Any, operator: Any
) -> None:
    body = api.as_(operator).get(KEY).json()
    current = current_verifier()
    assert current is not None
    assert set(body) == {"name", "verifier_key", "public_key", "keys"}
    assert body["verifier_key"] == str(current)
    assert body["name"] == current.name
    raw = base64.b64decode(body["public_key"])
    assert len(raw) == 32
    # The verifier key is <name>+<key id>+base64(0x01 || the same 32 bytes).
    name, key_id, encoded = body["verifier_key"].split("+", 2)
    assert name == body["name"]
    assert base64.b64decode(encoded) == b"\x01" + raw
    assert key_id == sha256(name.encode() + b"\n\x01" + raw)[:4].hex()
    assert body["keys"] == [
        {
            "name": name,
            "verifier_key": body["verifier_key"],
            "public_key": body["public_key"],
            "key_id": key_id,
        }
    ]


def test_past_keys_stay_listed_after_a_rotation(
    api: Any, outsider: Any, submitted: Submission, settings: Any, tmp_path: Path
) -> None:
    old = cut()
    old_key = api.as_(outsider).get(KEY).json()["verifier_key"]
    rotated = tmp_path / "rotated.key"
    rotated.write_text(Signer.generate(settings.TRAIL_ORIGIN).serialise(), encoding="ascii")
    settings.TRAIL_SIGNING_KEY_FILE = rotated
    grow(1)
    cut()
    body = api.get(KEY).json()
    assert body["verifier_key"] != old_key
    assert [k["verifier_key"] for k in body["keys"]] == [body["verifier_key"], old_key]
    # The old checkpoint verifies with the old key as listed.
    past = base64.b64decode(body["keys"][1]["public_key"])
    assert signed_root(old.note, past)[0] == old.tree_size


def test_without_a_signing_key_the_past_keys_are_still_published(
    api: Any, outsider: Any, submitted: Submission, settings: Any, tmp_path: Path
) -> None:
    cut()
    known = TrailKey.objects.get().verifier_key
    settings.TRAIL_SIGNING_KEY_FILE = tmp_path / "missing.key"
    body = api.as_(outsider).get(KEY).json()
    assert (body["name"], body["verifier_key"], body["public_key"]) == (None, None, None)
    assert [k["verifier_key"] for k in body["keys"]] == [known]


# --- checkpoints ------------------------------------------------------------------------------


def test_checkpoints_newest_first_paginated_with_base64_roots(
    api: Any, operator: Any, sizes: list[int], public_key: bytes
) -> None:
    body = api.as_(operator).get(CHECKPOINTS).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert [c["tree_size"] for c in body["results"]] == sorted(sizes, reverse=True)
    inputs = leaf_inputs()
    for row in body["results"]:
        assert set(row) == {"tree_size", "root_hash", "at", "note"}
        size, root = signed_root(row["note"], public_key)
        assert size == row["tree_size"]
        assert base64.b64decode(row["root_hash"]) == root == merkle_tree_hash(inputs[:size])
        assert re.search(r"[+-]\d\d:\d\d$|Z$", row["at"])  # ISO 8601 with its offset
    assert api.get(LATEST).json() == body["results"][0]


def test_latest_is_404_before_any_checkpoint(api: Any, operator: Any) -> None:
    response = api.as_(operator).get(LATEST)
    assert response.status_code == 404
    assert "checkpoint" in response.json()["detail"]
    assert api.get(CHECKPOINTS).json()["results"] == []


# --- inclusion proofs -------------------------------------------------------------------------


def test_every_event_of_a_submission_is_proven_in_the_latest_checkpoint(
    api: Any, operator: Any, submitted: Submission, sizes: list[int], public_key: bytes
) -> None:
    client = api.as_(operator)
    events = list(TrailEvent.objects.filter(submission=submitted).order_by("seq"))
    assert len(events) >= 2
    for event in events:
        response = ask(client, stream=submitted.stream, seq=event.seq)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"leaf_index", "tree_size", "leaf_hash", "audit_path", "checkpoint"}
        assert body["tree_size"] == sizes[-1]  # the latest by default
        size, root = signed_root(body["checkpoint"], public_key)
        assert size == body["tree_size"]
        leaf = base64.b64decode(body["leaf_hash"])
        assert leaf == sha256(b"\x00" + bytes.fromhex(event.hash))
        path = b64list(body["audit_path"])
        assert verify_inclusion(body["leaf_index"], size, leaf, path, root)
        # A proof checked against another leaf or root fails: the verifier is no rubber stamp.
        assert not verify_inclusion(body["leaf_index"], size, sha256(b"x"), path, root)


def test_an_older_checkpoint_proves_the_events_it_holds(
    api: Any, auditor: Any, sizes: list[int], public_key: bytes
) -> None:
    client = api.as_(auditor)
    for size in sizes:
        for leaf in TrailLeaf.objects.filter(index__lt=size).select_related("event__stream"):
            event = leaf.event
            body = ask(client, stream=event.stream.name, seq=event.seq, tree_size=size).json()
            assert (body["leaf_index"], body["tree_size"]) == (leaf.index, size)
            tree, root = signed_root(body["checkpoint"], public_key)
            assert tree == size
            path = b64list(body["audit_path"])
            assert verify_inclusion(
                leaf.index, size, base64.b64decode(body["leaf_hash"]), path, root
            )


def test_an_event_after_the_tree_or_not_yet_sequenced_is_409(
    api: Any, auditor: Any, submitted: Submission, sizes: list[int]
) -> None:
    client = api.as_(auditor)
    late = TrailLeaf.objects.get(index=sizes[-1] - 1).event
    response = ask(client, stream=late.stream.name, seq=late.seq, tree_size=sizes[0])
    assert response.status_code == 409
    assert str(sizes[0]) in response.json()["detail"]
    with transaction.atomic():
        fresh = trail_append(stream="system", action="test_event", actor=None)
    response = ask(client, stream="system", seq=fresh.seq)
    assert response.status_code == 409  # not sequenced yet
    log_sequence()
    assert ask(client, stream="system", seq=fresh.seq).status_code == 409  # in no checkpoint
    cut()
    assert ask(client, stream="system", seq=fresh.seq).status_code == 200


def test_before_any_checkpoint_a_proof_of_the_latest_is_409(
    api: Any, auditor: Any, submitted: Submission
) -> None:
    response = ask(api.as_(auditor), stream=submitted.stream, seq=1)
    assert response.status_code == 409
    assert "checkpoint" in response.json()["detail"]
    # Naming a size is still bad input when no checkpoint has it.
    assert ask(api, stream=submitted.stream, seq=1, tree_size=1).status_code == 400


@pytest.mark.parametrize(
    "params, field",
    [
        ({"seq": "1"}, "stream"),
        ({"stream": "system"}, "seq"),
        ({"stream": "system", "seq": "satu"}, "seq"),
        ({"stream": "system", "seq": "1.0"}, "seq"),
        ({"stream": "system", "seq": "-1"}, "seq"),
        ({"stream": "system", "seq": "1e3"}, "seq"),
        ({"stream": "system", "seq": "9" * 30}, "seq"),
        ({"stream": "system", "seq": "1", "tree_size": "x"}, "tree_size"),
        ({"stream": "system", "seq": "1", "tree_size": "2.5"}, "tree_size"),
        ({"stream": "system", "seq": "1", "tree_size": str(2**63)}, "tree_size"),
        ({"stream": "x" * 81, "seq": "1"}, "stream"),
    ],
)
def test_inclusion_bad_input_is_400_by_field(
    api: Any, auditor: Any, sizes: list[int], params: dict[str, str], field: str
) -> None:
    response = api.as_(auditor).get(INCLUSION, params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_a_tree_size_no_checkpoint_has_is_400(
    api: Any, auditor: Any, submitted: Submission, sizes: list[int]
) -> None:
    client = api.as_(auditor)
    for size in (0, sizes[0] + 1, sizes[-1] + 1):
        response = ask(client, stream=submitted.stream, seq=1, tree_size=size)
        assert response.status_code == 400
        assert "tree_size" in response.json()


@pytest.mark.parametrize(
    "who, stream, expected",
    [
        ("operator", "submitted", 200),
        ("verifier", "submitted", 200),
        ("consolidator", "submitted", 200),
        ("auditor", "submitted", 200),
        ("other_operator", "submitted", 404),
        ("outsider", "submitted", 404),
        # A draft never submitted: its body's operators; auditors and consolidators may ask
        # for any event (a proof tells hashes alone); a verifier may not see it.
        ("operator", "private", 200),
        ("consolidator", "private", 200),
        ("auditor", "private", 200),
        ("verifier", "private", 404),
        # The body and system streams: auditors and consolidators alone.
        ("auditor", "system", 200),
        ("consolidator", "system", 200),
        ("verifier", "system", 404),
        ("operator", "system", 404),
        ("auditor", "body:dinkes", 200),
        ("verifier", "body:dinkes", 404),
        ("operator", "body:dinkes", 404),
    ],
)
def test_who_may_ask_for_which_event(
    api: Any,
    request: Any,
    submitted: Submission,
    private_draft: Submission,
    who: str,
    stream: str,
    expected: int,
) -> None:
    names = {"submitted": submitted.stream, "private": private_draft.stream}
    name = names.get(stream, stream)
    assert TrailEvent.objects.filter(stream__name=name, seq=1).exists()
    cut()
    response = ask(api.as_(request.getfixturevalue(who)), stream=name, seq=1)
    assert response.status_code == expected, response.content


def test_a_scoped_verifier_asks_only_within_their_bodies(
    api: Any, other_body: Any, submitted: Submission
) -> None:
    cut()
    scoped = f.make_scoped_verifier([other_body], "verif-dinsos")
    assert ask(api.as_(scoped), stream=submitted.stream, seq=1).status_code == 404


def test_unknown_events_are_404_before_the_tree_size_is_asked(
    api: Any, auditor: Any, submitted: Submission, sizes: list[int]
) -> None:
    client = api.as_(auditor)
    for stream, seq in (("submission:999999", 1), (submitted.stream, 999), ("tak-ada", 1)):
        assert ask(client, stream=stream, seq=seq).status_code == 404
        assert ask(client, stream=stream, seq=seq, tree_size=sizes[0] + 1).status_code == 404
    assert ask(client, stream=submitted.stream, seq=0).status_code == 404


# --- consistency proofs -----------------------------------------------------------------------


def test_consistency_between_every_pair_of_checkpoints(
    api: Any, outsider: Any, sizes: list[int], public_key: bytes
) -> None:
    client = api.as_(outsider)
    for i, first in enumerate(sizes):
        for second in sizes[i:]:
            response = client.get(CONSISTENCY, {"first": first, "second": second})
            assert response.status_code == 200, response.content
            body = response.json()
            assert set(body) == {
                "first",
                "second",
                "proof",
                "first_checkpoint",
                "second_checkpoint",
            }
            assert (body["first"], body["second"]) == (first, second)
            m, old_root = signed_root(body["first_checkpoint"], public_key)
            n, new_root = signed_root(body["second_checkpoint"], public_key)
            assert (m, n) == (first, second)
            proof = b64list(body["proof"])
            if first == second:
                assert proof == [] and old_root == new_root
            else:
                assert verify_consistency(first, second, old_root, new_root, proof)
                assert not verify_consistency(first, second, sha256(b"x"), new_root, proof)


def test_consistency_defaults_to_the_latest(
    api: Any, outsider: Any, sizes: list[int], public_key: bytes
) -> None:
    body = api.as_(outsider).get(CONSISTENCY, {"first": sizes[0]}).json()
    assert (body["first"], body["second"]) == (sizes[0], sizes[-1])
    _, old_root = signed_root(body["first_checkpoint"], public_key)
    _, new_root = signed_root(body["second_checkpoint"], public_key)
    assert verify_consistency(sizes[0], sizes[-1], old_root, new_root, b64list(body["proof"]))
    same = api.get(CONSISTENCY, {"first": sizes[-1]}).json()
    assert (same["first"], same["second"], same["proof"]) == (sizes[-1], sizes[-1], [])


def test_consistency_bad_input_is_400(api: Any, outsider: Any, sizes: list[int]) -> None:
    client = api.as_(outsider)
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "first"),
        ({"first": "0"}, "first"),
        ({"first": "-2"}, "first"),
        ({"first": "satu"}, "first"),
        ({"first": "1.5"}, "first"),
        ({"first": sizes[0], "second": "x"}, "second"),
        ({"first": sizes[1], "second": sizes[0]}, "first"),  # out of order
        ({"first": sizes[0] + 1}, "first"),  # no checkpoint of that size
        ({"first": sizes[0], "second": sizes[0] + 1}, "second"),
        ({"first": sizes[0], "second": sizes[-1] + 1}, "second"),
    ]
    for params, field in cases:
        response = client.get(CONSISTENCY, params)
        assert response.status_code == 400, (params, response.content)
        assert field in response.json(), params


def test_consistency_before_any_checkpoint_is_409(api: Any, outsider: Any) -> None:
    response = api.as_(outsider).get(CONSISTENCY, {"first": 1})
    assert response.status_code == 409
    assert "checkpoint" in response.json()["detail"]


# --- what every endpoint shares ---------------------------------------------------------------


@pytest.mark.parametrize("path", [KEY, CHECKPOINTS, LATEST, INCLUSION, CONSISTENCY])
def test_anonymous_is_401_and_options_describe_the_endpoint(
    api: Any, outsider: Any, path: str
) -> None:
    assert api.get(path).status_code == 401
    response = api.as_(outsider).options(path)
    assert response.status_code == 200
    assert response.json()["name"]


# --- the trail bundle as an export ------------------------------------------------------------


def request_done(client: Any, capture: Any, **data: Any) -> dict[str, Any]:
    with capture(execute=True):
        response = client.post(EXPORTS, {"kind": "trail_bundle", **data}, format="json")
    assert response.status_code == 201, response.content
    detail: dict[str, Any] = client.get(f"{EXPORTS}{response.json()['id']}/").json()
    return detail


def test_an_auditor_exports_a_bundle_that_verify_trail_accepts(
    api: Any,
    auditor: Any,
    submitted: Submission,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = api.as_(auditor)
    detail = request_done(client, django_capture_on_commit_callbacks)
    assert detail["state"] == "done", detail["error"]
    assert detail["instruction"] is None
    response = client.get(detail["download"])
    assert response.status_code == 200
    assert re.fullmatch(
        r'attachment; filename="jejak-kla-\d{8}-\d{6}\.jsonl"', response["Content-Disposition"]
    )
    path = tmp_path / "bundle.jsonl"
    path.write_bytes(b"".join(response.streaming_content))
    header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    latest = TrailCheckpoint.objects.order_by("-tree_size").first()
    assert latest is not None  # the export cut it
    assert (header["version"], header["tree_size"], header["checkpoint"]) == (
        2,
        latest.tree_size,
        latest.note,
    )
    key = api.get(KEY).json()["verifier_key"]
    call_command("verify_trail", "--bundle", str(path), "--key", key)  # raises if it fails
    download = TrailEvent.objects.filter(stream__name="system", action="export_download").get()
    assert (download.actor_name, download.role, download.data["kind"]) == (
        "inspektorat",
        "auditor",
        "trail_bundle",
    )


@pytest.mark.parametrize("who", ["verifier", "consolidator", "operator"])
def test_only_auditors_may_export_the_bundle(
    api: Any, request: Any, submitted: Submission, who: str
) -> None:
    response = api.as_(request.getfixturevalue(who)).post(
        EXPORTS, {"kind": "trail_bundle"}, format="json"
    )
    assert response.status_code == 403
    assert not Export.objects.filter(kind=ExportKind.TRAIL_BUNDLE).exists()


def test_a_bundle_of_an_instruction_is_400(
    api: Any, auditor: Any, instruction: Any, submitted: Submission
) -> None:
    response = api.as_(auditor).post(
        EXPORTS, {"kind": "trail_bundle", "instruction": instruction.pk}, format="json"
    )
    assert response.status_code == 400
    assert "instruction" in response.json()
    assert not Export.objects.filter(kind=ExportKind.TRAIL_BUNDLE).exists()
    # Null is no instruction.
    response = api.post(EXPORTS, {"kind": "trail_bundle", "instruction": None}, format="json")
    assert response.status_code == 201


def test_without_a_signing_key_the_bundle_fails_readably_and_other_exports_do_not(
    api: Any,
    auditor: Any,
    submitted: Submission,
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TRAIL_SIGNING_KEY_FILE = tmp_path / "missing.key"
    client = api.as_(auditor)
    detail = request_done(client, django_capture_on_commit_callbacks)
    assert detail["state"] == "failed"
    assert "trail_keygen" in detail["error"] and "kunci" in detail["error"]
    assert "KeyMissing" not in detail["error"] and str(tmp_path) not in detail["error"]
    assert not TrailCheckpoint.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(EXPORTS, {"kind": "rekap_xlsx"}, format="json").json()
    assert Export.objects.get(pk=created["id"]).state == ExportState.DONE


# --- the trail page ---------------------------------------------------------------------------


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_lists_checkpoints_and_keys_and_offers_proofs(
    auditor: Any, submitted: Submission, sizes: list[int]
) -> None:
    page = logged_in(auditor).get(TRAIL).content.decode()
    latest = TrailCheckpoint.objects.order_by("-tree_size").first()
    assert latest is not None
    root = base64.b64encode(bytes.fromhex(latest.root_hash)).decode()
    assert root in page
    positions = [page.index(f"<tr><td>{size}</td>") for size in sorted(sizes, reverse=True)]
    assert positions == sorted(positions)  # newest first
    assert "WIB</time>" in page
    assert str(current_verifier()) in page
    assert "Kunci saat ini" in page
    event = first_event(submitted)
    assert reverse("trail-proof", args=[event.pk]) in page
    # Streams and numbers in words, never as API codes.
    assert f">Pengajuan #{submitted.pk}<" in page
    assert f">{submitted.stream}<" not in page
    assert "<td>Sistem</td>" in page  # the system stream ("system" stays the sweep's name)
    assert "Perangkat/lembaga Dinas Kesehatan" in page  # the body stream, by the body's name
    assert "No. urut" in page and "<th>seq</th>" not in page
    assert "Unduh bundel jejak" in page


def test_past_keys_are_listed_on_the_page(
    auditor: Any, submitted: Submission, settings: Any, tmp_path: Path
) -> None:
    cut()
    old = str(current_verifier())
    rotated = tmp_path / "rotated.key"
    rotated.write_text(Signer.generate(settings.TRAIL_ORIGIN).serialise(), encoding="ascii")
    settings.TRAIL_SIGNING_KEY_FILE = rotated
    page = logged_in(auditor).get(TRAIL).content.decode()
    assert old in page and str(current_verifier()) in page
    assert "Kunci sebelumnya" in page


def test_events_in_no_checkpoint_yet_say_so(auditor: Any, submitted: Submission) -> None:
    page = logged_in(auditor).get(TRAIL).content.decode()
    assert "belum masuk checkpoint" in page and "Belum ada checkpoint." in page
    assert "/jejak/bukti/" not in page


@pytest.mark.parametrize("who", ["verifier", "consolidator"])
def test_other_reviewers_get_no_bundle_button(
    request: Any, submitted: Submission, who: str
) -> None:
    page = logged_in(request.getfixturevalue(who)).get(TRAIL).content.decode()
    assert "Unduh bundel jejak" not in page and BUNDLE not in page


def test_the_proof_file_is_the_api_proof_with_the_event(
    api: Any, operator: Any, submitted: Submission, sizes: list[int], public_key: bytes
) -> None:
    event = first_event(submitted)
    response = logged_in(operator).get(reverse("trail-proof", args=[event.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="bukti-jejak-')
    assert response["Cache-Control"] == "no-store"
    body = json.loads(response.content)
    proof = api.as_(operator).get(INCLUSION, {"stream": submitted.stream, "seq": event.seq})
    assert {k: body[k] for k in proof.json()} == proof.json()
    assert {k: body[k] for k in event_record(event, submitted.stream)} == event_record(
        event, submitted.stream
    )
    size, root = signed_root(body["checkpoint"], public_key)
    assert sha256(b"\x00" + bytes.fromhex(body["hash"])) == base64.b64decode(body["leaf_hash"])
    path = b64list(body["audit_path"])
    assert verify_inclusion(
        body["leaf_index"], size, base64.b64decode(body["leaf_hash"]), path, root
    )


def test_a_proof_file_before_its_checkpoint_is_a_409_page(
    auditor: Any, submitted: Submission
) -> None:
    response = logged_in(auditor).get(reverse("trail-proof", args=[first_event(submitted).pk]))
    assert response.status_code == 409
    assert "checkpoint" in response.content.decode()
    cut()
    with transaction.atomic():
        fresh = trail_append(stream="system", action="test_event", actor=None)
    response = logged_in(auditor).get(reverse("trail-proof", args=[fresh.pk]))
    assert response.status_code == 409


@pytest.mark.parametrize(
    "who, which, expected",
    [
        ("other_operator", "submitted", 404),
        ("outsider", "submitted", 404),
        ("verifier", "private", 404),
        # The file tells what the event says: the trail's reading rule, not the API's.
        ("consolidator", "private", 404),
        ("consolidator", "system", 404),
        ("auditor", "private", 404),
        ("auditor", "system", 200),
        ("operator", "private", 200),
        ("operator", "system", 404),
        ("auditor", "unknown", 404),
    ],
)
def test_who_gets_which_proof_file(
    request: Any,
    submitted: Submission,
    private_draft: Submission,
    who: str,
    which: str,
    expected: int,
) -> None:
    cut()
    ids = {
        "submitted": first_event(submitted).pk,
        "private": first_event(private_draft).pk,
        "system": f.first(TrailEvent.objects.filter(stream__name="system")).pk,
        "unknown": 999999,
    }
    client = logged_in(request.getfixturevalue(who))
    assert client.get(reverse("trail-proof", args=[ids[which]])).status_code == expected


def test_the_bundle_button_requests_the_export_and_goes_to_the_exports_page(
    auditor: Any, submitted: Submission, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(BUNDLE)
    assert response.status_code == 302
    assert response["Location"] == reverse("exports")
    export = Export.objects.get(kind=ExportKind.TRAIL_BUNDLE)
    assert (export.requested_by, export.instruction, export.state) == (
        auditor,
        None,
        ExportState.DONE,
    )
    page = client.get(reverse("exports")).content.decode()
    assert "Bundel jejak" in page and reverse("export-file", args=[export.pk]) in page
    assert client.get(BUNDLE).status_code == 405


def test_the_exports_page_offers_the_bundle_to_auditors_alone(
    auditor: Any, consolidator: Any, instruction: Any
) -> None:
    assert 'value="trail_bundle"' in logged_in(auditor).get(reverse("exports")).content.decode()
    page = logged_in(consolidator).get(reverse("exports")).content.decode()
    assert 'value="trail_bundle"' not in page
    # From the exports page the bundle is of no instruction, whichever one is shown.
    response = logged_in(auditor).post(reverse("exports"), {"kind": "trail_bundle"})
    assert response.status_code == 302
    assert Export.objects.get(kind=ExportKind.TRAIL_BUNDLE).instruction is None
