from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from core.triage.waiting import queue_key

from .history import AppendOnlyModel
from .media_types import media_type_of
from .phone import validate_caller_number


class Language(models.TextChoices):
    EN = "en", "English"
    EN_IN = "en-IN", "Indian English"
    HI = "hi", "Hindi"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    CLOSED = "closed", "Closed"


class Outcome(models.TextChoices):
    POLICE = "dispatched_police", "Dispatched to police"
    FIRE = "dispatched_fire", "Dispatched to fire"
    HEALTH = "dispatched_health", "Dispatched to health"
    WOMENS_HELP = "dispatched_womens_help", "Dispatched to women's help"
    RESOLVED = "resolved", "Resolved"
    PRANK = "prank", "Prank"
    # Calls that need no dispatch yet are not "resolved" either: keep them apart for the figures.
    DUPLICATE = "duplicate", "Duplicate of another call"
    SILENT = "silent_abandoned", "Silent or abandoned call"
    REFERRED = "referred", "Referred to another service"


class AnalysisState(models.TextChoices):
    NO_AUDIO = "no_audio", "No usable audio"
    ANALYSING = "analysing", "Analysing"
    DONE = "done", "Analysed"
    FAILED = "failed", "Analysis failed"


class PriorityBand(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


def validate_received_at(value: datetime) -> None:
    """Refuse a call time beyond the allowed clock skew, or older than a live queue can mean. A call
    dated ahead (say 2030) would sort below every call of today until then, since the queue adds
    waiting time, negative for it; one dated in 1006 (found by schemathesis) would top the queue for
    good, and its time has no valid RFC 3339 form (the local offset then was +05:53:28)."""
    skew = timedelta(seconds=settings.CALL_TIME_MAX_SKEW_S)
    now = timezone.now()
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    oldest = now - timedelta(days=settings.CALL_TIME_MAX_AGE_DAYS)
    if value < oldest:
        raise ValidationError(
            f"The call time {value:%Y-%m-%d %H:%M} is more than {settings.CALL_TIME_MAX_AGE_DAYS} days ago: "
            "the queue is for live calls (check the sender's clock).",
            code="old_call_time",
        )
    if value > now + skew:
        raise ValidationError(
            f"The call time {timezone.localtime(value):%Y-%m-%d %H:%M} is in the future: a call can be "
            f"at most {skew.total_seconds() / 60:g} minutes ahead of the server's clock "
            f"(now {timezone.localtime(now):%Y-%m-%d %H:%M}).",
            code="future_call_time",
        )


class CaseQuerySet(models.QuerySet):
    def active(self) -> Self:
        return self.exclude(status=CaseStatus.CLOSED)

    def visible_to(self, user) -> Self:
        """Supervisors see every case; operators the live queue and what they handled; an intake client
        (a phone system) only the calls it pushed in itself, so it can follow them."""
        if user.has_role("supervisor"):
            return self
        if user.has_role("intake"):
            return self.filter(created_by=user)
        return self.filter(
            models.Q(status__in=[CaseStatus.OPEN, CaseStatus.CLAIMED])
            | models.Q(claimed_by=user)
            | models.Q(closed_by=user)
        )


class Case(models.Model):
    # Allowed status changes; everything else is refused by the services.
    TRANSITIONS = {
        CaseStatus.OPEN: {CaseStatus.CLAIMED},
        CaseStatus.CLAIMED: {CaseStatus.OPEN, CaseStatus.CLOSED},
        CaseStatus.CLOSED: set(),
    }

    caller_number = models.CharField(max_length=32, validators=[validate_caller_number])
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN_IN)
    location = models.CharField(max_length=500, blank=True)
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )

    status = models.CharField(
        max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN, db_index=True
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claimed_cases",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, blank=True)
    close_reason = models.TextField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="closed_cases",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="created_cases",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Triage, denormalised for the queue. The base score excludes waiting time, which the
    # queue adds in SQL so the order stays right without rewriting rows every second.
    # Until analysis finishes a case sits at a safe provisional (high) priority.
    analysis_state = models.CharField(
        max_length=16, choices=AnalysisState.choices, default=AnalysisState.NO_AUDIO
    )
    analysis_error = models.TextField(blank=True)
    priority_base = models.FloatField(default=70.0, db_index=True)
    priority_band = models.CharField(
        max_length=16, choices=PriorityBand.choices, default=PriorityBand.HIGH
    )
    priority_reasons = models.JSONField(default=list, blank=True)
    priority_override = models.FloatField(null=True, blank=True)
    # When the call must be answered: when the portal took it in + its band's allowance
    # (core.triage.waiting).
    # queue_key orders the queue, larger first: CRITICAL, then HIGH, then NORMAL and LOW together,
    # each earliest due first (core.triage.waiting.queue_key); it never changes as time passes.
    due_at = models.DateTimeField(null=True, blank=True)
    queue_key = models.FloatField(default=0.0, db_index=True)
    incident_type = models.CharField(max_length=32, blank=True)
    suspected_prank = models.BooleanField(default=False)
    # The words sound like an enquiry, wrong number, test call, order or service request (the kind),
    # and a silent call (no words heard): marked for the operator, never dropped.
    non_emergency = models.CharField(max_length=32, blank=True)
    silent_call = models.BooleanField(default=False)
    # Any change at all (state, analysis, priority): what API clients poll with ``since``.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["caller_number", "received_at"])]

    def __str__(self) -> str:
        return f"Case #{self.pk} from {self.caller_number}"

    def save(self, *args, **kwargs) -> None:
        # Every save, partial ones included, stamps the change (auto_now would miss update_fields saves).
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("calls:case_detail", args=[self.pk])

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[CaseStatus(self.status)]

    def clean(self) -> None:
        if self.received_at is not None and not self.pk:  # an old case's time is history
            try:
                validate_received_at(self.received_at)
            except ValidationError as exc:
                raise ValidationError({"received_at": exc.messages}) from exc
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError("Give both latitude and longitude, or neither.")
        if self.status == CaseStatus.CLAIMED and self.claimed_by_id is None:
            raise ValidationError("A claimed case needs the operator who claimed it.")
        if self.status == CaseStatus.CLOSED and not (self.outcome and self.close_reason):
            raise ValidationError("A closed case needs an outcome and a reason.")

    def set_priority(self, *, base: float, band: str, reasons: list[str], allowance_seconds: float) -> None:
        """Set the score and the due time: ``allowance_seconds`` after the call was received."""
        self.priority_base = base
        self.priority_band = band
        self.priority_reasons = reasons
        # From when the portal took the call in, never earlier: a client's backdated call time
        # (allowed, for the record) must not jump the queue.
        self.due_at = self.arrived_at + timedelta(seconds=allowance_seconds)
        self.queue_key = queue_key(band, self.due_at.timestamp())

    @property
    def arrived_at(self) -> datetime:
        """When the portal took the call in (a client may backdate ``received_at``, for the record)."""
        return max(self.received_at, self.created_at) if self.created_at else self.received_at

    @property
    def non_emergency_label(self) -> str:
        """``wrong_number`` -> ``wrong number``."""
        return self.non_emergency.replace("_", " ")

    def due_in_seconds(self, now=None) -> float | None:
        """Seconds until the call must be answered (negative: past its bound)."""
        if self.due_at is None:
            return None
        return (self.due_at - (now or timezone.now())).total_seconds()

    @property
    def latest_recording(self) -> Recording | None:
        recordings = list(self.recordings.all())
        return recordings[-1] if recordings else None


class RecordingSource(models.TextChoices):
    UPLOAD = "upload", "Uploaded file"
    BROWSER = "browser", "Recorded in the browser"
    API = "api", "Pushed over the API"


def _original_path(instance: Recording, filename: str) -> str:
    """Nothing of the client's file name reaches the disk, its extension included: the extension is
    the decoded format's (calls.media_types), so a ``call.js`` that decodes as MP3 is stored as .mp3."""
    extension = media_type_of(instance.source_format).extension
    return f"recordings/{instance.case_id}/original-{instance.sha256[:16]}{extension}"


def _normalised_path(instance: Recording, filename: str) -> str:
    return f"recordings/{instance.case_id}/normalised-{instance.sha256[:16]}.wav"


def _picture_path(instance: Recording, filename: str) -> str:
    return f"recordings/{instance.case_id}/picture-{instance.sha256[:16]}.png"


def _suffix(filename: str) -> str:
    """A file name's extension, if it is a plain one. No longer used for recordings (their stored
    extension comes from the decoded format: _original_path); kept for callers of before."""
    suffix = Path(filename).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,7}", suffix) else ""


