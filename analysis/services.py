"""State changes of the analysis side: scoring a case, overriding it, editing triage settings.

Each one locks what it changes, records it, and tells the browsers after the commit.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.db import transaction

from calls import broadcast
from calls.exceptions import CaseActionError, NotAllowed
from calls.models import AnalysisState, Case, EventKind
from calls.services import case_event_record, case_lock
from core.emotion import SHIPPED_MODELS_DIR
from core.emotion.model_version import ModelError, artefact_file, artefact_sha256, read_metadata
from core.emotion.prediction import EmotionPrediction
from core.quality import AucInterval
from core.speech.transcript import Word
from core.text.analysis import TextAnalysis
from core.triage.acoustic import acoustic_trust
from core.triage.config import SCORE_MAX, SCORE_MIN, TriageConfig
from core.triage.evidence import TriageEvidence, WordEvidence
from core.triage.policy import PRANK_SUSPECTED, TriageResult, triage
from core.triage.waiting import allowance

from . import signals
from .exceptions import ModelVersionRefused, TriageSettingsRefused
from .models import (
    ActivationAction,
    AnalysisStep,
    AuditedReliability,
    EmotionModelActivation,
    EmotionModelChallenger,
    EmotionModelVersion,
    LiveReading,
    StepName,
    StepState,
    SupersededPrediction,
    TriageScore,
    TriageSettings,
)
from .selectors import (
    CaseAnalysis,
    case_analysis_get,
    confirmed_prank_count,
    emotion_model_folder,
    emotion_model_previous,
    emotion_model_promotion_blockers,
    emotion_model_reliability,
    emotion_model_version_active,
    triage_config_active,
    triage_settings_config,
)
from .words_registry import words_model_trust

logger = logging.getLogger(__name__)


def case_evidence(case: Case, config: TriageConfig, analysis: CaseAnalysis) -> TriageEvidence:
    """Unknown stays unknown: a step that has not finished gives None, which triage treats as urgent."""
    emotion = analysis.emotion
    words = analysis.words
    return TriageEvidence(
        emotion_probabilities=emotion.probabilities if emotion is not None else None,
        acoustic_trust=acoustic_trust(emotion_model_reliability(emotion.model_version)) if emotion else 0.0,
        voice_unfamiliar=bool(emotion and emotion.unfamiliar),
        emotion_failed=analysis.state(StepName.EMOTION) == StepState.FAILED,
        words=(_word_evidence(words) if words is not None
               else WordEvidence(no_speech=True) if analysis.silent_recording else None),
        transcription_failed=analysis.state(StepName.TRANSCRIPTION) in (StepState.FAILED, StepState.UNAVAILABLE),
        confirmed_prank_count=confirmed_prank_count(case, config.prank_history_days),
        override_score=case.priority_override,
        override_reason=_override_reason(case) if case.priority_override is not None else "",
        in_progress=analysis.live is not None,
    )


def _word_evidence(words: TextAnalysis) -> WordEvidence:
    """The words' evidence, the words model followed as far as its version is trusted now (its
    audited agreement once there is enough of it; a stored reading carries its held-out trust)."""
    evidence = WordEvidence.from_text_analysis(words)
    version = (words.model or {}).get("version")
    if evidence.model_p_emergency is None or not version:
        return evidence
    return replace(evidence, model_trust=words_model_trust(str(version), stored=evidence.model_trust)[0])


def _override_reason(case: Case) -> str:
    """The reason the supervisor typed with the override in force, and who: operators read it as
    the call's first "why" (the latest override event is the one in force)."""
    event = (case.events.filter(kind=EventKind.PRIORITY_OVERRIDDEN).select_related("actor").order_by("-pk").first())
    if event is None or not event.reason.strip():
        return "set by a supervisor"
    return f"{event.reason.strip()} ({event.actor})" if event.actor else event.reason.strip()


def _analysis_state(steps: dict[str, AnalysisStep], *, live: bool = False) -> tuple[str, str]:
    if live:
        return AnalysisState.ANALYSING, ""
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


