from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from calls.history import AppendOnlyModel
from core.triage.config import TriageConfig


class StepName(models.TextChoices):
    EMOTION = "emotion", "Speech emotion"
    TRANSCRIPTION = "transcription", "Transcription"
    TEXT = "text", "What the words say"


class StepState(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    UNAVAILABLE = "unavailable", "Unavailable"


class AnalysisStep(models.Model):
    """One step of one recording's analysis. Unique per (recording, name): re-running updates.

    ``result`` holds the step's typed result as its ``to_dict()``: an EmotionPrediction, a
    Transcript or a TextAnalysis (read back through analysis.selectors.CaseAnalysis).
    """

    recording = models.ForeignKey("calls.Recording", on_delete=models.PROTECT, related_name="steps")
    name = models.CharField(max_length=16, choices=StepName.choices)
    state = models.CharField(max_length=16, choices=StepState.choices, default=StepState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    model_version = models.CharField(max_length=128, blank=True)
    emotion_model = models.ForeignKey(
        "analysis.EmotionModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="steps",
        help_text="The registered emotion model version that produced an emotion step's result.",
    )
    seconds = models.FloatField(null=True, blank=True)
    progress = models.FloatField(null=True, blank=True, help_text="0..1 while a long step runs.")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, db_index=True,
        help_text="When its job was handed to a runner. Empty on a committed step: the hand-over was lost "
                  "(the web process died, the broker was down) and the sweep hands it over again.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recording", "name"], name="one_step_per_recording")
        ]
        ordering = ["recording_id", "pk"]

    def __str__(self) -> str:
        return f"{self.get_name_display()} of recording {self.recording_id}: {self.state}"

    @property
    def finished(self) -> bool:
        return self.state in (StepState.DONE, StepState.FAILED, StepState.UNAVAILABLE)


class TriageSettings(AppendOnlyModel):
    """Admin-edited triage weights and label mapping. Never edited in place: each save of the
    settings page adds a version, and every score records the version that made it."""

    version = models.PositiveIntegerField(unique=True)
    weights = models.JSONField()
    label_mapping = models.JSONField()
    max_wait_seconds = models.FloatField(default=180.0)
    prank_history_days = models.PositiveIntegerField(default=7)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        verbose_name_plural = "triage settings"

    def __str__(self) -> str:
        return f"Triage settings v{self.version}"

    def as_config(self) -> TriageConfig:
        return TriageConfig(
            version=self.version,
            weights=self.weights,
            label_mapping=self.label_mapping,
            max_wait_seconds=self.max_wait_seconds,
            prank_history_days=self.prank_history_days,
        )


class TriageScore(AppendOnlyModel):
    """Every score a case was given, with its named components: the case's priority history."""

    case = models.ForeignKey("calls.Case", on_delete=models.PROTECT, related_name="scores")
    base_score = models.FloatField()
    band = models.CharField(max_length=16)
    components = models.JSONField()
    reasons = models.JSONField()
    config_version = models.PositiveIntegerField()
    provisional = models.BooleanField()
    overridden = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Case #{self.case_id}: {self.base_score:.1f} ({self.band}), settings v{self.config_version}"


class ModelVersion(AppendOnlyModel):
    """A registered model version: immutable, its folder's metadata copied in when registered; the
    artefact's sha256 is checked again whenever the version is loaded."""

    name = models.CharField(max_length=128, unique=True)
    path = models.CharField(max_length=500, help_text="The version's folder (relative to the project when shipped).")
    artefact_sha256 = models.CharField(max_length=64)
    metadata = models.JSONField(help_text="metadata.json as registered: data, parameters, figures.")
    registered_at = models.DateTimeField(default=timezone.now)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")

    class Meta:
        abstract = True
        ordering = ["-registered_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class EmotionModelVersion(ModelVersion):
    """An emotion model version, registered from a folder (``analysis.services.emotion_model_register``;
    loaded through ``core.emotion.model_version``)."""

    kind = models.CharField(max_length=32)
    labels = models.JSONField()

    class Meta(ModelVersion.Meta):
        pass


class ActivationAction(models.TextChoices):
    PROMOTE = "promote", "Promoted"
    ROLLBACK = "rollback", "Rolled back"


class Activation(AppendOnlyModel):
    """Who made a model version the one in use, when and why (the subclass names the version)."""

    action = models.CharField(max_length=16, choices=ActivationAction.choices)
    reason = models.TextField()
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    activated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        abstract = True
        ordering = ["-activated_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.version} by {self.activated_by} at {self.activated_at:%Y-%m-%d %H:%M}"  # type: ignore[attr-defined]


class EmotionModelActivation(Activation):
    """The latest row is the active emotion version; with none, the version in EMOTION_MODEL_DIR is used."""

    version = models.ForeignKey(EmotionModelVersion, on_delete=models.PROTECT, related_name="activations")

    class Meta(Activation.Meta):
        pass


class Challenger(AppendOnlyModel):
    """Which version reads new calls in the shadow of the one in use (the latest row; a row without a
    version ends the shadowing). Shadow readings never touch a case's priority. The subclass names
    the version."""

    reason = models.TextField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        abstract = True
        ordering = ["-set_at", "-pk"]

    def __str__(self) -> str:
        return f"Challenger {self.version or 'none'} from {self.set_at:%Y-%m-%d %H:%M}"  # type: ignore[attr-defined]


class EmotionModelChallenger(Challenger):
    version = models.ForeignKey(EmotionModelVersion, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="challenges")

    class Meta(Challenger.Meta):
        pass


class ShadowPrediction(AppendOnlyModel):
    """A challenger's prediction on a recording, kept beside the active version's (never scored)."""

    recording = models.ForeignKey("calls.Recording", on_delete=models.PROTECT, related_name="shadow_predictions")
    version = models.ForeignKey(EmotionModelVersion, on_delete=models.PROTECT, related_name="shadow_predictions")
    result = models.JSONField(help_text="The challenger's EmotionPrediction.to_dict().")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["recording", "version"], name="one_shadow_per_version")]

    def __str__(self) -> str:
        return f"{self.version} on recording {self.recording_id}"


