"""URLs of the pages, in Indonesian as the people who use them read them."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path
from django.views.generic import RedirectView

from . import compliance_views, consolidation_views, notification_views, sla, trail_views, views

urlpatterns: list[URLPattern] = [
    path("", RedirectView.as_view(pattern_name="tasks", permanent=False), name="home"),
    path(
        "masuk/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("sandi/lupa/", auth_views.PasswordResetView.as_view(), name="password_reset"),
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
    path("tugas/", views.tasks, name="tasks"),
    path("nihil/", sla.nihil, name="nihil"),
    path("pengajuan/", views.submission_list, name="submission-list"),
    path("pengajuan/baru/<str:category>/", views.submission_new, name="submission-new"),
    path("pengajuan/<int:pk>/", views.submission_detail, name="submission-detail"),
    path("pengajuan/<int:pk>/ubah/", views.submission_edit, name="submission-edit"),
    path("pengajuan/<int:pk>/aksi/", views.submission_action, name="submission-action"),
    path("pengajuan/<int:pk>/bukti/", views.evidence_upload, name="evidence-upload"),
    path("pengajuan/<int:pk>/bukti/<int:eid>/", views.evidence_file, name="evidence-download"),
    path(
        "pengajuan/<int:pk>/bukti/<int:eid>/hapus/",
        views.evidence_delete,
        name="evidence-remove",
    ),
    path("jejak/", trail_views.trail_list, name="trail-list"),
    path("jejak/unduh/<str:fmt>/", trail_views.trail_download, name="trail-download"),
    path("cakupan/", consolidation_views.coverage, name="coverage"),
    path(
        "cakupan/<int:number>/", consolidation_views.coverage_indicator, name="coverage-indicator"
    ),
    path("konsolidasi/", consolidation_views.consolidation, name="consolidation"),
    path("ekspor/", consolidation_views.exports, name="exports"),
    path("ekspor/<int:pk>/unduh/", consolidation_views.export_file, name="export-file"),
    path("kepatuhan/", compliance_views.compliance, name="compliance"),
    path("notifikasi/", notification_views.notification_list, name="notifications"),
    path(
        "notifikasi/baca-semua/",
        notification_views.notification_read_all,
        name="notifications-read-all",
    ),
    path("notifikasi/<int:pk>/", notification_views.notification_open, name="notification-open"),
]
