from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from kla.celery import TASK_PACKAGES, app
from kla.queue import prepare_embedded_folders


class KlaConfig(AppConfig):
    name = "kla"
    verbose_name = _("Kota Layak Anak")

    def ready(self) -> None:
        # Register every task in every process (web, worker, beat), so that work queued by
        # name (``kla.queue``) finds its task's own options and runs inline in eager mode.
        app.autodiscover_tasks(TASK_PACKAGES, force=True)
        prepare_embedded_folders()
        # Every API token of a person dies when their password changes, however it changes.
        from kla.api import tokens

        tokens.connect()
