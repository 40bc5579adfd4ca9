from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Alur kerja dan jejak")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .guard import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="kla_trail_flush")

        from . import sla_signals  # noqa: F401 -- connects the SLA receivers
