from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Call analysis and triage"

    def ready(self) -> None:
        from calls import signals as calls_signals
        from calls.panels import case_panel_register

        from . import panels, receivers, signals

        calls_signals.case_created.connect(receivers.on_case_created, dispatch_uid="analysis.case_created")
        calls_signals.recording_attached.connect(
            receivers.on_recording_attached, dispatch_uid="analysis.recording_attached"
        )
        signals.triage_settings_saved.connect(
            receivers.on_triage_settings_saved, dispatch_uid="analysis.triage_settings_saved"
        )
        case_panel_register(panels.ANALYSIS_PANEL)
        case_panel_register(panels.OVERRIDE_PANEL)
