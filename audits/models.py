"""Supervisors' audits of the machine's labels: the calls picked for review, and the answers.

Both are append-only: an item is written once when its call is picked; an audit is never edited
or deleted, a correction is a new audit that supersedes the old one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from calls.history import AppendOnlyModel
from core.text.analysis import INCIDENT_TYPES


class AuditReason(models.TextChoices):
    RANDOM = "random", "Random sample"
    SUSPECTED_PRANK = "suspected_prank", "Suspected prank"
    DEMOTED = "demoted", "Ranked below a typical genuine call"
    OUTCOME_DISAGREES = "outcome_disagrees", "Operator's outcome contradicts the machine"
    UNCERTAIN = "uncertain", "Least certain prediction"


class AuditCategory(models.TextChoices):
    ANGRY = "angry", "Angry"
    STRESSFUL = "stressful", "Stressful"
    PAINFUL = "painful", "Painful"
    DRUNK = "drunk", "Drunk"
    ABUSIVE = "abusive", "Abusive"
    PRANK = "prank", "Prank"
    CALM = "calm", "Calm, genuine"


INCIDENT_CHOICES = [(t, t.replace("_", " ").capitalize()) for t in INCIDENT_TYPES]


class AuditItem(AppendOnlyModel):
    """A closed call picked for review, with what the system said about it when it was picked."""

    case = models.OneToOneField("calls.Case", on_delete=models.PROTECT, related_name="audit_item")
    recording = models.ForeignKey("calls.Recording", null=True, blank=True, on_delete=models.PROTECT)
    reasons = models.JSONField(help_text="Why it was picked (AuditReason values).")
    uncertainty = models.FloatField(default=0.0, help_text="0..1: 1 - the emotion model's top-two margin.")
    second_review = models.BooleanField(default=False, help_text="Picked for a blind second review.")
    model_version = models.CharField(max_length=128, blank=True)
    system_category = models.CharField(max_length=16, blank=True)
    system_suspected_prank = models.BooleanField(default=False)
    system_incident_type = models.CharField(max_length=32, blank=True)
    system_band = models.CharField(max_length=16, blank=True)
    transcript = models.TextField(blank=True)
    transcript_engine = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-uncertainty", "created_at"]

    def __str__(self) -> str:
        return f"Audit item for case #{self.case_id}"

    def get_absolute_url(self) -> str:
        return reverse("audits:item", args=[self.pk])


class Audit(AppendOnlyModel):
    """One supervisor's answer about one call."""

    item = models.ForeignKey(AuditItem, on_delete=models.PROTECT, related_name="audits")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="audits")
    category = models.CharField(max_length=16, choices=AuditCategory.choices)
    genuine = models.BooleanField(help_text="A genuine emergency call (not a prank).")
    incident_type = models.CharField(max_length=32, choices=INCIDENT_CHOICES)
    corrected_transcript = models.TextField(blank=True, max_length=20000)
    comment = models.TextField(blank=True, max_length=5000)
    blind = models.BooleanField(default=False, help_text="A second review made without seeing the first.")
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="superseded_by")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Audit of case #{self.item.case_id} by {self.supervisor}"
