from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import Audit, AuditItem


@admin.register(AuditItem)
class AuditItemAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("case", "created_at", "reasons", "uncertainty", "second_review", "model_version")
    list_filter = ("second_review", "model_version")


@admin.register(Audit)
class AuditAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Audits are never edited or deleted; a correction is a new audit made on the audit page."""

    list_display = ("item", "supervisor", "category", "genuine", "incident_type", "blind", "created_at")
    list_filter = ("category", "genuine", "blind")
