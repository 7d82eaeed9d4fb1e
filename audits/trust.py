"""How well a model version's voice agreed with the supervisors: the figure that, once it covers
enough audited calls, sets the trust the triage gives that voice (core.triage.acoustic).

A call the supervisor called stressful, painful or angry is *distressed*; calm or prank is *calm*;
drunk and abusive calls are left out (they say nothing of distress). The version's score for a
call is what its probabilities say of distress through the active label mapping, before any trust.
"""

from __future__ import annotations

from analysis.models import AnalysisStep, StepName, StepState
from analysis.selectors import triage_config_active
from analysis.services import audited_reliability_record
from core.emotion.prediction import EmotionPrediction
from core.quality import AucInterval, auc_interval
from core.triage.acoustic import raw_distress

from .metrics import DashboardFilter, answered_items
from .models import AuditCategory

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
