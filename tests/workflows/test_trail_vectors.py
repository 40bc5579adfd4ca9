"""The test vectors of ``docs/trail.md``, read from the document itself.

Each vector is a fenced block whose info string is ``<kind> vector <name>`` (the document's
section 9 says how to read each kind). Every vector is checked twice: the product's own code
(``workflows.trail.chain``, ``merkle``, ``note``, ``bundle`` and ``verify_trail``) must
reproduce it, and so must the independent code of this file, written from the document and
the standards alone: ``hashlib``, ``json``, ``rfc8785`` and a JCS serialiser of its own for
the canonical forms, RFC 9162's recursive definitions for the tree and its proofs, and
``cryptography`` for Ed25519. Two outside anchors keep both honest: the RFC 6962 reference
roots of certificate-transparency, and the example keys and notes of Go's
``golang.org/x/mod/sumdb/note`` and of the C2SP signed-note specification.

No database: the bundle and ``verify_trail --bundle`` are offline by design, and these tests
prove it by running without the ``django_db`` mark.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import call_command
from django.core.management.base import CommandError

from workflows.trail import merkle
from workflows.trail.bundle import UNANCHORED, verify_bundle
from workflows.trail.chain import (
    HASHED_FIELDS,
    canonical,
    event_hash,
    format_at,
    jsonable,
    verify_records,
)
from workflows.trail.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_note,
    read_checkpoint,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "trail.md"
BLOCK = re.compile(r"^```(\w+) vector ([\w.-]+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
ZEROS = "0" * 64
DASH = "\u2014 "
ED25519 = b"\x01"  # the signed-note signature type of Ed25519

# Written here from the document (section 2.1), not imported: the fields algorithm 2 hashes.
ALGORITHM_2_FIELDS = (
    "algorithm",
    "stream",
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "from_state",
    "to_state",
    "note",
    "files",
    "data",
    "prev_hash",
)
EVENT_FIELDS = (*ALGORITHM_2_FIELDS, "hash")
EVENTS = ("1", "2", "3")


def _blocks() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for kind, name, content in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        assert name not in found, f"vector {name} appears twice"
        found[name] = (kind, content)
    return found


VECTORS = _blocks()


def block(name: str, kind: str) -> str:
    found_kind, content = VECTORS[name]
    assert found_kind == kind, f"vector {name} is {found_kind}, not {kind}"
    return content


def vector_json(name: str) -> Any:
    return json.loads(block(name, "json"))


def vector_line(name: str) -> str:
    """A one-line text vector, without a newline at its end (a canonical form)."""
    content = block(name, "text")
    assert content.count("\n") == 1, f"vector {name} is one line"
    return content[:-1]


def vector_lines(name: str, kind: str = "text") -> str:
    """A text vector whose lines each end in a newline (a note, a key file, a bundle)."""
    return block(name, kind)


def vector_hex(name: str) -> bytes:
    return bytes.fromhex("".join(block(name, "text").split()))


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def event(n: str) -> dict[str, Any]:
    value = vector_json(f"event-{n}")
    assert isinstance(value, dict)
    return value


# --- independent code: canonical forms ----------------------------------------------------------

SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
SHORT_ESCAPES["\r"] = "\\r"


def es_number(value: float) -> str:
    """ECMAScript's Number::toString, which RFC 8785 section 3.2.2.3 prescribes."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("not a JSON number")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, as ECMAScript requires.
    parts = Decimal(repr(abs(value))).normalize().as_tuple()
    assert isinstance(parts.exponent, int)
    digits = "".join(str(d) for d in parts.digits)
    k = len(digits)
    n = parts.exponent + k
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        exponent = n - 1
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    return sign + text


