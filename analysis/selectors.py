"""What the case page shows of the analysis."""

from __future__ import annotations

from calls.models import Case

from .models import AnalysisStep, StepName, StepState, TriageScore
from . import triage
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
    categories = _category_view(dict(probabilities), config.label_mapping, words)
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


def _category_view(probabilities: dict[str, float], mapping: dict, words: AnalysisStep | None) -> list[tuple]:
    """(category, strength or None, note) for each triage category; None = not detected."""
    status = triage.category_status(probabilities, mapping)
    word_result = words.result if words and words.state == StepState.DONE else {}
    rows = []
    for category, state in status.items():
        strength = sum(p for label, p in probabilities.items() if mapping.get(label) == category)
        note = ""
        if category == "abusive" and word_result:
            strength, note = (1.0 if word_result.get("abusive") else 0.0), "from the words"
        elif category == "prank" and word_result:
            note = f"voice cue; words {word_result.get('prank_likelihood', 0):.2f}"
        if state == triage.NOT_DETECTED or not probabilities and category not in ("abusive", "prank"):
            rows.append((category, None, triage.NOT_DETECTED if state == triage.NOT_DETECTED else "pending"))
        else:
            rows.append((category, strength, note))
    return rows
