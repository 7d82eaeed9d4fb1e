"""Datasets admins import: each clip decoded and validated once, its audio stored once (by sha256)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from calls.history import AppendOnlyModel


class ImportState(models.TextChoices):
    PENDING = "pending", "Waiting"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"


class Dataset(models.Model):
    """An import job and the dataset it made. Its state and report change while it imports; its clips
    never change once imported (relabelling and exclusion are logged beside them, never destructive)."""

    name = models.CharField(max_length=100, unique=True)
    source = models.CharField(max_length=500, help_text="The uploaded archive's name or the server folder.")
    scheme = models.CharField(max_length=16, blank=True)
    state = models.CharField(max_length=16, choices=ImportState.choices, default=ImportState.PENDING)
    progress = models.FloatField(default=0.0)
    report = models.JSONField(default=dict, blank=True, help_text="What was taken and what was refused, and why.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("learning:dataset_detail", args=[self.pk])


class DatasetClip(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="clips")
    sha256 = models.CharField(max_length=64, db_index=True)
    audio = models.CharField(max_length=300, help_text="The stored file, relative to MEDIA_ROOT (one per sha256).")
    original_name = models.CharField(max_length=500)
    label = models.CharField(max_length=32)
    speaker = models.CharField(max_length=64)
    gender = models.CharField(max_length=8)
    synthetic = models.BooleanField(default=False, help_text="112 scheme type 02: a pitch-shifted copy of its speaker's clip.")
    duration_s = models.FloatField()
    attributes = models.JSONField(default=dict, blank=True, help_text="core.datasets.attributes, for the explorer.")

    class Meta:
        ordering = ["dataset_id", "original_name"]
        constraints = [models.UniqueConstraint(fields=["dataset", "sha256"], name="one_copy_per_dataset")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.label})"


class RunState(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Training"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class BackgroundJob(models.Model):
    """What every admin's background job records: its state and progress while it runs (followed live on
    /ws/training/, by KIND), who started it and when, how it ended."""

    KIND = ""
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.PENDING)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    @property
    def active(self) -> bool:
        return self.state in (RunState.PENDING, RunState.RUNNING)


class TrainingRun(BackgroundJob):
    """One training of a Whisper-encoder head on a dataset: a job record (state, progress) whose
    result is an immutable registered model version."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="training_runs")
    extra_datasets = models.ManyToManyField(Dataset, blank=True, related_name="+",
                                            help_text="More datasets trained on together with the first.")
    check_dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="A corpus never trained on, judged after training: the cross-corpus figures that give the "
                  "voice its trust in the triage.")
    folds = models.PositiveSmallIntegerField(default=6, help_text="Folds by speaker for the held-out figures.")
    held_out_speakers = models.JSONField(default=list, blank=True, help_text=(
        "Speakers kept out of training altogether, the figures measured on them (instead of the folds)."))
    cancel_requested = models.BooleanField(default=False)
    version = models.ForeignKey("analysis.EmotionModelVersion", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    KIND = "training"

    class Meta(BackgroundJob.Meta):
        pass

    def __str__(self) -> str:
        return f"Training run {self.pk} on {self.dataset}"

    def get_absolute_url(self) -> str:
        return reverse("learning:training_detail", args=[self.pk])


class Evaluation(BackgroundJob):
    """One or two versions judged on the same clips of a dataset: the speakers none of them heard.
    A job record (state, progress); its figures never change once done."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="evaluations")
    versions = models.ManyToManyField("analysis.EmotionModelVersion", related_name="+")
    speakers = models.JSONField(default=list, help_text="The dataset's speakers judged on (unseen by every version).")
    results = models.JSONField(default=dict, blank=True, help_text="Figures per version id: clean and telephone.")
    KIND = "evaluation"

    class Meta(BackgroundJob.Meta):
        pass

    def __str__(self) -> str:
        return f"Evaluation {self.pk} on {self.dataset}"


class WordsTrainingRun(BackgroundJob):
    """One training of the words model: the benchmark's tuning part plus every audited call's words,
    with the supervisors' answers as labels; judged on the benchmark's held-out part. Its result is
    an immutable registered words version."""

    note = models.CharField(max_length=300, blank=True)
    audited_calls = models.PositiveIntegerField(default=0, help_text="Audited calls whose words it learned from.")
    version = models.ForeignKey("analysis.WordsModelVersion", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    KIND = "words_training"

    class Meta(BackgroundJob.Meta):
        pass

    def __str__(self) -> str:
        return f"Words training run {self.pk}"


class ClipChange(AppendOnlyModel):
    """A relabelling or an exclusion of a clip, logged; the clip itself never changes. The latest
    change of a clip says its label and whether training uses it."""

    clip = models.ForeignKey(DatasetClip, on_delete=models.PROTECT, related_name="changes")
    label = models.CharField(max_length=32)
    excluded = models.BooleanField(default=False)
    reason = models.CharField(max_length=500)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.clip}: {'excluded' if self.excluded else self.label}"