def jcs_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in SHORT_ESCAPES:
            out.append(SHORT_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def jcs(value: Any) -> str:
    """RFC 8785 for the JSON values of the trail, written from the RFC."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        assert abs(value) <= 2**53 - 1, "outside the I-JSON integers"
        return str(value)
    if isinstance(value, float):
        return es_number(value)
    if isinstance(value, str):
        return jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(item) for item in value) + "]"
    if isinstance(value, dict):
        # Member names compared as UTF-16 code units (big-endian bytes sort the same way).
        ordered = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be"))
        return "{" + ",".join(f"{jcs_string(k)}:{jcs(v)}" for k, v in ordered) + "}"
    raise TypeError(type(value))


def files_of(record: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"name": f["name"], "sha256": f["sha256"]} for f in record["files"]]


def algorithm_2_payload(record: Mapping[str, Any]) -> dict[str, Any]:
    payload = {name: record[name] for name in ALGORITHM_2_FIELDS}
    payload["files"] = files_of(record)
    return payload


def algorithm_1_bytes(record: Mapping[str, Any]) -> bytes:
    payload = {
        "v": 1,
        "stream": record["stream"],
        "seq": record["seq"],
        "at": record["at"],
        "actor": record["actor"],
        "role": record["role"],
        "action": record["action"],
        "from": record["from_state"],
        "to": record["to_state"],
        "note": record["note"],
        "files": files_of(record),
        "data": record["data"],
        "prev": record["prev_hash"],
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def independent_canonical(record: Mapping[str, Any]) -> bytes:
    if record["algorithm"] == 1:
        return algorithm_1_bytes(record)
    assert record["algorithm"] == 2
    by_package = bytes(rfc8785.dumps(algorithm_2_payload(record)))
    by_hand = jcs(algorithm_2_payload(record)).encode("utf-8")
    assert by_package == by_hand
    return by_package


def independent_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(independent_canonical(record)).hexdigest()


# --- independent code: RFC 9162 ----------------------------------------------------------------


def rfc_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def rfc_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 section 2.1.1, over leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = largest_power_below(len(leaves))
    return rfc_node(mth(leaves[:k]), mth(leaves[k:]))


def rfc_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1."""
    if len(leaves) == 1:
        return []
    k = largest_power_below(len(leaves))
    if m < k:
        return [*rfc_path(m, leaves[:k]), mth(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), mth(leaves[:k])]


def rfc_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = largest_power_below(n)
    if m <= k:
        return [*rfc_subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*rfc_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def rfc_verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2, step by step."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = rfc_node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = rfc_node(r, p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def rfc_verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2, step by step (for 0 < first < second)."""
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn // 2, sn // 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = rfc_node(c, fr), rfc_node(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            sr = rfc_node(sr, c)
        fn, sn = fn // 2, sn // 2
    return fr == first_hash and sr == second_hash and sn == 0


# --- independent code: signed notes ------------------------------------------------------------


def raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def c2sp_key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\x0a" + ED25519 + public).digest()[:4]


def open_by_hand(note: str, name: str, public: bytes) -> str:
    """The text of a note that this Ed25519 key signed, by cryptography alone."""
    cut = note.rindex("\n\n")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    for line in lines:
        assert line.startswith(DASH)
        signer, _, encoded = line[len(DASH) :].partition(" ")
        raw = base64.b64decode(encoded, validate=True)
        if signer == name and raw[:4] == c2sp_key_id(name, public):
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], text.encode())
            return text
    raise AssertionError("no signature of this key")


def checkpoint_by_hand(text: str) -> tuple[str, int, bytes]:
    origin, size, root, rest = text.split("\n", 3)
    assert rest == ""
    assert size.isascii() and size.isdigit()
    return origin, int(size), base64.b64decode(root, validate=True)


# --- the document holds what it promises -------------------------------------------------------


def test_the_document_holds_every_vector() -> None:
    expected = {
        "file",
        "head",
        "tree-7",
        "nodes",
        "test-key",
        "signer-key",
        "checkpoints",
        "note-3",
        "note-4",
        "note-7",
        "bundle-tree",
        "bundle-v1",
        "bundle-v2",
    }
    for n in EVENTS:
        expected |= {f"event-{n}", f"canonical-{n}", f"canonical-{n}-hex"}
    assert set(VECTORS) == expected


def test_the_hashed_fields_are_the_documented_ones() -> None:
    assert HASHED_FIELDS == ALGORITHM_2_FIELDS
    text = DOC.read_text(encoding="utf-8")
    assert " ".join(text.split()).count(", ".join(f"`{f}`" for f in ALGORITHM_2_FIELDS)) >= 1
    assert merkle.EMPTY_ROOT.hex() in text


