from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from workflows.trail.guard import register_sqlite_function


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Alur kerja dan jejak")

    def ready(self) -> None:
        # Receivers are connected once every model is loaded (Django's way for signals): the
        # trail of changes of rights (memberships, roles, per-body permissions), the trail of
        # changes of instructions, the calendar and bodies, and the SLA recomputations.
        from workflows.sla import receivers as sla_receivers
        from workflows.summaries import backfill
        from workflows.trail import changes as trail_changes
        from workflows.trail import receivers as trail_receivers

        connection_created.connect(register_sqlite_function, dispatch_uid="kla_trail_flush")
        post_migrate.connect(backfill, sender=self, dispatch_uid="kla_summaries_backfill")
        self.receivers = (sla_receivers, trail_receivers, trail_changes)
