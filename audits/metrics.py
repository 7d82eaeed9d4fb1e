"""The audit dashboard's figures, per model version and time window, from the standing answers.

The first figure is the prank false-positive rate: of the calls supervisors judged genuine, the
share the system had suspected as pranks. Every figure is given overall and per sampling reason;
only the random sample estimates the whole stream without bias.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from calls.models import Case, CaseStatus
from core.quality import agreement, cohen_kappa, confusion, wilson, word_error_rate

from .models import Audit, AuditCategory, AuditItem, AuditReason

CATEGORIES = list(AuditCategory.values)


@dataclass(frozen=True)
class DashboardFilter:
    model_version: str = ""
    since: date | None = None
    until: date | None = None  # inclusive

    def window(self) -> tuple[datetime | None, datetime | None]:
        tz = timezone.get_current_timezone()
        start = datetime.combine(self.since, time.min, tz) if self.since else None
        end = datetime.combine(self.until + timedelta(days=1), time.min, tz) if self.until else None
        return start, end


@dataclass(frozen=True)
class Answered:
    """An audited item with its primary answer (the first standing, non-blind one) and, for a blind
    pair, the second."""

    item: AuditItem
    primary: Audit
    second: Audit | None


def _items(f: DashboardFilter) -> QuerySet[AuditItem]:
    items = AuditItem.objects.select_related("case").prefetch_related("audits__supervisor")
    start, end = f.window()
    if start:
        items = items.filter(created_at__gte=start)
    if end:
        items = items.filter(created_at__lt=end)
    if f.model_version:
        items = items.filter(model_version=f.model_version)
    return items


def answered_items(f: DashboardFilter) -> list[Answered]:
    out = []
    for item in _items(f):
        every = sorted(item.audits.all(), key=lambda a: (a.created_at, a.pk))
        superseded = {a.supersedes_id for a in every if a.supersedes_id}
        standing = [a for a in every if a.pk not in superseded]
        if not standing:
            continue
        primary = next((a for a in standing if not a.blind), standing[0])
        second = next((a for a in standing if a is not primary and a.supervisor_id != primary.supervisor_id), None)
        out.append(Answered(item, primary, second))
    return out


def _rate(hits: int, total: int) -> dict[str, Any]:
    return asdict(wilson(hits, total))


def label_figures(rows: list[Answered]) -> dict[str, Any]:
    """Prank false positives, category and incident agreement, on a set of answered items."""
    genuine = [r for r in rows if r.primary.genuine]
    pranks = [r for r in rows if not r.primary.genuine]
    judged = [r for r in rows if r.item.system_category]
    truth = [r.primary.category for r in judged]
    said = [r.item.system_category for r in judged]
    return {
        "audited": len(rows),
        "prank_false_positive_rate": _rate(sum(r.item.system_suspected_prank for r in genuine), len(genuine)),
        "prank_recall": _rate(sum(r.item.system_suspected_prank for r in pranks), len(pranks)),
        "category_agreement": _rate(sum(t == s for t, s in zip(truth, said, strict=True)), len(judged)),
        "incident_agreement": _rate(sum(r.primary.incident_type == r.item.system_incident_type for r in rows),
                                    len(rows)),
        "per_category": [asdict(c) for c in agreement(truth, said, CATEGORIES)],
        "confusion": {"labels": CATEGORIES, "rows_supervisor_columns_system": confusion(truth, said, CATEGORIES)},
    }


def dashboard_figures(f: DashboardFilter) -> dict[str, Any]:
    rows = answered_items(f)
    start, end = f.window()
    closed = Case.objects.filter(status=CaseStatus.CLOSED)
    picked = _items(f)
    if start:
        closed = closed.filter(closed_at__gte=start)
    if end:
        closed = closed.filter(closed_at__lt=end)
    closed_count = closed.count()
    random_items = [i for i in picked if AuditReason.RANDOM in i.reasons]
    pairs = [r for r in rows if r.second is not None]
    corrected = [r for r in rows if r.primary.corrected_transcript and r.item.transcript is not None]
    figures: dict[str, Any] = {
        "filter": {"model_version": f.model_version, "since": str(f.since or ""), "until": str(f.until or "")},
        "coverage": {
            "closed_calls": closed_count, "picked": picked.count(), "audited": len(rows),
            "random_picked": len(random_items), "target_share": settings.AUDIT_RANDOM_SHARE,
            "audited_share": _rate(len(rows), closed_count),
            "random_share": _rate(len(random_items), closed_count),
        },
        "all": label_figures(rows),
        "per_reason": {reason: label_figures([r for r in rows if reason in r.item.reasons])
                       for reason in AuditReason.values},
        "blind_pairs": {
            "pairs": len(pairs),
            "kappa_category": cohen_kappa([r.primary.category for r in pairs], [r.second.category for r in pairs
                                                                                 if r.second]),
            "kappa_genuine": cohen_kappa([str(r.primary.genuine) for r in pairs],
                                         [str(r.second.genuine) for r in pairs if r.second]),
        },
        "transcription": {
            "corrected": len(corrected),
            "word_error_rate": word_error_rate([r.primary.corrected_transcript for r in corrected],
                                               [r.item.transcript for r in corrected]),
        },
        "weekly": weekly(rows),
        "model_versions": sorted(set(AuditItem.objects.values_list("model_version", flat=True))),
    }
    return figures


def weekly(rows: list[Answered]) -> list[dict[str, Any]]:
    """Per ISO week (Monday first): audited calls, prank false-positive rate, category agreement."""
    weeks: dict[date, list[Answered]] = {}
    for r in rows:
        day = timezone.localtime(r.item.created_at).date()
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(r)
    out = []
    for monday in sorted(weeks):
        figures = label_figures(weeks[monday])
        out.append({"week": str(monday), "audited": figures["audited"],
                    "prank_false_positive_rate": figures["prank_false_positive_rate"]["value"],
                    "category_agreement": figures["category_agreement"]["value"]})
    return out
