from django.contrib import admin

from .models import LiveStream


@admin.register(LiveStream)
class LiveStreamAdmin(admin.ModelAdmin):
    """Read-only: streams change through live.services only."""

    list_display = ("call_id", "case", "client", "ingress", "state", "started_at", "ended_at", "frames")
    list_filter = ("state", "ingress")
    search_fields = ("call_id",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
