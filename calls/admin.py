from django.contrib import admin

from accounts.admin import AdminRoleRequired

from .models import Case, CaseEvent, Note, Recording


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("created_at", "kind", "actor", "from_status", "to_status", "reason")
    readonly_fields = fields


class RecordingInline(ReadOnlyInline):
    model = Recording
    fields = ("original_name", "source_format", "duration_s", "sample_rate", "channels", "sha256")
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(AdminRoleRequired, admin.ModelAdmin):
    list_display = ("id", "caller_number", "received_at", "status", "priority_band", "analysis_state", "outcome")
    list_filter = ("status", "priority_band", "analysis_state", "language", "outcome")
    search_fields = ("caller_number", "location")
    readonly_fields = ("queue_key", "priority_base", "priority_reasons", "analysis_state", "analysis_error")
    inlines = [RecordingInline, EventInline]

    def has_delete_permission(self, request, obj=None):
        return False  # calls are never deleted; close them instead


@admin.register(CaseEvent)
class CaseEventAdmin(AdminRoleRequired, admin.ModelAdmin):
    list_display = ("created_at", "case", "kind", "actor", "from_status", "to_status")
    list_filter = ("kind",)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Note)
class NoteAdmin(AdminRoleRequired, admin.ModelAdmin):
    list_display = ("created_at", "case", "author")
