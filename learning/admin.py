"""Read-only: datasets, clips, their changes and training runs change through the Datasets and
Training pages (services), never here."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import ClipChange, Dataset, DatasetClip, TrainingRun


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("name", "state", "scheme", "created_by", "created_at")


@admin.register(DatasetClip)
class DatasetClipAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("original_name", "dataset", "label", "speaker", "gender", "sha256")


@admin.register(ClipChange)
class ClipChangeAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("changed_at", "clip", "label", "excluded", "changed_by", "reason")


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("pk", "dataset", "state", "version", "started_by", "created_at")