def _apply_score(case: Case, analysis: CaseAnalysis, config: TriageConfig) -> TriageResult:
    """Compute and set the case's priority fields (not saved); waiting time is added by the queue."""
    result = triage(case_evidence(case, config, analysis), config)
    case.set_priority(
        base=result.base_score,
        band=result.band,
        reasons=[r for r in result.reasons if not r.startswith("waiting ")],
        allowance_seconds=allowance(result.base_score, config),
    )
    prank = next((c for c in result.components if c.name == "prank"), None)
    case.suspected_prank = bool(prank and prank.value >= PRANK_SUSPECTED)
    case.non_emergency = result.non_emergency_kind
    case.silent_call = result.silent_call
    case.incident_type = analysis.words.incident_type if analysis.words is not None else ""
    case.analysis_state, case.analysis_error = _analysis_state(analysis.steps, live=analysis.live is not None)
    return result


def case_rescore(*, case_id: int) -> TriageScore:
    """Re-score a case from its stored evidence, record the score, and tell the browsers."""
    config = triage_config_active()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        result = _apply_score(case, case_analysis_get(case), config)
        case.save(
            update_fields=[
                "priority_base", "priority_band", "priority_reasons", "queue_key", "due_at",
                "suspected_prank", "non_emergency", "silent_call", "incident_type", "analysis_state",
                "analysis_error",
            ]
        )
        score = TriageScore.objects.create(
            case=case,
            base_score=result.base_score,
            band=result.band,
            components=[c.to_dict() for c in result.components],
            reasons=result.reasons,
            config_version=result.config_version,
            provisional=result.provisional,
            overridden=result.overridden,
        )
        band = result.band  # on the notice, so that pages show a critical call at once
        transaction.on_commit(lambda: broadcast.case_changed(case_id, "score_changed", band=band))
    return score


def live_reading_record(*, case_id: int, heard_seconds: float, behind_seconds: float, words: list[Word],
                        tentative: str, text: TextAnalysis, emotion: EmotionPrediction | None,
                        final: bool = False) -> LiveReading:
    """Keep what the live worker made of a call so far (``final``: all of it, after the hang-up); the
    case is scored from it (case_rescore) until its recording has been analysed. The caller
    throttles: one reading when the evidence changed."""
    return LiveReading.objects.create(
        case_id=case_id, heard_seconds=round(heard_seconds, 2), behind_seconds=round(max(0.0, behind_seconds), 2),
        words=[w.to_dict() for w in words], tentative=tentative[-2000:], text=text.to_dict(),
        emotion=emotion.to_dict() if emotion is not None else None, final=final,
    )


def case_override_priority(*, case: Case, supervisor: Any, score: float | None, reason: str) -> Case:
    """Set (or, with score=None, clear) a supervisor's priority: in one transaction with its event,
    the new score and the broadcast after the commit."""
    if not supervisor.has_role("supervisor"):
        raise NotAllowed("Only a supervisor can override a priority.")
    if not reason.strip():
        raise CaseActionError("Give a reason for the override.")
    if score is not None and not SCORE_MIN <= score <= SCORE_MAX:
        raise CaseActionError(f"The priority must be from {SCORE_MIN:g} to {SCORE_MAX:g}.")
    with transaction.atomic():
        case = case_lock(case)
        previous = case.priority_override
        case.priority_override = score
        case.save(update_fields=["priority_override"])
        case_event_record(
            case=case,
            kind=EventKind.PRIORITY_OVERRIDDEN,
            actor=supervisor,
            reason=reason.strip(),
            # these keys go to **data; mypy would also match them against the named parameters
            **cast(dict[str, Any], {"from": previous, "to": score, "base_before": case.priority_base}),
        )
        case_rescore(case_id=case.pk)
        transaction.on_commit(lambda: broadcast.case_changed(case.pk, EventKind.PRIORITY_OVERRIDDEN))
    case.refresh_from_db()
    return case


