"""The Merkle tree of RFC 9162 section 2.1, its proofs and their verification; no database.

Hashes are bytes here. A leaf's input is an event's 32 hash bytes:

    leaf hash  = SHA-256(0x00 || event hash)
    node hash  = SHA-256(0x01 || left || right)
    MTH({})    = SHA-256()

A tree of ``n`` leaves splits at ``k``, the largest power of two smaller than ``n``. Every
subtree a root or a proof needs is then made of *complete* subtrees: ``2**level`` leaves
starting at ``index * 2**level``. ``perfect_parts`` names them, so that a store of complete
subtree hashes (the log's node table) answers any root or proof in a logarithmic number of
lookups; ``Frontier`` keeps the right edge of a growing tree in memory, for the sequencer and
for verifying a bundle of any size in constant memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

Node = tuple[int, int]  # (level, index): leaves index * 2**level .. (index + 1) * 2**level - 1
Range = tuple[int, int]  # (start, size)

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not prove what it claims."""


def leaf_hash(event_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + event_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def perfect_parts(start: int, size: int) -> list[Node]:
    """The complete subtrees that make up the leaves ``start .. start + size - 1``, left first.

    ``start`` must be aligned as the ranges of RFC 9162's trees and proofs are.
    """
    parts: list[Node] = []
    while size:
        if size & (size - 1) == 0 and start % size == 0:
            level = size.bit_length() - 1
            parts.append((level, start >> level))
            return parts
        k = split(size)
        level = k.bit_length() - 1
        if start % k:
            raise ValueError(f"range {start}+{size} is not aligned")
        parts.append((level, start >> level))
        start, size = start + k, size - k
    return parts


def range_hash(start: int, size: int, lookup: Callable[[Node], bytes]) -> bytes:
    """MTH of the leaves ``start .. start + size - 1`` from the complete subtrees' hashes."""
    if size == 0:
        return EMPTY_ROOT
    hashes = [lookup(part) for part in perfect_parts(start, size)]
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes make up PATH(index, D[size]), in the RFC's order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[Range] = []
    start = 0
    trail: list[Range] = []
    while size > 1:
        k = split(size)
        if index < k:
            trail.append((start + k, size - k))
            size = k
        else:
            trail.append((start, k))
            start, index, size = start + k, index - k, size - k
    path.extend(reversed(trail))
    return path


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees whose hashes make up PROOF(first, D[second]), in the RFC's order."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    out: list[Range] = []

    def subproof(m: int, start: int, n: int, whole: bool) -> None:
        if m == n:
            if not whole:
                out.append((start, n))
            return
        k = split(n)
        if m <= k:
            subproof(m, start, k, whole)
            out.append((start + k, n - k))
        else:
            subproof(m - k, start + k, n - k, False)
            out.append((start, k))

    subproof(first, 0, second, True)
    return out


@dataclass
class Frontier:
    """The right edge of a tree that grows leaf by leaf: one complete subtree per bit of size.

    ``push`` returns the complete subtrees it finished (for a node store); ``root`` is MTH.
    """

    size: int = 0
    stack: list[tuple[int, bytes]] = field(default_factory=list)

    def push(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        index = self.size
        self.stack.append((0, leaf))
        self.size += 1
        made: list[tuple[Node, bytes]] = []
        while len(self.stack) > 1 and self.stack[-1][0] == self.stack[-2][0]:
            level, right = self.stack.pop()
            _, left = self.stack.pop()
            joined = node_hash(left, right)
            self.stack.append((level + 1, joined))
            made.append(((level + 1, index >> (level + 1)), joined))
        return made

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        acc = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            acc = node_hash(left, acc)
        return acc

    @staticmethod
    def nodes_for(size: int) -> list[Node]:
        """The complete subtrees a frontier of ``size`` leaves holds, largest first."""
        return perfect_parts(0, size) if size else []

    @classmethod
    def of(cls, size: int, hashes: Sequence[bytes]) -> Frontier:
        """A frontier from the hashes of ``nodes_for(size)``, in that order."""
        nodes = cls.nodes_for(size)
        stack = [(level, h) for (level, _), h in zip(nodes, hashes, strict=True)]
        return cls(size=size, stack=stack)


def root_of(leaves: Iterable[bytes]) -> bytes:
    frontier = Frontier()
    for leaf in leaves:
        frontier.push(leaf)
    return frontier.root()


class MemoryTree:
    """Every complete subtree of a list of leaves, for tests, vectors and offline proofs."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    def lookup(self, node: Node) -> bytes:
        level, index = node
        return self.levels[level][index]

    def root(self, size: int) -> bytes:
        return range_hash(0, size, self.lookup)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return [range_hash(s, n, self.lookup) for s, n in inclusion_ranges(index, size)]

    def consistency(self, first: int, second: int) -> list[bytes]:
        return [range_hash(s, n, self.lookup) for s, n in consistency_ranges(first, second)]


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 section 2.1.3.2; raises ``ProofError`` unless the path proves the leaf."""
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    if r != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 section 2.1.4.2; raises ``ProofError`` unless the trees are consistent."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency between sizes {first} and {second}")
    if first == second:
        if proof:
            raise ProofError("trees of equal size take an empty proof")
        if first_root != second_root:
            raise ProofError("equal sizes with different roots")
        return
    items = list(proof)
    if first & (first - 1) == 0:
        items.insert(0, first_root)
    if not items:
        raise ProofError("the consistency proof is empty")
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = items[0]
    for c in items[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != first_root:
        raise ProofError(f"the proof does not lead to the root of size {first}")
    if sr != second_root:
        raise ProofError(f"the proof does not lead to the root of size {second}")