# --- 12.1 events --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", EVENTS)
def test_event_canonical_form_and_hash(n: str) -> None:
    record = event(n)
    assert tuple(record) == EVENT_FIELDS
    text = vector_line(f"canonical-{n}").encode("utf-8")
    assert vector_hex(f"canonical-{n}-hex") == text
    # The product.
    assert canonical(record) == text
    assert event_hash(record) == record["hash"]
    # Independently.
    assert independent_canonical(record) == text
    assert hashlib.sha256(text).hexdigest() == record["hash"] == independent_hash(record)
    assert f"SHA-256: `{record['hash']}`" in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("n", EVENTS)
def test_event_is_as_the_product_writes_it(n: str) -> None:
    """``at`` in its one form, hex in lowercase, ``data`` already normalised."""
    record = event(n)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["at"])
    parsed = datetime.strptime(record["at"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert format_at(parsed) == record["at"]
    for value in (record["hash"], record["prev_hash"], *(f["sha256"] for f in record["files"])):
        assert re.fullmatch(r"[0-9a-f]{64}", value)
    assert jsonable(record["data"]) == record["data"]


def test_the_three_events_chain_to_their_head() -> None:
    records = [event(n) for n in EVENTS]
    head = vector_json("head")
    heads = {head["stream"]: (head["seq"], head["hash"])}
    checker, breaks = verify_records(records, heads)
    assert breaks == []
    assert checker.events == 3
    # Independently: seq 1, 2, 3; the first links to 64 zeros, each to the one before.
    previous = ZEROS
    for seq, record in enumerate(records, start=1):
        assert record["stream"] == head["stream"]
        assert record["seq"] == seq
        assert record["prev_hash"] == previous
        assert independent_hash(record) == record["hash"]
        previous = record["hash"]
    assert (head["seq"], head["hash"]) == (3, previous)


def test_the_file_hash() -> None:
    file = vector_json("file")
    content = file["content"].encode("utf-8")
    assert len(content) == 24
    assert hashlib.sha256(content).hexdigest() == file["sha256"]
    assert event("2")["files"] == [{"name": file["name"], "sha256": file["sha256"]}]


def _walk(records: list[dict[str, Any]], heads: dict[str, tuple[int, str]]) -> list[str]:
    return [str(b) for b in verify_records(records, heads)[1]]


def test_the_walk_reports_what_section_2_4_says() -> None:
    e1, e2, e3 = (event(n) for n in EVENTS)
    stream = "submission:42"
    head = {stream: (3, e3["hash"])}
    assert _walk([e1, e3], head) == [
        f"stream {stream} seq 2: event missing or out of order (found 3)"
    ]
    assert _walk([e1, {**e2, "prev_hash": ZEROS}, e3], head) == [
        f"stream {stream} seq 2: does not link to the previous event"
    ]
    assert _walk([e1, {**e2, "algorithm": 3}, e3], head) == [
        f"stream {stream} seq 2: unknown algorithm 3"
    ]
    assert _walk([e1, {**e2, "note": "x"}, e3], head) == [
        f"stream {stream} seq 2: content does not match its hash"
    ]
    # An integer JCS cannot take: no canonical form, so no hash matches it.
    assert _walk([e1, e2, {**e3, "data": {"n": 2**53}}], head) == [
        f"stream {stream} seq 3: content does not match its hash"
    ]
    assert _walk([e1, e2, e3], {stream: (2, e2["hash"])}) == [
        f"stream {stream} seq 3: events beyond the stream's head"
    ]
    assert _walk([e1, e2, e3], {stream: (4, ZEROS)}) == [
        f"stream {stream} seq 4: events 4..4 are missing"
    ]
    assert _walk([e1, e2, e3], {stream: (3, e2["hash"])}) == [
        f"stream {stream} seq 3: the head does not match the last event"
    ]
    assert _walk([e1, e2, e3], {}) == [f"stream {stream} seq 1: stream has no head"]


def test_data_is_normalised_as_section_3_says() -> None:
    given = {"big": 2**53, "small": 2**53 - 1, "float": 1e16, "pair": (1, 2), 3: "three"}
    assert jsonable(given) == {
        "big": "9007199254740992",
        "small": 2**53 - 1,
        "float": "1e+16",
        "pair": [1, 2],
        "3": "three",
    }


def test_the_hand_written_jcs_numbers_agree_with_the_package() -> None:
    numbers = [0.25, 1.0, -1.5, 1e21, 1e20, 1e-7, 1e-6, 123.456, 0.1 + 0.2, 5e-324, 1.5e300]
    for number in numbers:
        assert es_number(number) == rfc8785.dumps(number).decode(), number
    assert [es_number(x) for x in (1.0, 1e21, 1e-7, -0.0)] == ["1", "1e+21", "1e-7", "0"]


# --- 12.2 the seven-leaf tree -------------------------------------------------------------------


def test_the_seven_leaf_tree() -> None:
    tree = vector_json("tree-7")
    events = [hashlib.sha256(s.encode("ascii")).digest() for s in tree["event_hashes_of"]]
    assert [h.hex() for h in events] == tree["event_hashes"]
    leaves = [bytes.fromhex(h) for h in tree["leaf_hashes"]]
    # The product.
    assert [merkle.leaf_hash(h) for h in events] == leaves
    memory = merkle.MemoryTree(leaves)
    for size, root in tree["roots"].items():
        assert memory.root(int(size)).hex() == root
        assert merkle.root_of(leaves[: int(size)]).hex() == root
    assert merkle.root_of(leaves).hex() == tree["root"] == tree["roots"]["7"]
    # Independently.
    assert [rfc_leaf(h) for h in events] == leaves
    for size, root in tree["roots"].items():
        assert mth(leaves[: int(size)]).hex() == root


def test_the_inner_nodes() -> None:
    leaves = [bytes.fromhex(h) for h in vector_json("tree-7")["leaf_hashes"]]
    memory = merkle.MemoryTree(leaves)
    for span, value in vector_json("nodes").items():
        first, last = (int(x) for x in span.split(".."))
        assert mth(leaves[first : last + 1]).hex() == value
        assert merkle.range_hash(first, last + 1 - first, memory.lookup).hex() == value


def test_the_inclusion_proofs() -> None:
    tree = vector_json("tree-7")
    leaves = [bytes.fromhex(h) for h in tree["leaf_hashes"]]
    root = bytes.fromhex(tree["root"])
    memory = merkle.MemoryTree(leaves)
    assert [p["leaf_index"] for p in tree["inclusion"]] == [2, 5]
    for proof in tree["inclusion"]:
        index, size = proof["leaf_index"], proof["tree_size"]
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        assert memory.inclusion(index, size) == path
        merkle.verify_inclusion(index, size, leaves[index], path, root)
        assert rfc_path(index, leaves[:size]) == path
        assert rfc_verify_inclusion(index, size, leaves[index], path, root)
        # A wrong leaf, a wrong index or a shortened path proves nothing.
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaves[index - 1], path, root)
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index ^ 1, size, leaves[index], path, root)
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaves[index], path[:-1], root)
        assert not rfc_verify_inclusion(index, size, leaves[index - 1], path, root)


