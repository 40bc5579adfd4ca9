"""The engine's records, one module a subject; Django registers them all with this app."""

from workflows.models.followup import NoticeKind, RecommendationNotice
from workflows.models.heartbeat import Heartbeat
from workflows.models.monitoring import ManualReminder, MonitoringNote
from workflows.models.notifications import Notification
from workflows.models.sla import (
    CalendarDay,
    CalendarRevision,
    DayKind,
    DueRecompute,
    Escalation,
    NihilDeclaration,
    Reminder,
    Timer,
)
from workflows.models.summaries import (
    COVERAGE_SHARDS,
    ComplianceCell,
    CoverageCount,
    CoverageReach,
    CoverageTotal,
)
from workflows.models.supervision import (
    Finding,
    FindingStatus,
    FollowUpEntry,
    FollowUpFile,
    FollowUpKind,
    Recommendation,
    RecommendationStatus,
)
from workflows.models.trail import (
    GENESIS_HASH,
    CheckpointMail,
    TrailCheckpoint,
    TrailEvent,
    TrailKey,
    TrailLeaf,
    TrailNode,
    TrailStream,
)

__all__ = [
    "COVERAGE_SHARDS",
    "GENESIS_HASH",
    "CalendarDay",
    "CalendarRevision",
    "CheckpointMail",
    "ComplianceCell",
    "CoverageCount",
    "CoverageReach",
    "CoverageTotal",
    "DayKind",
    "DueRecompute",
    "Escalation",
    "Finding",
    "FindingStatus",
    "FollowUpEntry",
    "FollowUpFile",
    "FollowUpKind",
    "Heartbeat",
    "ManualReminder",
    "MonitoringNote",
    "NihilDeclaration",
    "NoticeKind",
    "Notification",
    "Recommendation",
    "RecommendationNotice",
    "RecommendationStatus",
    "Reminder",
    "Timer",
    "TrailCheckpoint",
    "TrailEvent",
    "TrailKey",
    "TrailLeaf",
    "TrailNode",
    "TrailStream",
]
