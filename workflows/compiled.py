"""Statements compiled once per process, with stand-ins for the values that change.

Building the ORM's subqueries anew on every action cost more than running them; the hot
statements of an action (``workflows.locked_read``, ``workflows.summaries``,
``workflows.notifications.write``) are compiled once with stand-ins in place of the ids,
names and values of one call, and ``bind`` puts that call's values in their places.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class Mark:
    """A stand-in for a value in a hand-written part of a compiled statement."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<mark {self.name}>"


def bind(params: Iterable[Any], marks: Mapping[Any, Any]) -> list[Any]:
    """A compiled statement's parameters with each stand-in replaced by this call's value.

    A stand-in is a ``Mark``, or an int or a text the ORM compiled into the statement that no
    real value takes (a large negative id, a name with a NUL in it).
    """
    return [marks.get(p, p) if isinstance(p, int | str | Mark) else p for p in params]