def test_the_consistency_proofs() -> None:
    tree = vector_json("tree-7")
    leaves = [bytes.fromhex(h) for h in tree["leaf_hashes"]]
    memory = merkle.MemoryTree(leaves)
    assert [(p["first"], p["second"]) for p in tree["consistency"]] == [(3, 7), (4, 7)]
    for proof in tree["consistency"]:
        first, second = proof["first"], proof["second"]
        hashes = [bytes.fromhex(h) for h in proof["proof"]]
        old = bytes.fromhex(tree["roots"][str(first)])
        new = bytes.fromhex(tree["roots"][str(second)])
        assert memory.consistency(first, second) == hashes
        merkle.verify_consistency(first, second, old, new, hashes)
        assert rfc_subproof(first, leaves[:second], True) == hashes
        assert rfc_verify_consistency(first, second, old, new, hashes)
        # Another old root (a rewritten history) is refused.
        other = bytes.fromhex(tree["roots"][str(first - 1)])
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(first, second, other, new, hashes)
        assert not rfc_verify_consistency(first, second, other, new, hashes)
    # Equal sizes: an empty proof and equal roots.
    root = bytes.fromhex(tree["root"])
    assert memory.consistency(7, 7) == []
    merkle.verify_consistency(7, 7, root, root, [])


