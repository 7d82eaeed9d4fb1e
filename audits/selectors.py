"""Reads of the audit side: a supervisor's queue, one item as its page shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from analysis.selectors import CaseAnalysis, case_analysis_get

from .models import Audit, AuditItem


def audit_items_open_for(user: Any) -> QuerySet[AuditItem]:
    """Items this supervisor can answer: nobody has, or a blind second review is still missing.
    Least certain first (the DESIGN's "low-confidence ones first"), then oldest."""
    standing = Q(audits__superseded_by__isnull=True)
    return (
        AuditItem.objects.annotate(answers=Count("audits", filter=standing, distinct=True),
                                   mine=Count("audits", filter=standing & Q(audits__supervisor=user), distinct=True))
        .filter(mine=0)
        .filter(Q(answers=0) | Q(answers=1, second_review=True))
        .select_related("case")
        .order_by("-uncertainty", "created_at")
    )


def audits_recent_by(user: Any, limit: int = 20) -> QuerySet[Audit]:
    return Audit.objects.filter(supervisor=user).select_related("item__case").order_by("-created_at")[:limit]


@dataclass(frozen=True)
class AuditItemView:
    item: AuditItem
    analysis: CaseAnalysis
    mine: Audit | None  # this supervisor's standing answer
    others: list[Audit]  # other supervisors' standing answers (empty while this one's review is blind)
    blind: bool  # this supervisor is the blind second reviewer and has not answered yet
    history: list[Audit]  # every answer, superseded ones included (shown once not blind)


def audit_item_view(item: AuditItem, user: Any) -> AuditItemView:
    every = list(item.audits.select_related("supervisor").order_by("created_at", "pk"))
    superseded = {a.supersedes_id for a in every if a.supersedes_id}
    standing = [a for a in every if a.pk not in superseded]
    mine = next((a for a in standing if a.supervisor_id == user.pk), None)
    others = [a for a in standing if a.supervisor_id != user.pk]
    blind = mine is None and bool(others)
    return AuditItemView(item=item, analysis=case_analysis_get(item.case), mine=mine,
                         others=[] if blind else others, blind=blind, history=[] if blind else every)