def triage_settings_save(
    *, admin: Any, weights: dict[str, Any], label_mapping: dict[str, str], max_wait_seconds: float,
    prank_history_days: int, note: str = "",
) -> TriageSettings:
    """Validate and store a new settings version; the open cases are re-scored in the background."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can change the triage settings.")
    with transaction.atomic():
        latest = TriageSettings.objects.select_for_update().order_by("-version").first()
        version = (latest.version if latest else triage_config_active().version) + 1
        config = TriageConfig(  # raises ConfigError with a clear message
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
        signals.triage_settings_saved.send(sender=TriageSettings, settings=saved)
    return saved


def triage_settings_restore(*, admin: Any, version: int, note: str = "") -> TriageSettings:
    """Roll back: an earlier version's settings saved again as the newest version (history stays)."""
    config = triage_settings_config(version)
    if config is None:
        raise TriageSettingsRefused(f"There is no triage settings version {version}.")
    return triage_settings_save(admin=admin, weights=config.weights, label_mapping=config.label_mapping,
                                max_wait_seconds=config.max_wait_seconds,
                                prank_history_days=config.prank_history_days,
                                note=f"restored v{version}" + (f": {note.strip()}" if note.strip() else ""))


def open_cases_rescore() -> int:
    """Re-score every open case with the active settings (a background job); returns the count."""
    case_ids = list(Case.objects.active().values_list("pk", flat=True))
    for case_id in case_ids:
        try:
            case_rescore(case_id=case_id)
        except Case.DoesNotExist:  # pragma: no cover - cases are never deleted
            continue
    logger.info("Re-scored %d open case(s)", len(case_ids))
    return len(case_ids)


# -- the emotion model registry -----------------------------------------------------------------