def test_the_tree_against_the_rfc_6962_reference_roots() -> None:
    """certificate-transparency's test data: eight leaves of raw input and their roots."""
    inputs = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        bytes(range(0x50, 0x58)),
        bytes(range(0x60, 0x70)),
    ]
    roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    leaves = [merkle.leaf_hash(data) for data in inputs]
    for size, root in enumerate(roots, start=1):
        assert merkle.root_of(leaves[:size]).hex() == root
        assert mth([rfc_leaf(data) for data in inputs[:size]]).hex() == root
    assert merkle.root_of([]) == mth([]) == hashlib.sha256(b"").digest()


# --- 12.3 the test key and its checkpoints -------------------------------------------------------


def test_the_test_key() -> None:
    key = vector_json("test-key")
    seed = hashlib.sha256(key["seed_of"].encode("ascii")).digest()
    assert seed.hex() == key["seed"]
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = raw_public(private)
    key_id = c2sp_key_id(key["name"], public)
    assert public.hex() == key["public_key"]
    assert b64(public) == key["public_key_base64"]
    assert key_id.hex() == key["key_id"]
    assert key["verifier_key"] == f"{key['name']}+{key_id.hex()}+{b64(ED25519 + public)}"
    signer_file = vector_lines("signer-key")
    assert signer_file == f"PRIVATE+KEY+{key['name']}+{key_id.hex()}+{b64(ED25519 + seed)}\n"
    # The product reads and writes the same keys.
    signer = Signer.parse(signer_file)
    assert signer.serialise() == signer_file
    assert str(signer.verifier) == key["verifier_key"]
    verifier = Verifier.parse(key["verifier_key"])
    assert (verifier.name, verifier.public, verifier.key_id_hex) == (
        key["name"],
        public,
        key["key_id"],
    )
    assert signer.verifier == verifier


@pytest.mark.parametrize("index", [0, 1])
def test_the_signed_checkpoints(index: int) -> None:
    key = vector_json("test-key")
    entry = vector_json("checkpoints")[index]
    size = entry["tree_size"]
    tree = vector_json("tree-7")
    root = bytes.fromhex(tree["roots"][str(size)])
    note = vector_lines(f"note-{size}")
    assert entry["root_hash"] == b64(root)
    assert entry["text"] == f"{key['name']}\n{size}\n{b64(root)}\n"
    # Independently: Ed25519 is deterministic, so the signature and the note are fixed.
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key["seed"]))
    signature = private.sign(entry["text"].encode())
    assert signature.hex() == entry["signature"]
    key_id = bytes.fromhex(key["key_id"])
    assert note == f"{entry['text']}\n{DASH}{key['name']} {b64(key_id + signature)}\n"
    text = open_by_hand(note, key["name"], bytes.fromhex(key["public_key"]))
    assert checkpoint_by_hand(text) == (key["name"], size, root)
    # The product.
    signer = Signer.parse(vector_lines("signer-key"))
    assert Checkpoint(origin=key["name"], tree_size=size, root_hash=root).text() == entry["text"]
    assert signer.sign(entry["text"]) == note
    checkpoint, signed_by = read_checkpoint(note, [Verifier.parse(key["verifier_key"])])
    assert checkpoint == Checkpoint(origin=key["name"], tree_size=size, root_hash=root)
    assert str(signed_by) == key["verifier_key"]


def test_a_held_checkpoint_against_a_later_one() -> None:
    """Section 8 on the vectors: the note of 4 held outside, the note of 7 later."""
    key = vector_json("test-key")
    trusted = [Verifier.parse(key["verifier_key"])]
    held, _ = read_checkpoint(vector_lines("note-4"), trusted)
    later, _ = read_checkpoint(vector_lines("note-7"), trusted)
    assert held.origin == later.origin == key["name"]
    proof = next(p for p in vector_json("tree-7")["consistency"] if p["first"] == 4)
    hashes = [bytes.fromhex(h) for h in proof["proof"]]
    merkle.verify_consistency(4, 7, held.root_hash, later.root_hash, hashes)
    assert rfc_verify_consistency(4, 7, held.root_hash, later.root_hash, hashes)


