"""What a returned submission changed before it came back, read from its trail.

The submit and resubmit events hold a whole snapshot (fields, indicators, details and every
file with its kind and requirements). The version that was returned is the snapshot of the
last submit or resubmit before the latest return; it is compared with the next resubmit, or,
while the operator is still revising, with the submission as it is now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from kla.details import FIELDS
from kla.models import Evidence, Submission
from workflows.models import TrailEvent

HANDED_IN = ("submit", "resubmit")


@dataclass(frozen=True)
class FieldChange:
    """One field, as it was returned and as it is (or was handed in again)."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class FileEntry:
    """A file in one of the two versions."""

    name: str
    sha256: str
    kind: str
    requirements: tuple[str, ...]


@dataclass
class Resubmission:
    """The latest return and what has changed since the version it returned."""

    returned: TrailEvent
    answered: TrailEvent | None
    fields: list[FieldChange] = field(default_factory=list)
    added: list[FileEntry] = field(default_factory=list)
    removed: list[FileEntry] = field(default_factory=list)
    retagged: list[tuple[FileEntry, FileEntry]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.added or self.removed or self.retagged)


def changes_since_return(
    submission: Submission, events: Sequence[TrailEvent], current: Sequence[Evidence]
) -> Resubmission | None:
    """The latest return of ``events`` (the submission's trail in order) and what changed
    since; None when it was never returned or the returned version is not in the trail."""
    returns = [i for i, e in enumerate(events) if e.action == "return"]
    if not returns:
        return None
    at = returns[-1]
    before = next((e for e in reversed(events[:at]) if e.action in HANDED_IN), None)
    if before is None:
        return None
    answered = next((e for e in events[at + 1 :] if e.action == "resubmit"), None)
    then = _snapshot(before)
    now = _snapshot(answered) if answered is not None else _live(submission, current)
    result = Resubmission(returned=events[at], answered=answered)
    result.fields = _field_changes(submission.category, then, now)
    old, new = then["files"], now["files"]
    result.added = [new[sha] for sha in new if sha not in old]
    result.removed = [old[sha] for sha in old if sha not in new]
    result.retagged = [
        (old[sha], new[sha])
        for sha in new
        if sha in old
        and (old[sha].kind, old[sha].requirements) != (new[sha].kind, new[sha].requirements)
    ]
    return result


def _snapshot(event: TrailEvent) -> dict[str, Any]:
    data = event.data or {}
    tags = data.get("files") or []
    files = {}
    for i, file in enumerate(event.files or []):
        tag = tags[i] if i < len(tags) else {}
        files[file["sha256"]] = FileEntry(
            name=file["name"],
            sha256=file["sha256"],
            kind=str(tag.get("kind", "")),
            requirements=tuple(tag.get("requirements", ())),
        )
    return {
        "title": data.get("title", ""),
        "description": data.get("description", ""),
        "years": list(data.get("years") or []),
        "indicators": list(data.get("indicators") or []),
        "details": dict(data.get("details") or {}),
        "files": files,
    }


def _live(submission: Submission, current: Sequence[Evidence]) -> dict[str, Any]:
    return {
        "title": submission.title,
        "description": submission.description,
        "years": list(submission.years),
        "indicators": sorted(submission.indicators.values_list("number", flat=True)),
        "details": dict(submission.details),
        "files": {
            e.sha256: FileEntry(
                name=e.name,
                sha256=e.sha256,
                kind=e.kind,
                requirements=tuple(sorted(r.code for r in e.requirements.all())),
            )
            for e in current
        },
    }


def _field_changes(category: str, then: dict[str, Any], now: dict[str, Any]) -> list[FieldChange]:
    def plain(value: Any) -> str:
        if value in (None, "", []):
            return "—"
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    changes = [
        FieldChange(str(label), plain(then[key]), plain(now[key]))
        for key, label in (
            ("title", _("Judul")),
            ("description", _("Uraian")),
            ("years", _("Tahun")),
            ("indicators", _("Indikator")),
        )
        if then[key] != now[key]
    ]
    for spec in FIELDS[category]:
        old, new = then["details"].get(spec.name), now["details"].get(spec.name)
        if old != new:
            shown_old = "—" if old in (None, "", []) else spec.display(old)
            shown_new = "—" if new in (None, "", []) else spec.display(new)
            changes.append(FieldChange(str(spec.label), shown_old, shown_new))
    return changes
