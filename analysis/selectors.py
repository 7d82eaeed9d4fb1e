"""What the case page shows of the analysis."""

from __future__ import annotations

from calls.models import Case
from core.triage import policy as triage

from .models import AnalysisStep, StepName, StepState, TriageScore
from .services import triage_config_active


def analysis_summary(case: Case) -> dict:
    recording = case.latest_recording
    steps = {}
    if recording is not None:
        steps = {s.name: s for s in AnalysisStep.objects.filter(recording=recording)}
    emotion = steps.get(StepName.EMOTION)
    transcription = steps.get(StepName.TRANSCRIPTION)
    words = steps.get(StepName.TEXT)
    score = TriageScore.objects.filter(case=case).first()
    config = triage_config_active()
    probabilities = []
    if emotion and emotion.state == StepState.DONE:
        probabilities = sorted(
            emotion.result.get("probabilities", {}).items(), key=lambda item: item[1], reverse=True
        )
    categories = _category_view(dict(probabilities), config.label_mapping, emotion, words)
    return {
        "steps": [steps[name] for name in StepName.values if name in steps],
        "emotion": emotion if emotion and emotion.state == StepState.DONE else None,
        "probabilities": probabilities,
        "gender": (emotion.result.get("gender") if emotion and emotion.state == StepState.DONE else None),
        "transcript": transcription.result if transcription and transcription.state == StepState.DONE else None,
        "transcription_step": transcription,
        "words": words.result if words and words.state == StepState.DONE else None,
        "score": score,
        "categories": categories,
        "wait_rate": config.wait_rate,
        "effective_priority": case.effective_priority(config.wait_rate),
    }


def _category_view(
    probabilities: dict[str, float], mapping: dict, emotion: AnalysisStep | None, words: AnalysisStep | None
) -> list[tuple]:
    """(category, strength or None, note) per triage category. "Not detected by this model" only
    when the model's labels cannot produce it; a voice analysis not done yet says so instead."""
    word_result = words.result if words and words.state == StepState.DONE else {}
    voice_done = emotion is not None and emotion.state == StepState.DONE
    voice_note = "voice analysis failed" if emotion and emotion.state == StepState.FAILED else "waiting for analysis"
    status = triage.category_status(probabilities if voice_done else _active_model_labels(), mapping)
    rows = []
    for category, state in status.items():
        if category == "abusive" and word_result:
            rows.append((category, 1.0 if word_result.get("abusive") else 0.0, "from the words"))
        elif state == triage.NOT_DETECTED:
            rows.append((category, None, triage.NOT_DETECTED))
        elif not voice_done:
            rows.append((category, None, voice_note))
        else:
            strength = sum(p for label, p in probabilities.items() if mapping.get(label) == category)
            note = f"words {word_result.get('prank_likelihood', 0):.2f}" if category == "prank" and word_result else ""
            rows.append((category, strength, note))
    return rows


def _active_model_labels() -> list[str]:
    from django.conf import settings

    from core.emotion.classifier import ModelError, read_metadata

    try:
        return list(read_metadata(settings.EMOTION_MODEL_DIR)["labels"])
    except (ModelError, KeyError):
        return []