def test_notes_are_refused_as_section_5_2_says() -> None:
    key = vector_json("test-key")
    trusted = [Verifier.parse(key["verifier_key"])]
    note = vector_lines("note-7")
    # A changed text under a trusted key's signature rejects the note.
    with pytest.raises(NoteError, match="is wrong"):
        open_note(note.replace("\n7\n", "\n8\n"), trusted)
    with pytest.raises(InvalidSignature):
        open_by_hand(note.replace("\n7\n", "\n8\n"), key["name"], bytes.fromhex(key["public_key"]))
    # A note no trusted key signed is refused; an unknown key's signature is ignored.
    other = Signer.generate(key["name"])
    with pytest.raises(NoteError, match="no key of this log signed"):
        open_note(note, [other.verifier])
    both = note + other.sign(note[: note.rindex("\n\n") + 1]).split("\n\n")[-1]
    assert open_note(both, trusted)[0] == note[: note.rindex("\n\n") + 1]


def test_the_go_and_c2sp_reference_notes() -> None:
    """golang.org/x/mod/sumdb/note's example key and note, and the C2SP specification's."""
    skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    text = (
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n"
    )
    signature = (
        "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6Ryy"
        "BwJnAM="
    )
    note = f"{text}\n{DASH}PeterNeumann {signature}\n"
    signer = Signer.parse(skey)
    assert str(signer.verifier) == vkey
    assert signer.sign(text) == note
    assert signer.serialise() == skey + "\n"
    assert open_note(note, [Verifier.parse(vkey)])[0] == text
    seed = base64.b64decode(skey.split("+", 4)[4])[1:]
    public = raw_public(Ed25519PrivateKey.from_private_bytes(seed))
    assert c2sp_key_id("PeterNeumann", public).hex() == "c74f20a3"
    assert open_by_hand(note, "PeterNeumann", public) == text

    spec_key = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    spec_note = (
        "This is an example message.\n\n"
        f"{DASH}example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsY"
        "jOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
    )
    assert open_note(spec_note, [Verifier.parse(spec_key)])[0] == "This is an example message.\n"


# --- 12.4 bundles --------------------------------------------------------------------------------


def _bundle_lines(name: str) -> list[dict[str, Any]]:
    content = vector_lines(name, "jsonl")
    lines = content.split("\n")
    assert lines[-1] == ""
    parsed = [json.loads(line) for line in lines[:-1]]
    # Each line is exactly what the writer emits.
    for line, obj in zip(lines, parsed, strict=False):
        assert line == json.dumps(obj, ensure_ascii=False, sort_keys=True)
    return parsed


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_the_version_2_bundle_by_hand() -> None:
    key = vector_json("test-key")
    header, *entries = _bundle_lines("bundle-v2")
    assert set(header) == {
        "format",
        "version",
        "exported_at",
        "origin",
        "tree_size",
        "checkpoint",
        "verifier_key",
    }
    assert (header["format"], header["version"]) == ("kla-trail-bundle", 2)
    assert header["verifier_key"] == key["verifier_key"]
    assert header["checkpoint"] == vector_lines("note-3")
    text = open_by_hand(header["checkpoint"], key["name"], bytes.fromhex(key["public_key"]))
    origin, size, root = checkpoint_by_hand(text)
    assert (header["origin"], header["tree_size"]) == (origin, size)
    events = [e for e in entries if e["type"] == "event"]
    heads = [e for e in entries if e["type"] == "head"]
    assert entries == [*events, *heads]  # the events, then the heads, nothing else
    leaves = []
    last: dict[str, tuple[int, str]] = {}
    for index, line in enumerate(events):
        assert set(line) == {"type", "leaf_index", *EVENT_FIELDS}
        assert line["leaf_index"] == index
        record = {name: line[name] for name in EVENT_FIELDS}
        assert record == event(str(index + 1))
        assert independent_hash(record) == record["hash"]
        seq, previous = last.get(record["stream"], (0, ZEROS))
        assert (record["seq"], record["prev_hash"]) == (seq + 1, previous)
        last[record["stream"]] = (record["seq"], record["hash"])
        leaves.append(rfc_leaf(bytes.fromhex(record["hash"])))
    assert len(leaves) == size
    assert mth(leaves) == root
    tree = vector_json("bundle-tree")
    assert [h.hex() for h in leaves] == tree["leaf_hashes"]
    assert root.hex() == tree["root"]
    assert b64(root) == tree["root_base64"]
    for head in heads:
        assert set(head) == {"type", "stream", "seq", "hash"}
        assert last.pop(head["stream"]) == (head["seq"], head["hash"])
    assert last == {}


