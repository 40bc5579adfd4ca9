"""URLs of the pages, in Indonesian as the people who use them read them."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path
from django.views.generic import RedirectView

from kla.web import sessions
from kla.web.views import (
    bodies,
    compliance,
    consolidation,
    coverage,
    evidence,
    exports,
    finding_matrix,
    findings,
    instructions,
    monitoring,
    nihil,
    notifications,
    password,
    requirements,
    submissions,
    tasks,
    trail,
)

urlpatterns: list[URLPattern] = [
    path("", RedirectView.as_view(pattern_name="tasks", permanent=False), name="home"),
    path(
        "masuk/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("sesi/lanjut/", sessions.session_resume, name="session-resume"),
    path("sandi/lupa/", password.ThrottledPasswordResetView.as_view(), name="password_reset"),
    path(
        "sandi/lupa/terkirim/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "sandi/atur/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "sandi/atur/selesai/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("tugas/", tasks.tasks, name="tasks"),
    path("perangkat/cari/", bodies.body_search_page, name="body-search"),
    path("instruksi/pilih/", instructions.instruction_choose, name="instruction-choose"),
    path("nihil/", nihil.nihil, name="nihil"),
    path("pengajuan/", submissions.submission_list, name="submission-list"),
    path("pengajuan/baru/<str:category>/", submissions.submission_new, name="submission-new"),
    path("pengajuan/<int:pk>/", submissions.submission_detail, name="submission-detail"),
    path("pengajuan/<int:pk>/ubah/", submissions.submission_edit, name="submission-edit"),
    path("pengajuan/<int:pk>/aksi/", submissions.submission_action, name="submission-action"),
    path("pengajuan/<int:pk>/bukti/", evidence.evidence_upload, name="evidence-upload"),
    path("pengajuan/<int:pk>/bukti/<int:eid>/", evidence.evidence_file, name="evidence-download"),
    path(
        "pengajuan/<int:pk>/bukti/<int:eid>/lihat/",
        evidence.evidence_view,
        name="evidence-view",
    ),
    path(
        "pengajuan/<int:pk>/bukti/<int:eid>/tampil/",
        evidence.evidence_inline,
        name="evidence-inline",
    ),
    path(
        "pengajuan/<int:pk>/bukti/<int:eid>/hapus/",
        evidence.evidence_delete,
        name="evidence-remove",
    ),
    path(
        "pengajuan/<int:pk>/bukti/<int:eid>/jenis/",
        evidence.evidence_tag_change,
        name="evidence-tag",
    ),
    path("jejak/", trail.trail_list, name="trail-list"),
    path("jejak/unduh/<str:fmt>/", trail.trail_download, name="trail-download"),
    path("jejak/bukti/<int:pk>/", trail.trail_proof, name="trail-proof"),
    path("jejak/bundel/", trail.trail_bundle, name="trail-bundle"),
    path("cakupan/", coverage.coverage, name="coverage"),
    path("cakupan/<int:number>/", coverage.coverage_indicator, name="coverage-indicator"),
    path("data-dukung/", requirements.requirement_list, name="requirements"),
    path("data-dukung/baru/", requirements.requirement_new, name="requirement-new"),
    path("data-dukung/<int:pk>/ubah/", requirements.requirement_edit, name="requirement-edit"),
    path("data-dukung/<int:pk>/hapus/", requirements.requirement_remove, name="requirement-remove"),
    path("konsolidasi/", consolidation.consolidation, name="consolidation"),
    path("ekspor/", exports.exports, name="exports"),
    path("ekspor/<int:pk>/unduh/", exports.export_file, name="export-file"),
    path("kepatuhan/", compliance.compliance, name="compliance"),
    path("kepatuhan/ingatkan/", monitoring.compliance_remind_page, name="compliance-remind"),
    path("monitoring/", monitoring.monitoring, name="monitoring"),
    path("temuan/", findings.finding_list, name="finding-list"),
    path("temuan/baru/", findings.finding_new, name="finding-new"),
    path("temuan/matriks/", finding_matrix.finding_matrix, name="finding-matrix"),
    path("temuan/<int:pk>/", findings.finding_detail, name="finding-detail"),
    path("temuan/<int:pk>/berkas/<int:fid>/", findings.finding_file, name="finding-file"),
    path(
        "temuan/<int:pk>/rekomendasi/<int:rid>/tindak-lanjut/",
        findings.finding_follow_up,
        name="finding-follow-up",
    ),
    path(
        "temuan/<int:pk>/rekomendasi/<int:rid>/penilaian/",
        findings.finding_assess,
        name="finding-assess",
    ),
    path("notifikasi/", notifications.notification_list, name="notifications"),
    path(
        "notifikasi/baca-semua/",
        notifications.notification_read_all,
        name="notifications-read-all",
    ),
    path("notifikasi/<int:pk>/", notifications.notification_open, name="notification-open"),
]
