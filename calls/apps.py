from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Calls and cases"

    def ready(self) -> None:
        from . import ws_security  # noqa: F401  (its receivers close the sockets of ended sessions)
        from .history_guard import install_after_migrate

        # After every migrate and flush: the database's own guard on history tables (history_guard).
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="calls.history_guards")
