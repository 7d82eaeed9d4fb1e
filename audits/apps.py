from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Supervisor audits"

    def ready(self) -> None:
        from calls import signals as calls_signals
        from calls.panels import case_panel_register

        from . import panels, receivers

        calls_signals.case_closed.connect(receivers.on_case_closed, dispatch_uid="audits.case_closed")
        case_panel_register(panels.AUDIT_PANEL)
