from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

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


class NoteInline(ReadOnlyInline):
    model = Note
    fields = ("created_at", "author", "text")
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("id", "caller_number", "received_at", "status", "priority_band", "analysis_state", "outcome")
    list_filter = ("status", "priority_band", "analysis_state", "language", "outcome")
    search_fields = ("caller_number", "location")
    inlines = [RecordingInline, NoteInline, EventInline]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "case", "kind", "actor", "from_status", "to_status")
    list_filter = ("kind",)


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "case", "author")


@admin.register(Recording)
class RecordingAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "case", "original_name", "source", "duration_s")
    list_filter = ("source",)
