"""Reads of the analysis side: a case's typed analysis, the active settings, the model to use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from calls.models import Case, EventKind, Outcome, Recording
from calls.phone import UNKNOWN_CALLER
from core.emotion import SHIPPED_MODELS_DIR
from core.emotion.model_version import ModelError, read_metadata
from core.emotion.prediction import EmotionPrediction
from core.speech.transcript import Transcript, Word
from core.text.analysis import TextAnalysis
from core.triage.config import DEFAULT_CONFIG, NOT_DETECTED, TriageConfig, category_status
from core.triage.waiting import wait_reason

from .models import (
    AnalysisStep,
    AuditedReliability,
    EmotionModelActivation,
    EmotionModelChallenger,
    EmotionModelVersion,
    LiveReading,
    ShadowPrediction,
    StepName,
    StepState,
    TriageScore,
    TriageSettings,
)


@dataclass(frozen=True)
class EmotionModelChoice:
    """The emotion model version the pipeline uses now (``version_id`` when it is a registered one)."""

    path: Path
    version_id: int | None = None


def emotion_model_folder(version: EmotionModelVersion) -> Path:
    path = Path(version.path)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def emotion_model_activation_current() -> EmotionModelActivation | None:
    return EmotionModelActivation.objects.select_related("version", "activated_by").first()


def emotion_model_active() -> EmotionModelChoice:
    """The one place the pipeline asks which emotion model to use, per task (so a promotion takes
    effect on every worker's next task, without a restart): the version an admin promoted last,
    else the one in EMOTION_MODEL_DIR."""
    activation = emotion_model_activation_current()
    if activation is not None:
        return EmotionModelChoice(path=emotion_model_folder(activation.version), version_id=activation.version_id)
    return EmotionModelChoice(path=Path(settings.EMOTION_MODEL_DIR))


def emotion_model_version_active() -> EmotionModelVersion | None:
    """The registered version in use (None when EMOTION_MODEL_DIR names an unregistered folder)."""
    choice = emotion_model_active()
    if choice.version_id is not None:
        return EmotionModelVersion.objects.get(pk=choice.version_id)
    try:
        name = read_metadata(choice.path)["version"]
    except ModelError:
        return None
    return EmotionModelVersion.objects.filter(name=name).first()


def emotion_model_previous(current: EmotionModelVersion | None) -> EmotionModelVersion | None:
    """The version active before the current one: the last activation of another version, else the
    configured default (EMOTION_MODEL_DIR) when it is registered and not the current one."""
    for activation in EmotionModelActivation.objects.select_related("version"):
        if activation.version != current:
            return activation.version
    try:
        name = read_metadata(Path(settings.EMOTION_MODEL_DIR))["version"]
    except ModelError:
        return None
    default = EmotionModelVersion.objects.filter(name=name).first()
    return default if default != current else None


@dataclass(frozen=True)
class ModelFigures:
    """A version's figures on speakers it never heard, read from its metadata (None: not measured)."""

    protocol: str
    ua: float | None
    ua_std: float | None
    distress_auc: float | None
    telephone_ua: float | None
    male_ua: float | None
    female_ua: float | None
    cross_corpus: str | None
    cross_corpus_ua: float | None
    cross_corpus_auc: float | None
    recall: dict[str, float]

    @property
    def has_held_out(self) -> bool:
        return self.ua is not None


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def emotion_model_figures(version: EmotionModelVersion) -> ModelFigures:
    metrics = version.metadata.get("metrics") or {}
    cross = metrics.get("cross_corpus") or {}
    held = metrics.get("held_out")
    if isinstance(held, dict):  # k folds by speaker
        labels = version.labels
        confusion = held.get("confusion") or []
        recall = {label: row[i] / sum(row) for i, (label, row) in enumerate(zip(labels, confusion, strict=False))
                  if sum(row)}
        chosen = version.metadata.get("held_out_speakers") or []
        protocol = (f"held-out speakers {', '.join(chosen)}" if chosen
                    else f"{len(held.get('folds', []))} folds by speaker")
        return ModelFigures(
            protocol, _get(held, "ua", "mean"), _get(held, "ua", "std"),
            _get(held, "distress_auc", "mean"), _get(held, "telephone_ua", "mean"), _get(held, "male", "mean"),
            _get(held, "female", "mean"), cross.get("corpus"), _get(cross, "clean", "ua"),
            _get(cross, "clean", "distress_auc"), recall)
    # A CNN version: its fixed test speakers (its AUCs in "reliability" were measured otherwise).
    test = metrics.get("test") or {}
    speakers = ", ".join(version.metadata.get("test_actors") or [])
    return ModelFigures(
        f"test speakers {speakers}" if speakers else "test speakers", test.get("unweighted_accuracy"), None, None,
        _get(metrics, "test_telephone", "unweighted_accuracy"), None, None, None, None, None,
        {label: row["recall"] for label, row in (test.get("per_class") or {}).items()})


def emotion_model_promotion_blockers(version: EmotionModelVersion, config: TriageConfig) -> list[str]:
    """Why a version may not become the active one ([] when it may)."""
    blockers = []
    unmapped = [label for label in version.labels if label.strip().lower() not in config.label_mapping]
    if unmapped:
        blockers.append(f"the triage label mapping does not cover {', '.join(unmapped)}")
    if not emotion_model_figures(version).has_held_out:
        blockers.append("it has no figures on held-out speakers")
    try:
        read_metadata(emotion_model_folder(version))
    except ModelError as exc:
        blockers.append(f"its folder cannot be read ({exc})")
    return blockers


def emotion_model_challenger_current() -> EmotionModelVersion | None:
    """The version scoring new calls in the shadow of the active one (None: none, or it is active now)."""
    latest = EmotionModelChallenger.objects.select_related("version").first()
    if latest is None or latest.version is None or latest.version == emotion_model_version_active():
        return None
    return latest.version


@dataclass(frozen=True)
class ShadowComparison:
    """How a challenger differed from the version that scored the same calls."""

    calls: int
    same_top_label: float | None
    mean_probability_difference: float | None  # half the L1 distance, 0..1


def shadow_comparison(active: EmotionModelVersion, challenger: EmotionModelVersion) -> ShadowComparison:
    scored = dict(AnalysisStep.objects.filter(name=StepName.EMOTION, state=StepState.DONE, emotion_model=active)
                  .values_list("recording_id", "result"))
    same, differences = 0, []
    for recording_id, result in ShadowPrediction.objects.filter(version=challenger, recording_id__in=scored) \
            .values_list("recording_id", "result"):
        ours, theirs = scored[recording_id]["probabilities"], result["probabilities"]
        same += max(ours, key=ours.get) == max(theirs, key=theirs.get)
        labels = set(ours) | set(theirs)
        differences.append(sum(abs(ours.get(k, 0.0) - theirs.get(k, 0.0)) for k in labels) / 2)
    n = len(differences)
    return ShadowComparison(n, same / n if n else None, sum(differences) / n if n else None)


def emotion_model_reliability(version: str) -> dict[str, float] | None:
    """The measured reliability of the model version that made a prediction (None if unknown,
    which the triage trusts as little as a model at chance): the corpora's figures, and the
    supervisors' audited figure when there is one (core.triage.acoustic.trust_explained decides
    which is in force)."""
    return _with_audits(_corpus_reliability(version), AuditedReliability.objects.filter(model_version=version).first())


def emotion_model_reliabilities(versions: list[EmotionModelVersion]) -> dict[str, dict[str, float] | None]:
    """emotion_model_reliability for several registered versions, in two queries (for list pages)."""
    latest: dict[str, AuditedReliability] = {}
    for row in AuditedReliability.objects.filter(model_version__in=[v.name for v in versions]):
        latest.setdefault(row.model_version, row)  # newest first (the model's ordering)
    out = {}
    for v in versions:
        measured = v.metadata.get("reliability")
        out[v.name] = _with_audits(dict(measured) if isinstance(measured, dict) else None, latest.get(v.name))
    return out


def _with_audits(measured: dict[str, float] | None, audited: AuditedReliability | None) -> dict[str, float] | None:
    """The corpora's figures with the supervisors' audited figure beside them, when there is one."""
    if audited is None:
        return measured
    return {**(measured or {}), **audited.as_reliability()}


def _corpus_reliability(version: str) -> dict[str, float] | None:
    """The figures measured on corpora when the version was made (its metadata)."""
    registered = EmotionModelVersion.objects.filter(name=version).first()
    if registered is not None:
        reliability = registered.metadata.get("reliability")
        return dict(reliability) if isinstance(reliability, dict) else None
    active = emotion_model_active().path
    for folder in (active, SHIPPED_MODELS_DIR / version):
        try:
            meta = read_metadata(folder)
        except ModelError:
            continue
        if meta["version"] == version:
            reliability = meta.get("reliability")
            return dict(reliability) if isinstance(reliability, dict) else None
    return None


def emotion_model_labels(choice: EmotionModelChoice) -> list[str]:
    """The active model's labels, or [] when its metadata cannot be read (the model is then failing)."""
    try:
        return list(read_metadata(choice.path)["labels"])
    except ModelError:
        return []


def triage_settings_config(version: int) -> TriageConfig | None:
    """A settings version as a config: a stored one, or the built-in defaults (version 1 until saved)."""
    row = TriageSettings.objects.filter(version=version).first()
    if row is not None:
        return row.as_config()
    return DEFAULT_CONFIG if version == DEFAULT_CONFIG.version else None


def triage_settings_flat(config: TriageConfig) -> dict[str, Any]:
    """Every setting of a version under one readable name (for comparing two)."""
    flat: dict[str, Any] = {"max wait (s)": config.max_wait_seconds, "prank history (days)": config.prank_history_days}
    for name, value in config.weights.items():
        if isinstance(value, dict):
            flat.update({f"distress of {k}": v for k, v in value.items()})
        else:
            flat[f"weight {name}"] = value
    flat.update({f"label {k}": v for k, v in sorted(config.label_mapping.items())})
    return flat


def triage_config_active() -> TriageConfig:
    current = TriageSettings.objects.order_by("-version").first()
    return current.as_config() if current else DEFAULT_CONFIG


def confirmed_prank_count(case: Case, days: int) -> int:
    if case.caller_number == UNKNOWN_CALLER:  # callers without a number are not one caller
        return 0
    since = timezone.now() - timedelta(days=days)
    return (
        Case.objects.filter(caller_number=case.caller_number, outcome=Outcome.PRANK, closed_at__gte=since)
        .exclude(pk=case.pk)
        .count()
    )


@dataclass(frozen=True)
class CaseAnalysis:
    """The steps of a case's latest recording, with each finished step's typed result."""

    recording: Recording | None
    steps: dict[str, AnalysisStep] = field(default_factory=dict)
    # no recording was kept because the one sent held only silence: a silent call
    silent_recording: bool = False
    # the call is still on the line (no recording yet): the live worker's latest reading
    live: LiveReading | None = None

    def state(self, name: str) -> str | None:
        step = self.steps.get(name)
        return step.state if step else None

    def _done(self, name: str) -> dict[str, Any] | None:
        step = self.steps.get(name)
        return step.result if step is not None and step.state == StepState.DONE else None

    @cached_property
    def emotion(self) -> EmotionPrediction | None:
        result = self.live.emotion if self.live is not None else self._done(StepName.EMOTION)
        return EmotionPrediction.from_dict(result) if result is not None else None

    @cached_property
    def transcript(self) -> Transcript | None:
        result = self._done(StepName.TRANSCRIPTION)
        return Transcript.from_dict(result) if result is not None else None

    @cached_property
    def words(self) -> TextAnalysis | None:
        result = self.live.text if self.live is not None else self._done(StepName.TEXT)
        return TextAnalysis.from_dict(result) if result is not None else None


def case_analysis_get(case: Case) -> CaseAnalysis:
    recording = case.recordings.order_by("-created_at", "-pk").first()
    if recording is None:
        rejected = case.events.filter(kind=EventKind.AUDIO_REJECTED).order_by("-pk").values_list("data", flat=True).first()
        live = LiveReading.objects.filter(case=case).order_by("-pk").first()
        return CaseAnalysis(recording=None, silent_recording=bool(rejected and rejected.get("silent")), live=live)
    steps = {s.name: s for s in AnalysisStep.objects.filter(recording=recording)}
    # A live call's recording is being analysed: what was heard live stands until that analysis ends.
    unfinished = not steps or any(s.state in (StepState.PENDING, StepState.RUNNING) for s in steps.values())
    live = LiveReading.objects.filter(case=case).order_by("-pk").first() if unfinished else None
    return CaseAnalysis(recording=recording, steps=steps, live=live)


def case_panel_context(case: Case) -> dict[str, Any]:
    """What the case page's analysis panel shows."""
    analysis = case_analysis_get(case)
    config = triage_config_active()
    emotion = analysis.emotion
    probabilities = sorted(emotion.probabilities.items(), key=lambda item: item[1], reverse=True) if emotion else []
    return {
        "case": case,
        "steps": [analysis.steps[name] for name in StepName.values if name in analysis.steps],
        "emotion": emotion,
        "probabilities": probabilities,
        "transcript": analysis.transcript,
        "live": analysis.live,
        "live_words": [Word.from_dict(w) for w in analysis.live.words] if analysis.live is not None else [],
        "transcription_step": analysis.steps.get(StepName.TRANSCRIPTION),
        "words": analysis.words,
        "score": TriageScore.objects.filter(case=case).first(),
        "categories": _category_view(analysis, config),
        "wait_reason": wait_reason(case.priority_base, (timezone.now() - case.arrived_at).total_seconds(), config),
    }


def _category_view(analysis: CaseAnalysis, config: TriageConfig) -> list[tuple[str, float | None, str]]:
    """(category, strength or None, note) per triage category. "Not detected by this model" only
    when the model's labels cannot produce it; a voice analysis not done yet says so instead."""
    emotion, words = analysis.emotion, analysis.words
    mapping = config.label_mapping
    voice_note = "voice analysis failed" if analysis.state(StepName.EMOTION) == StepState.FAILED else "waiting for analysis"
    labels = list(emotion.probabilities) if emotion else emotion_model_labels(emotion_model_active())
    rows: list[tuple[str, float | None, str]] = []
    for category, state in category_status(labels, mapping).items():
        if category == "abusive" and words is not None:
            rows.append((category, 1.0 if words.abusive else 0.0, "from the words"))
        elif state == NOT_DETECTED:
            rows.append((category, None, NOT_DETECTED))
        elif emotion is None:
            rows.append((category, None, voice_note))
        else:
            strength = sum(p for label, p in emotion.probabilities.items() if mapping.get(label) == category)
            note = f"words {words.prank_likelihood:.2f}" if category == "prank" and words is not None else ""
            rows.append((category, strength, note))
    return rows
