"""Reads of the analysis side: a case's typed analysis, the active settings, the model to use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from calls.models import Case, Outcome, Recording
from core.emotion import SHIPPED_MODELS_DIR
from core.emotion.model_version import ModelError, read_metadata
from core.emotion.prediction import EmotionPrediction
from core.speech.transcript import Transcript
from core.text.analysis import TextAnalysis
from core.triage.config import DEFAULT_CONFIG, NOT_DETECTED, TriageConfig, category_status

from .models import AnalysisStep, StepName, StepState, TriageScore, TriageSettings


@dataclass(frozen=True)
class EmotionModelChoice:
    """The emotion model version the pipeline uses now."""

    path: Path


def emotion_model_active() -> EmotionModelChoice:
    """The one place the pipeline asks which emotion model to use (asked per task, never cached here)."""
    return EmotionModelChoice(path=Path(settings.EMOTION_MODEL_DIR))


def emotion_model_reliability(version: str) -> dict[str, float] | None:
    """The measured reliability of the model version that made a prediction (None if unknown,
    which the triage trusts as little as a model at chance)."""
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


def triage_config_active() -> TriageConfig:
    current = TriageSettings.objects.order_by("-version").first()
    return current.as_config() if current else DEFAULT_CONFIG


def confirmed_prank_count(case: Case, days: int) -> int:
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

    def state(self, name: str) -> str | None:
        step = self.steps.get(name)
        return step.state if step else None

    def _done(self, name: str) -> dict[str, Any] | None:
        step = self.steps.get(name)
        return step.result if step is not None and step.state == StepState.DONE else None

    @cached_property
    def emotion(self) -> EmotionPrediction | None:
        result = self._done(StepName.EMOTION)
        return EmotionPrediction.from_dict(result) if result is not None else None

    @cached_property
    def transcript(self) -> Transcript | None:
        result = self._done(StepName.TRANSCRIPTION)
        return Transcript.from_dict(result) if result is not None else None

    @cached_property
    def words(self) -> TextAnalysis | None:
        result = self._done(StepName.TEXT)
        return TextAnalysis.from_dict(result) if result is not None else None


def case_analysis_get(case: Case) -> CaseAnalysis:
    recording = case.recordings.order_by("-created_at", "-pk").first()
    if recording is None:
        return CaseAnalysis(recording=None)
    return CaseAnalysis(recording=recording, steps={s.name: s for s in AnalysisStep.objects.filter(recording=recording)})


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
        "transcription_step": analysis.steps.get(StepName.TRANSCRIPTION),
        "words": analysis.words,
        "score": TriageScore.objects.filter(case=case).first(),
        "categories": _category_view(analysis, config),
        "effective_priority": case.effective_priority(config.wait_rate),
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
