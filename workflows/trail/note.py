"""C2SP signed notes with Ed25519, and the C2SP tlog-checkpoint text they carry; no database.

- A checkpoint's text: the origin line, the tree size in decimal, the root hash in base64
  (standard alphabet, padded), each followed by a newline; no extension lines.
- A signed note: the text, a blank line, then one line per signature:
  ``— <key name> base64(4-byte key ID || 64-byte Ed25519 signature of the text)``.
- Key ID: the first four bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key).
- Verifier key (published): ``<name>+<key ID, 8 hex digits>+base64(0x01 || public key)``.
- Signer key (the private key file, as Go's golang.org/x/mod/sumdb/note writes it):
  ``PRIVATE+KEY+<name>+<key ID>+base64(0x01 || 32-byte private seed)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ED25519 = b"\x01"
DASH = "\u2014 "
MAX_NOTE = 64 * 1024
MAX_SIGNATURES = 16
# Key names: no spaces, no plus signs, never empty (c2sp.org/signed-note).
NAME = re.compile(r"^[^\s+]+$")
# A tree size: ASCII decimal without leading zeros (c2sp.org/tlog-checkpoint).
DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,19})$", re.ASCII)


class NoteError(ValueError):
    """A note, key or checkpoint that cannot be read or does not verify."""


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"not base64: {text[:40]!r}") from None


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise NoteError(f"a key name has no spaces or plus signs and is not empty: {name!r}")


@dataclass(frozen=True)
class Verifier:
    """A note verifier key: a name and an Ed25519 public key."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public)

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    def __str__(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public).decode()
        return f"{self.name}+{self.key_id_hex}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)  # base64 may hold plus signs; names may not
        if len(parts) != 3:
            raise NoteError("a verifier key reads <name>+<key id>+<base64 key>")
        name, hex_id, encoded = parts
        _check_name(name)
        raw = _b64decode(encoded)
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 key")
        verifier = cls(name=name, public=raw[1:])
        if verifier.key_id_hex != hex_id.lower():
            raise NoteError("the verifier key's id does not match its name and key")
        return verifier

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A note signer key: a name and an Ed25519 private key (never stored in the database)."""

    name: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        return cls(name=name, private=Ed25519PrivateKey.generate())

    @property
    def verifier(self) -> Verifier:
        public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(name=self.name, public=public)

    def serialise(self) -> str:
        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(ED25519 + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id_hex}+{encoded}\n"

    @classmethod
    def parse(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key reads PRIVATE+KEY+<name>+<key id>+<base64 key>")
        _, _, name, hex_id, encoded = parts
        _check_name(name)
        raw = _b64decode(encoded)
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("the signer key is not an Ed25519 key")
        signer = cls(name=name, private=Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier.key_id_hex != hex_id.lower():
            raise NoteError("the signer key's id does not match its name and key")
        return signer

    def sign(self, text: str) -> str:
        """The signed note of ``text`` (which ends in a newline)."""
        if not text.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        body = text.encode()
        signature = self.private.sign(body)
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{DASH}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


def split_note(note: str) -> tuple[str, list[Signature]]:
    """The text and the signature lines of a signed note (nothing verified yet)."""
    if len(note) > MAX_NOTE:
        raise NoteError("the note is too long")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("a note holds no control characters other than newlines")
    if not note.endswith("\n"):
        raise NoteError("a signed note ends with a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("no blank line between the text and the signatures")
    text, block = note[: cut + 1], note[cut + 2 :]
    signatures: list[Signature] = []
    for line in block.splitlines():
        if not line.startswith(DASH):
            raise NoteError(f"not a signature line: {line[:60]!r}")
        name, _, encoded = line[len(DASH) :].partition(" ")
        raw = _b64decode(encoded)
        if not name or len(raw) < 5:
            raise NoteError(f"a malformed signature line: {line[:60]!r}")
        signatures.append(Signature(name=name, key_id=raw[:4], signature=raw[4:]))
    if not signatures:
        raise NoteError("the note has no signature")
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError("the note has too many signatures")
    return text, signatures


def open_note(note: str, verifiers: list[Verifier]) -> tuple[str, Verifier]:
    """The text of a note that one of ``verifiers`` signed, and that key.

    Signatures of unknown keys are ignored; a known key's signature that fails rejects the
    note, and so does a note that no known key signed (c2sp.org/signed-note).
    """
    text, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    signed_by: Verifier | None = None
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(text.encode(), sig.signature):
            raise NoteError(f"the signature of {verifier.name} ({verifier.key_id_hex}) is wrong")
        signed_by = signed_by or verifier
    if signed_by is None:
        names = ", ".join(f"{s.name} ({s.key_id.hex()})" for s in signatures)
        raise NoteError(f"no key of this log signed the note (signed by: {names})")
    return text, signed_by


@dataclass(frozen=True)
class Checkpoint:
    """The C2SP tlog-checkpoint text: origin, tree size, root hash (bytes)."""

    origin: str
    tree_size: int
    root_hash: bytes

    def text(self) -> str:
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.tree_size}\n{root}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a tree size and a root hash line")
        origin, size, root = lines[0], lines[1], lines[2]
        if not origin:
            raise NoteError("the checkpoint's origin is empty")
        if not DECIMAL.match(size):
            raise NoteError(f"the checkpoint's tree size is not a number: {size!r}")
        root_hash = _b64decode(root)
        if len(root_hash) != 32:
            raise NoteError("the checkpoint's root hash is not 32 bytes")
        return cls(origin=origin, tree_size=int(size), root_hash=root_hash)


def read_checkpoint(note: str, verifiers: list[Verifier]) -> tuple[Checkpoint, Verifier]:
    """A signed checkpoint opened with the log's keys: refused unless one of them signed it."""
    text, verifier = open_note(note, verifiers)
    return Checkpoint.parse(text), verifier
