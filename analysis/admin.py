from django.contrib import admin

from accounts.admin import AdminRoleRequired

from .models import AnalysisStep, TriageScore, TriageSettings


@admin.register(AnalysisStep)
class AnalysisStepAdmin(AdminRoleRequired, admin.ModelAdmin):
    list_display = ("recording", "name", "state", "attempts", "model_version", "seconds", "finished_at")
    list_filter = ("name", "state")


@admin.register(TriageSettings)
class TriageSettingsAdmin(AdminRoleRequired, admin.ModelAdmin):
    """Read-only here: new versions are made on the triage settings page, never edited in place."""

    list_display = ("version", "created_at", "created_by", "note")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TriageScore)
class TriageScoreAdmin(AdminRoleRequired, admin.ModelAdmin):
    list_display = ("case", "base_score", "band", "config_version", "provisional", "created_at")
