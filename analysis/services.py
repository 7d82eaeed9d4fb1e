"""State changes of the analysis side: scoring a case, overriding it, editing triage settings."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from calls import broadcast
from calls.exceptions import CaseActionError, NotAllowed
from calls.models import AnalysisState, Case, CaseEvent, EventKind, Outcome
from core.triage import policy as triage

from .models import AnalysisStep, StepName, StepState, TriageScore, TriageSettings

logger = logging.getLogger(__name__)


def triage_config_active() -> triage.TriageConfig:
    current = TriageSettings.objects.order_by("-version").first()
    return current.as_config() if current else triage.DEFAULT_CONFIG


def confirmed_prank_count(case: Case, days: int) -> int:
    since = timezone.now() - timedelta(days=days)
    return (
        Case.objects.filter(caller_number=case.caller_number, outcome=Outcome.PRANK, closed_at__gte=since)
        .exclude(pk=case.pk)
        .count()
    )


def _latest_steps(case: Case) -> dict[str, AnalysisStep]:
    recording = case.recordings.order_by("-created_at", "-pk").first()
    if recording is None:
        return {}
    return {step.name: step for step in AnalysisStep.objects.filter(recording=recording)}


def case_evidence(
    case: Case, config: triage.TriageConfig, steps: dict[str, AnalysisStep]
) -> triage.TriageEvidence:
    """Unknown stays unknown: a step that has not finished gives None, which triage treats as urgent."""
    emotion = steps.get(StepName.EMOTION)
    words_step = steps.get(StepName.TEXT)
    transcription = steps.get(StepName.TRANSCRIPTION)
    probabilities = None
    if emotion and emotion.state == StepState.DONE:
        probabilities = emotion.result.get("probabilities")
    words = None
    if words_step and words_step.state == StepState.DONE and words_step.result.get("known", True):
        words = triage.WordEvidence.from_text_analysis_dict(words_step.result)
    return triage.TriageEvidence(
        emotion_probabilities=probabilities,
        emotion_failed=bool(emotion and emotion.state == StepState.FAILED),
        words=words,
        transcription_failed=bool(
            transcription and transcription.state in (StepState.FAILED, StepState.UNAVAILABLE)
        ),
        confirmed_prank_count=confirmed_prank_count(case, config.prank_history_days),
        override_score=case.priority_override,
        override_reason="set by a supervisor" if case.priority_override is not None else "",
    )


def _analysis_state(steps: dict[str, AnalysisStep]) -> tuple[str, str]:
    if not steps:
        return AnalysisState.NO_AUDIO, ""
    errors = [
        f"{step.get_name_display()}: {step.error}"
        for step in steps.values()
        if step.state in (StepState.FAILED, StepState.UNAVAILABLE) and step.error
    ]
    if any(step.state in (StepState.PENDING, StepState.RUNNING) for step in steps.values()):
        return AnalysisState.ANALYSING, "; ".join(errors)
    if any(step.state == StepState.FAILED for step in steps.values()):
        return AnalysisState.FAILED, "; ".join(errors)
    return AnalysisState.DONE, "; ".join(errors)


def apply_score(
    case: Case, steps: dict[str, AnalysisStep], config: triage.TriageConfig | None = None
) -> triage.TriageResult:
    """Compute and set the case's priority fields (not saved); waiting time is added by the queue."""
    config = config or triage_config_active()
    result = triage.triage(case_evidence(case, config, steps), config)
    words = steps.get(StepName.TEXT)
    case.set_priority(
        base=result.base_score,
        band=result.band,
        reasons=[r for r in result.reasons if not r.startswith("waiting ")],
        wait_rate=config.wait_rate,
    )
    prank = next((c for c in result.components if c.name == "prank"), None)
    case.suspected_prank = bool(prank and prank.value >= 0.5)
    case.incident_type = (words.result.get("incident_type") or "") if words and words.state == StepState.DONE else ""
    return result


def case_rescore(*, case_id: int) -> TriageScore:
    """Re-score a case from its stored evidence, record the score, and tell the browsers."""
    config = triage_config_active()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        steps = _latest_steps(case)
        result = apply_score(case, steps, config)
        case.analysis_state, case.analysis_error = _analysis_state(steps)
        case.save(
            update_fields=[
                "priority_base", "priority_band", "priority_reasons", "queue_key",
                "suspected_prank", "incident_type", "analysis_state", "analysis_error",
            ]
        )
        score = TriageScore.objects.create(
            case=case,
            base_score=result.base_score,
            band=result.band,
            components=[c.__dict__ for c in result.components],
            reasons=result.reasons,
            config_version=result.config_version,
            provisional=result.provisional,
            overridden=result.overridden,
        )
        transaction.on_commit(lambda: broadcast.case_changed(case_id, "score_changed"))
    return score


def case_override_priority(*, case: Case, supervisor, score: float | None, reason: str) -> Case:
    """Set (or, with score=None, clear) a supervisor's priority; audit-logged with its reason."""
    if not supervisor.has_role("supervisor"):
        raise NotAllowed("Only a supervisor can override a priority.")
    if not reason.strip():
        raise CaseActionError("Give a reason for the override.")
    if score is not None and not triage.SCORE_MIN <= score <= triage.SCORE_MAX:
        raise CaseActionError(f"The priority must be from {triage.SCORE_MIN:g} to {triage.SCORE_MAX:g}.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        previous = case.priority_override
        case.priority_override = score
        case.save(update_fields=["priority_override"])
        CaseEvent.objects.create(
            case=case,
            actor=supervisor,
            kind=EventKind.PRIORITY_OVERRIDDEN,
            reason=reason.strip(),
            data={"from": previous, "to": score, "base_before": case.priority_base},
        )
    case_rescore(case_id=case.pk)
    case.refresh_from_db()
    return case


def triage_settings_save(
    *, admin, weights: dict, label_mapping: dict, max_wait_seconds: float, prank_history_days: int, note: str = ""
) -> TriageSettings:
    """Validate and store a new settings version, then re-score the open cases with it."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can change the triage settings.")
    with transaction.atomic():
        latest = TriageSettings.objects.select_for_update().order_by("-version").first()
        version = (latest.version if latest else triage.DEFAULT_CONFIG.version) + 1
        config = triage.TriageConfig(  # raises ConfigError with a clear message
            version=version,
            weights=weights,
            label_mapping=label_mapping,
            max_wait_seconds=max_wait_seconds,
            prank_history_days=prank_history_days,
        )
        saved = TriageSettings.objects.create(
            version=version,
            weights=config.weights,
            label_mapping=config.label_mapping,
            max_wait_seconds=config.max_wait_seconds,
            prank_history_days=config.prank_history_days,
            note=note,
            created_by=admin,
        )
    for case_id in Case.objects.active().values_list("pk", flat=True):
        case_rescore(case_id=case_id)
    return saved
