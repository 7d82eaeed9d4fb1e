"""State changes of the audit side: picking a closed call for review, recording an answer.

Each one locks what it builds on, validates, writes append-only rows and tells the browsers
after the commit.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction

from analysis.selectors import CaseAnalysis, case_analysis_get, triage_config_active
from calls import broadcast
from calls.exceptions import CaseActionError, NotAllowed
from calls.models import Case, CaseStatus
from core.triage.config import TriageConfig
from core.triage.policy import typical_genuine_score

from .models import INCIDENT_CHOICES, Audit, AuditCategory, AuditItem
from .sampling import SamplingConfig, reasons_for, sampling_config, uniform_draw
from .trust import voice_trust_refresh, words_trust_refresh

logger = logging.getLogger(__name__)

AUDIT_GROUP = "audits"


def system_category(case: Case, analysis: CaseAnalysis, config: TriageConfig) -> str:
    """What the system made of the call, in the supervisors' categories ("" when it had no idea)."""
    if case.suspected_prank:
        return AuditCategory.PRANK
    if analysis.words is not None and analysis.words.abusive and not analysis.words.unsure:
        return AuditCategory.ABUSIVE
    if analysis.emotion is None:
        return ""
    strength: dict[str, float] = {}
    for label, p in analysis.emotion.probabilities.items():
        category = config.label_mapping.get(label.strip().lower())
        if category is not None:
            strength[category] = strength.get(category, 0.0) + p
    return max(strength, key=lambda c: strength[c]) if strength else ""


def audit_item_create(*, case: Case, config: SamplingConfig | None = None) -> AuditItem | None:
    """Pick a closed case for review when a sampling rule applies (once per case)."""
    config = config or sampling_config()
    triage_config = triage_config_active()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status != CaseStatus.CLOSED or AuditItem.objects.filter(case=case).exists():
            return None
        analysis = case_analysis_get(case)
        reasons, uncertainty = reasons_for(case, analysis, typical_genuine_score(triage_config), config)
        if not reasons:
            return None
        transcript = analysis.transcript
        item = AuditItem.objects.create(
            case=case, recording=analysis.recording, reasons=reasons, uncertainty=uncertainty,
            second_review=uniform_draw(case.pk, config.salt, "second") < config.second_review_share,
            model_version=analysis.emotion.model_version if analysis.emotion else "",
            system_category=system_category(case, analysis, triage_config),
            system_suspected_prank=case.suspected_prank, system_incident_type=case.incident_type,
            system_band=case.priority_band,
            transcript=transcript.text if transcript else "",
            transcript_engine=f"{transcript.engine}:{transcript.model}" if transcript else "",
        )
        transaction.on_commit(lambda: broadcast.send_to_group(AUDIT_GROUP, "audit.changed", item=item.pk))
    return item


def audit_items_sample_past(*, since: datetime | None = None) -> int:
    """Apply the sampling rules to closed cases that were never considered (e.g. older calls)."""
    cases = Case.objects.filter(status=CaseStatus.CLOSED, audit_item__isnull=True)
    if since is not None:
        cases = cases.filter(closed_at__gte=since)
    config = sampling_config()
    return sum(audit_item_create(case=case, config=config) is not None for case in cases.order_by("pk"))


def audit_record(
    *, item: AuditItem, supervisor: Any, category: str, genuine: bool, incident_type: str,
    corrected_transcript: str = "", comment: str = "", supersedes: Audit | None = None,
) -> Audit:
    """Record a supervisor's answer; a correction names the answer it supersedes."""
    if not supervisor.has_role("supervisor"):
        raise NotAllowed("Only a supervisor can audit a call.")
    if category not in AuditCategory.values:
        raise CaseActionError(f"'{category}' is not a triage category.")
    if incident_type not in dict(INCIDENT_CHOICES):
        raise CaseActionError(f"'{incident_type}' is not an incident type.")
    if category == AuditCategory.PRANK and genuine:
        raise CaseActionError("A call marked as a prank cannot also be genuine.")
    with transaction.atomic():
        item = AuditItem.objects.select_for_update().get(pk=item.pk)
        active = list(active_audits(item))
        mine = next((a for a in active if a.supervisor_id == supervisor.pk), None)
        if supersedes is not None:
            if mine is None or supersedes.pk != mine.pk:
                raise CaseActionError("Only your own latest answer can be corrected.")
            blind = mine.blind
        else:
            if mine is not None:
                raise CaseActionError("You have audited this call already: correct your answer instead.")
            others = [a for a in active if a.supervisor_id != supervisor.pk]
            if others and not item.second_review:
                raise CaseActionError(f"This call was audited by {others[0].supervisor} already.")
            if len(others) >= 2:
                raise CaseActionError("This call has both of its reviews already.")
            blind = bool(others)
        audit = Audit(item=item, supervisor=supervisor, category=category, genuine=genuine,
                      incident_type=incident_type, corrected_transcript=corrected_transcript.strip(),
                      comment=comment.strip(), blind=blind, supersedes=supersedes)
        audit.full_clean()
        audit.save()
        transaction.on_commit(lambda: broadcast.send_to_group(AUDIT_GROUP, "audit.changed", item=item.pk))
        version = item.model_version
        transaction.on_commit(lambda: voice_trust_refresh(model_version=version))
        transaction.on_commit(lambda: words_trust_refresh(item_id=item.pk))
    return audit


def active_audits(item: AuditItem) -> Any:
    """The answers that stand: every audit no later audit supersedes."""
    return item.audits.filter(superseded_by__isnull=True).select_related("supervisor")