def emotion_model_register(*, folder: Path, user: Any = None) -> EmotionModelVersion:
    """Register a model version's folder (checked like a load: metadata, artefact sha256). The same
    name and artefact again returns the registered row; the same name with another artefact is refused."""
    try:
        meta = read_metadata(folder)
        artefact_file(folder, meta)
    except ModelError as exc:
        raise ModelVersionRefused(f"Cannot register {folder}: {exc}") from exc
    existing = EmotionModelVersion.objects.filter(name=meta["version"]).first()
    if existing is not None:
        if existing.artefact_sha256 != artefact_sha256(meta):
            raise ModelVersionRefused(f"A different model is registered as {meta['version']} already; "
                                  "versions are immutable, so give the new one another name.")
        return existing
    try:
        stored_path = str(folder.resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        stored_path = str(folder.resolve())
    return EmotionModelVersion.objects.create(
        name=meta["version"], kind=meta["model_kind"], path=stored_path, artefact_sha256=artefact_sha256(meta),
        labels=list(meta["labels"]), metadata=meta, registered_by=user,
    )


def emotion_models_register_shipped() -> list[EmotionModelVersion]:
    """Every emotion version shipped in ml_models/ (after migrate and flush; idempotent). The words
    model beside them (metadata kind "words") is read by the text step, not registered here."""
    folders = sorted(p.parent for p in SHIPPED_MODELS_DIR.glob("*/metadata.json")
                     if json.loads(p.read_text()).get("kind") != "words")
    registered = []
    for folder in folders:
        try:
            registered.append(emotion_model_register(folder=folder))
        except ModelVersionRefused:
            logger.exception("Shipped emotion model %s could not be registered", folder.name)
    return registered


def emotion_model_promote(*, version: EmotionModelVersion, admin: Any, reason: str) -> EmotionModelActivation:
    """Make a version the active one; every worker's next emotion task uses it."""
    return _activate(version=version, admin=admin, reason=reason, action=ActivationAction.PROMOTE)


def emotion_model_rollback(*, admin: Any, reason: str) -> EmotionModelActivation:
    """Make the version that was active before the current one active again."""
    current = emotion_model_version_active()
    previous = emotion_model_previous(current)
    if previous is None:
        raise ModelVersionRefused("There is no earlier active version to roll back to.")
    return _activate(version=previous, admin=admin, reason=reason, action=ActivationAction.ROLLBACK)


def _activate(*, version: EmotionModelVersion, admin: Any, reason: str, action: str) -> EmotionModelActivation:
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can change the emotion model in use.")
    if not reason.strip():
        raise ModelVersionRefused("Say why (it is kept with the change).")
    blockers = emotion_model_promotion_blockers(version, triage_config_active())
    if blockers:
        raise ModelVersionRefused(f"{version.name} cannot be made active: " + "; ".join(blockers))
    with transaction.atomic():
        EmotionModelVersion.objects.select_for_update().get(pk=version.pk)  # one change at a time
        if emotion_model_version_active() == version:
            raise ModelVersionRefused(f"{version.name} is the active version already.")
        activation = EmotionModelActivation.objects.create(version=version, action=action, reason=reason.strip(),
                                                           activated_by=admin)
    logger.info("Emotion model %s: %s by %s (%s)", action, version.name, admin, reason.strip())
    return activation


def emotion_model_challenger_set(*, version: EmotionModelVersion | None, admin: Any,
                                 reason: str) -> EmotionModelChallenger:
    """Shadow the active version with another (None stops): it scores new calls beside it, never
    touching their priority."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can choose a challenger.")
    if not reason.strip():
        raise ModelVersionRefused("Say why (it is kept with the change).")
    if version is not None:
        if version == emotion_model_version_active():
            raise ModelVersionRefused(f"{version.name} is the active version: a challenger must be another one.")
        try:
            read_metadata(emotion_model_folder(version))
        except ModelError as exc:
            raise ModelVersionRefused(f"{version.name} cannot be loaded: {exc}") from exc
    return EmotionModelChallenger.objects.create(version=version, reason=reason.strip(), set_by=admin)


def open_cases_reanalyse_emotion(*, admin: Any) -> int:
    """Score the open cases' voices again with the active version (after a promotion). Each replaced
    result is kept (SupersededPrediction); the jobs run in the background. Returns the count."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can re-analyse the open cases.")
    active = emotion_model_version_active()
    steps = AnalysisStep.objects.select_for_update().filter(
        name=StepName.EMOTION, state=StepState.DONE, recording__case__in=Case.objects.active(),
    ).exclude(emotion_model=active) if active else AnalysisStep.objects.none()
    recording_ids = []
    with transaction.atomic():
        for step in steps:
            SupersededPrediction.objects.create(recording_id=step.recording_id, version=step.emotion_model,
                                                model_version=step.model_version, result=step.result,
                                                superseded_by=admin)
            step.state, step.result, step.error, step.emotion_model = StepState.PENDING, {}, "", None
            step.save(update_fields=["state", "result", "error", "emotion_model"])
            recording_ids.append(step.recording_id)
            signals.emotion_step_reset.send(sender=AnalysisStep, recording_id=step.recording_id)
    logger.info("Re-analysing the voices of %d open case(s) with %s", len(recording_ids), active)
    return len(recording_ids)


def audited_reliability_record(*, model_version: str, interval: AucInterval) -> AuditedReliability:
    """Record how well a version's voice agreed with the supervisors; when that changes the trust
    the triage gives it, the open cases are re-scored after the commit."""
    trust_before = acoustic_trust(emotion_model_reliability(model_version))
    with transaction.atomic():
        row = AuditedReliability.objects.create(
            model_version=model_version, auc=interval.auc, auc_low=interval.low, auc_high=interval.high,
            distressed=interval.positives, calm=interval.negatives)
        if abs(acoustic_trust(emotion_model_reliability(model_version)) - trust_before) >= 0.005:
            logger.info("Trust in %s's voice now from %d audited calls: re-scoring the open cases", model_version,
                        interval.positives + interval.negatives)
            signals.model_trust_changed.send(sender=AuditedReliability, model_version=model_version)
    return row
