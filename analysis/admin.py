from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import AnalysisStep, TriageScore, TriageSettings


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
