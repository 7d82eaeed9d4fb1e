"""How well a model version's voice, or a words model version, agreed with the supervisors: the
figure that, once it covers enough audited calls, sets the trust the triage gives it
(core.triage.acoustic, core.triage.words_trust).

A call the supervisor called stressful, painful or angry is *distressed*; calm or prank is *calm*;
drunk and abusive calls are left out (they say nothing of distress). The version's score for a
call is what its probabilities say of distress through the active label mapping, before any trust.

A words version is judged on the calls whose words it read: its P(emergency) against the
supervisor's answer "genuine" (a genuine emergency call, not a prank).
"""

from __future__ import annotations

from analysis.models import AnalysisStep, StepName, StepState
from analysis.selectors import triage_config_active
from analysis.services import audited_reliability_record
from analysis.words_registry import words_audited_reliability_record
from core.emotion.prediction import EmotionPrediction
from core.quality import AucInterval, auc_interval
from core.triage.acoustic import raw_distress

from .metrics import DashboardFilter, answered_items
from .models import AuditCategory, AuditItem

DISTRESSED = {AuditCategory.STRESSFUL, AuditCategory.PAINFUL, AuditCategory.ANGRY}
CALM = {AuditCategory.CALM, AuditCategory.PRANK}


def voice_agreement(model_version: str) -> AucInterval:
    """Distress AUC of the version's voice against the supervisors' categories on its audited calls."""
    config = triage_config_active()
    rows = [r for r in answered_items(DashboardFilter(model_version=model_version))
            if r.item.recording_id and r.primary.category in DISTRESSED | CALM]
    steps = AnalysisStep.objects.filter(recording_id__in=[r.item.recording_id for r in rows],
                                        name=StepName.EMOTION, state=StepState.DONE)
    predictions = {s.recording_id: EmotionPrediction.from_dict(s.result) for s in steps}
    scores, truth = [], []
    for r in rows:
        prediction = predictions.get(r.item.recording_id or 0)
        if prediction is None or prediction.model_version != model_version:
            continue  # re-analysed by another version since: not this version's answer
        distress = raw_distress(prediction.probabilities, config)
        if distress is not None:
            scores.append(distress)
            truth.append(r.primary.category in DISTRESSED)
    return auc_interval(scores, truth)


def voice_trust_refresh(*, model_version: str) -> None:
    """Recompute and record the version's audited agreement (after an audit is committed)."""
    if model_version:
        audited_reliability_record(model_version=model_version, interval=voice_agreement(model_version))


def words_agreement(model_version: str) -> AucInterval:
    """ROC AUC of a words version's P(emergency) against the supervisors' "genuine" on the audited
    calls it read (a call whose words were read again by another version since is not its answer)."""
    rows = [r for r in answered_items(DashboardFilter()) if r.item.recording_id]
    steps = AnalysisStep.objects.filter(recording_id__in=[r.item.recording_id for r in rows],
                                        name=StepName.TEXT, state=StepState.DONE)
    readings = {s.recording_id: (s.result or {}).get("model") or {} for s in steps}
    scores, truth = [], []
    for r in rows:
        reading = readings.get(r.item.recording_id or 0) or {}
        if reading.get("version") == model_version and isinstance(reading.get("p_emergency"), (int, float)):
            scores.append(float(reading["p_emergency"]))
            truth.append(r.primary.genuine)
    return auc_interval(scores, truth)


def words_trust_refresh(*, item_id: int) -> None:
    """Recompute and record the agreement of the words version that read this audited call."""
    item = AuditItem.objects.filter(pk=item_id).first()
    if item is None or not item.recording_id:
        return
    step = AnalysisStep.objects.filter(recording_id=item.recording_id, name=StepName.TEXT,
                                       state=StepState.DONE).first()
    version = ((step.result or {}).get("model") or {}).get("version") if step else None
    if version:
        words_audited_reliability_record(model_version=str(version), interval=words_agreement(str(version)))