class Recording(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="recordings")
    original = models.FileField(upload_to=_original_path, max_length=255)
    normalised = models.FileField(upload_to=_normalised_path, max_length=255)
    picture = models.FileField(upload_to=_picture_path, max_length=255, blank=True)
    original_name = models.CharField(max_length=255)
    source = models.CharField(max_length=16, choices=RecordingSource.choices)
    source_format = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    duration_s = models.FloatField()
    sample_rate = models.PositiveIntegerField(help_text="Of the original, before resampling.")
    channels = models.PositiveSmallIntegerField(help_text="Of the original, before downmixing.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.duration_s:.1f} s)"


class EventKind(models.TextChoices):
    CREATED = "created", "Case created"
    AUDIO_ADDED = "audio_added", "Audio added"
    AUDIO_REJECTED = "audio_rejected", "Audio rejected"
    CLAIMED = "claimed", "Claimed"
    RELEASED = "released", "Released"
    REASSIGNED = "reassigned", "Reassigned"
    CLOSED = "closed", "Closed"
    NOTE_ADDED = "note_added", "Note added"
    PRIORITY_OVERRIDDEN = "priority_overridden", "Priority overridden"


class CaseEvent(AppendOnlyModel):
    """Append-only history of a case: who did what, when, from which state to which, and why."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case #{self.case_id}"


class Note(AppendOnlyModel):
    """A note is never edited or deleted: a correction is a new note."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Note by {self.author} on case #{self.case_id}"


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key`` header, replayed to its retries
    for a day (a retry must carry the same request). One row per client and key: the unique
    constraint makes concurrent retries wait for the first and then replay it."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="one_answer_per_idempotency_key")]

    def __str__(self) -> str:
        return f"Idempotency key {self.key!r} of user {self.owner_id}"