class SupersededPrediction(AppendOnlyModel):
    """An emotion result replaced when an admin re-analysed open cases with a newly active version:
    the step then holds the new version's result, and the old one is kept here."""

    recording = models.ForeignKey("calls.Recording", on_delete=models.PROTECT, related_name="superseded_predictions")
    version = models.ForeignKey(EmotionModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    model_version = models.CharField(max_length=128, blank=True)
    result = models.JSONField()
    superseded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    superseded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-superseded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.model_version} on recording {self.recording_id} (superseded)"


class AuditedReliability(AppendOnlyModel):
    """How well a model version's voice agreed with the supervisors: distress ROC AUC on audited
    calls (distressed vs calm or prank, by the supervisor's category), with its 95 % interval. One
    row each time the figure is recomputed; the latest row per version is in force once it covers
    enough calls (core.triage.acoustic.audited_enough)."""

    model_version = models.CharField(max_length=128, db_index=True)
    auc = models.FloatField(null=True)
    auc_low = models.FloatField(null=True)
    auc_high = models.FloatField(null=True)
    distressed = models.PositiveIntegerField()
    calm = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.model_version}: audited AUC {self.auc} on {self.distressed + self.calm} calls"

    def as_reliability(self) -> dict[str, float]:
        """The keys core.triage.acoustic.trust_explained reads."""
        figures: dict[str, float] = {"audited_distressed": self.distressed, "audited_calm": self.calm}
        if self.auc is not None and self.auc_low is not None and self.auc_high is not None:
            figures |= {"distress_auc_audited": self.auc, "distress_auc_audited_low": self.auc_low,
                        "distress_auc_audited_high": self.auc_high}
        return figures


class LiveReading(AppendOnlyModel):
    """What the live worker made of a call while it was on the line, at one moment: the words
    committed so far, what the words say, and the voice over the last seconds. The case is scored
    from its latest reading until the call's recording has been analysed."""

    case = models.ForeignKey("calls.Case", on_delete=models.PROTECT, related_name="live_readings")
    heard_seconds = models.FloatField()  # of the call's audio the worker had at this moment
    behind_seconds = models.FloatField(default=0.0)  # how far the committed words trail the audio
    words = models.JSONField()  # committed Words, as to_dict()
    tentative = models.CharField(max_length=2000, blank=True)
    text = models.JSONField()  # TextAnalysis of the committed words, as to_dict()
    emotion = models.JSONField(null=True, blank=True)  # EmotionPrediction of the latest window, or None
    # The worker's last reading of the call, made after the hang-up with every word it heard committed.
    final = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Live reading of case #{self.case_id} at {self.heard_seconds:.1f} s"


class WordsModelVersion(ModelVersion):
    """A words model version (core.text.words_model), registered from a folder
    (``analysis.words_registry.words_model_register``)."""

    class Meta(ModelVersion.Meta):
        pass


class WordsModelActivation(Activation):
    """The latest row is the words version the text step uses; with none, the one in WORDS_MODEL_DIR."""

    version = models.ForeignKey(WordsModelVersion, on_delete=models.PROTECT, related_name="activations")

    class Meta(Activation.Meta):
        pass


class WordsModelChallenger(Challenger):
    """A words version reading every call's words beside the one in use (TextAnalysis.shadow_model)."""

    version = models.ForeignKey(WordsModelVersion, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="challenges")

    class Meta(Challenger.Meta):
        pass


class VoiceBaseline(models.Model):
    """What this deployment's calls sound like to one emotion model version that adapts to its
    deployment: the running mean and variance of the version's embeddings over the recent finished
    calls (core.emotion.voice_baseline), no labels. A statistic derived from the recordings, not
    history: it is rewritten, under a lock, by each call it learns from
    (analysis.baselines.voice_baseline_learn); each prediction records how many calls it had."""

    version = models.CharField(max_length=128, unique=True)  # the version's name (its metadata's "version")
    calls = models.PositiveIntegerField(default=0)
    moments = models.BinaryField(help_text="mean and variance, a (2, dims) float64 array in NumPy's .npy format")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["version"]

    def __str__(self) -> str:
        return f"Voice baseline of {self.version} ({self.calls} calls)"
