from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import (
    AnalysisStep,
    EmotionModelActivation,
    EmotionModelChallenger,
    EmotionModelVersion,
    ShadowPrediction,
    SupersededPrediction,
    TriageScore,
    TriageSettings,
    WordsModelActivation,
    WordsModelChallenger,
    WordsModelVersion,
)


@admin.register(AnalysisStep)
class AnalysisStepAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("recording", "name", "state", "attempts", "model_version", "seconds", "finished_at")
    list_filter = ("name", "state")


@admin.register(TriageSettings)
class TriageSettingsAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """New versions are made on the triage settings page, never edited in place."""

    list_display = ("version", "created_at", "created_by", "note")


@admin.register(TriageScore)
class TriageScoreAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("case", "base_score", "band", "config_version", "provisional", "created_at")


@admin.register(EmotionModelVersion)
class EmotionModelVersionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Versions are registered by command or migrate and never edited; promote them on the Models page."""

    list_display = ("name", "kind", "registered_at", "registered_by", "artefact_sha256")


@admin.register(EmotionModelActivation)
class EmotionModelActivationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("activated_at", "action", "version", "activated_by", "reason")


@admin.register(EmotionModelChallenger)
class EmotionModelChallengerAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("set_at", "version", "set_by", "reason")


@admin.register(ShadowPrediction)
class ShadowPredictionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "version", "recording")


@admin.register(SupersededPrediction)
class SupersededPredictionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("superseded_at", "model_version", "recording", "superseded_by")


@admin.register(WordsModelVersion)
class WordsModelVersionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Versions are registered by migrate or a training run and never edited; promote them on the Models page."""

    list_display = ("name", "registered_at", "registered_by", "artefact_sha256")


@admin.register(WordsModelActivation)
class WordsModelActivationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("activated_at", "action", "version", "activated_by", "reason")


@admin.register(WordsModelChallenger)
class WordsModelChallengerAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("set_at", "version", "set_by", "reason")
