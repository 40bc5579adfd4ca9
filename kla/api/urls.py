"""The JSON API's URLs, included at /api/v1/.

Ids are matched as any path segment and parsed by the views, so that a non-integer id is a
JSON 404 like any other id the caller may not see.
"""

from __future__ import annotations

from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView

from kla.api import (
    auth,
    bodies,
    compliance,
    coverage,
    evidence,
    exports,
    findings,
    findings_matrix,
    instructions,
    monitoring,
    nihil,
    notifications,
    requirements,
    submissions,
    trail_log,
)

app_name = "api"

urlpatterns: list[URLPattern] = [
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("auth/tokens/", auth.TokenListView.as_view(), name="auth-tokens"),
    path("auth/tokens/<str:token_id>/", auth.TokenDetailView.as_view(), name="auth-token"),
    path("auth/logout/", auth.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", auth.LogoutAllView.as_view(), name="auth-logout-all"),
    path("bodies/", bodies.BodyListView.as_view(), name="bodies"),
    path("instructions/", instructions.InstructionListView.as_view(), name="instructions"),
    path("nihil/", nihil.NihilView.as_view(), name="nihil"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("submissions/", submissions.SubmissionListView.as_view(), name="submissions"),
    path(
        "submissions/<str:submission_id>/",
        submissions.SubmissionDetailView.as_view(),
        name="submission",
    ),
    path(
        "submissions/<str:submission_id>/evidence/",
        evidence.EvidenceListView.as_view(),
        name="evidence",
    ),
    path(
        "submissions/<str:submission_id>/evidence/<str:evidence_id>/",
        evidence.EvidenceDetailView.as_view(),
        name="evidence-item",
    ),
    path(
        "submissions/<str:submission_id>/actions/",
        submissions.ActionView.as_view(),
        name="actions",
    ),
    path("submissions/<str:submission_id>/trail/", submissions.TrailView.as_view(), name="trail"),
    path("tasks/", submissions.TaskListView.as_view(), name="tasks"),
    path("notifications/", notifications.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/read/",
        notifications.NotificationReadAllView.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/<str:notification_id>/read/",
        notifications.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path("compliance/", compliance.ComplianceView.as_view(), name="compliance"),
    path(
        "compliance/reminders/",
        monitoring.ComplianceReminderView.as_view(),
        name="compliance-reminders",
    ),
    path("monitoring-notes/", monitoring.MonitoringNoteListView.as_view(), name="monitoring-notes"),
    path("findings/", findings.FindingListView.as_view(), name="findings"),
    path("findings/matrix/", findings_matrix.FindingMatrixView.as_view(), name="findings-matrix"),
    path("findings/<str:finding_id>/", findings.FindingDetailView.as_view(), name="finding"),
    path(
        "findings/<str:finding_id>/files/<str:file_id>/",
        findings.FollowUpFileView.as_view(),
        name="finding-file",
    ),
    path(
        "findings/<str:finding_id>/recommendations/",
        findings.RecommendationListView.as_view(),
        name="finding-recommendations",
    ),
    path(
        "findings/<str:finding_id>/recommendations/<str:recommendation_id>/follow-ups/",
        findings.FollowUpView.as_view(),
        name="finding-follow-ups",
    ),
    path(
        "findings/<str:finding_id>/recommendations/<str:recommendation_id>/assessment/",
        findings.AssessmentView.as_view(),
        name="finding-assessment",
    ),
    path("trail/key/", trail_log.TrailKeyView.as_view(), name="trail-key"),
    path("trail/checkpoints/", trail_log.CheckpointListView.as_view(), name="trail-checkpoints"),
    path(
        "trail/checkpoints/latest/",
        trail_log.CheckpointLatestView.as_view(),
        name="trail-checkpoint-latest",
    ),
    path(
        "trail/proof/inclusion/",
        trail_log.InclusionProofView.as_view(),
        name="trail-proof-inclusion",
    ),
    path(
        "trail/proof/consistency/",
        trail_log.ConsistencyProofView.as_view(),
        name="trail-proof-consistency",
    ),
    path("coverage/", coverage.CoverageView.as_view(), name="coverage"),
    path("requirements/", requirements.RequirementListView.as_view(), name="requirements"),
    path("exports/", exports.ExportListView.as_view(), name="exports"),
    path("exports/<str:export_id>/", exports.ExportDetailView.as_view(), name="export"),
    path(
        "exports/<str:export_id>/download/",
        exports.ExportDownloadView.as_view(),
        name="export-download",
    ),
]
