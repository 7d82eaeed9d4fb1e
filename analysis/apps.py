from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Call analysis and triage"

    def ready(self) -> None:
        from calls import signals as calls_signals
        from calls.panels import case_panel_register

        from . import panels, receivers, signals

        calls_signals.case_created.connect(receivers.on_case_created, dispatch_uid="analysis.case_created")
        calls_signals.audio_rejected.connect(receivers.on_audio_rejected, dispatch_uid="analysis.audio_rejected")
        calls_signals.recording_attached.connect(
            receivers.on_recording_attached, dispatch_uid="analysis.recording_attached"
        )
        signals.emotion_step_reset.connect(receivers.on_emotion_step_reset, dispatch_uid="analysis.emotion_step_reset")
        signals.model_trust_changed.connect(receivers.on_model_trust_changed, dispatch_uid="analysis.model_trust")
        signals.triage_settings_saved.connect(
            receivers.on_triage_settings_saved, dispatch_uid="analysis.triage_settings_saved"
        )
        case_panel_register(panels.ANALYSIS_PANEL)
        case_panel_register(panels.OVERRIDE_PANEL)
        # The shipped model versions are registered after every migrate (and test-database flush).
        post_migrate.connect(_register_shipped_models, sender=self, dispatch_uid="analysis.register_shipped_models")


def _register_shipped_models(**kwargs: Any) -> None:
    from .services import emotion_models_register_shipped
    from .words_registry import words_models_register_shipped

    emotion_models_register_shipped()
    words_models_register_shipped()