def test_the_version_2_bundle_verifies(tmp_path: Path) -> None:
    key = vector_json("test-key")
    file = vector_json("file")
    verifier = Verifier.parse(key["verifier_key"])
    path = _write(tmp_path, "bundle.jsonl", vector_lines("bundle-v2", "jsonl"))
    result = verify_bundle(path, keys=[verifier])
    assert result.intact, (result.breaks, result.problems)
    assert (result.version, result.tree_size, result.signed_by) == (2, 3, verifier)
    assert result.warnings == []
    # The upload that names the file: its stream, seq and file name (and how to call it).
    assert list(result.uploads) == [file["sha256"]]
    assert [u[:3] for u in result.uploads[file["sha256"]]] == [("submission:42", 2, file["name"])]
    # Without a key of one's own: the bundle's, with a warning.
    alone = verify_bundle(path)
    assert alone.intact
    assert len(alone.warnings) == 1
    assert "own key" in alone.warnings[0]
    # The command, offline (no database in this test), with the downloaded file.
    evidence = tmp_path / "evidence.pdf"
    evidence.write_bytes(file["content"].encode("utf-8"))
    out = StringIO()
    call_command(
        "verify_trail",
        "--bundle",
        str(path),
        "--key",
        key["verifier_key"],
        "--file",
        str(evidence),
        stdout=out,
        stderr=StringIO(),
    )
    said = out.getvalue()
    assert f"sha256 {file['sha256']} matches" in said
    assert "trail intact: 1 streams, 3 events; signed by" in said
    assert "tree size 3" in said


def test_a_changed_version_2_bundle_fails(tmp_path: Path) -> None:
    key = vector_json("test-key")
    verifier = Verifier.parse(key["verifier_key"])
    content = vector_lines("bundle-v2", "jsonl")
    changed = content.replace("Mohon diperiksa.", "Mohon diperiksa lagi.")
    result = verify_bundle(_write(tmp_path, "changed.jsonl", changed), keys=[verifier])
    assert [str(b) for b in result.breaks] == [
        "stream submission:42 seq 3: content does not match its hash"
    ]
    # Another key than the one that signed: the checkpoint is refused.
    other = Signer.generate(key["name"]).verifier
    refused = verify_bundle(_write(tmp_path, "same.jsonl", content), keys=[other])
    assert not refused.intact
    assert any("no key of this log signed" in p for p in refused.problems)
    with pytest.raises(CommandError, match="does not verify"):
        call_command(
            "verify_trail",
            "--bundle",
            str(tmp_path / "same.jsonl"),
            "--key",
            str(other),
            stdout=StringIO(),
            stderr=StringIO(),
        )


def test_the_version_1_bundle(tmp_path: Path) -> None:
    header, *entries = _bundle_lines("bundle-v1")
    assert header == {
        "format": "kla-trail-bundle",
        "version": 1,
        "exported_at": header["exported_at"],
    }
    line = entries[0]
    assert {name: line[name] for name in EVENT_FIELDS} == event("1")
    assert set(line) == {"type", *EVENT_FIELDS}
    assert entries[1] == {
        "type": "head",
        "stream": "submission:42",
        "seq": 1,
        "hash": event("1")["hash"],
    }
    result = verify_bundle(_write(tmp_path, "v1.jsonl", vector_lines("bundle-v1", "jsonl")))
    assert result.intact
    assert result.version == 1
    assert result.warnings == [f"version 1 bundle: {UNANCHORED}"]
    assert UNANCHORED == "unsigned, not anchored"
