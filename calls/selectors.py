"""Reads: which cases a user sees, in which order."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from .models import Case, CaseQuerySet, CaseStatus, Language, Recording


def cases_visible_to(user) -> CaseQuerySet[Case, Case]:
    return Case.objects.visible_to(user)


def case_detail_queryset(user) -> QuerySet[Case]:
    return cases_visible_to(user).select_related("claimed_by", "closed_by", "created_by").prefetch_related(
        Prefetch("recordings", queryset=Recording.objects.order_by("created_at", "pk"))
    )


@dataclass
class QueueFilters:
    view: str = "active"  # active | mine | unclaimed | closed
    incident_type: str = ""
    language: str = ""

    VIEWS = ("active", "mine", "unclaimed", "closed")

    @classmethod
    def from_query(cls, query, *, user) -> QueueFilters:
        view = query.get("view", "active")
        if view not in cls.VIEWS:
            view = "active"
        language = query.get("language", "")
        if language not in Language.values:
            language = ""
        return cls(view=view, incident_type=query.get("incident_type", "")[:32], language=language)


def queue_list(*, user, filters: QueueFilters | None = None, limit: int = 500) -> QuerySet[Case]:
    """Highest priority first; waiting time is folded into queue_key, so SQL sorts it right."""
    filters = filters or QueueFilters()
    cases = cases_visible_to(user).select_related("claimed_by")
    if filters.view == "closed":
        cases = cases.filter(status=CaseStatus.CLOSED).order_by("-closed_at")
    else:
        cases = cases.active().order_by("-queue_key", "received_at")
        if filters.view == "mine":
            cases = cases.filter(claimed_by=user)
        elif filters.view == "unclaimed":
            cases = cases.filter(status=CaseStatus.OPEN)
    if filters.incident_type:
        cases = cases.filter(incident_type=filters.incident_type)
    if filters.language:
        cases = cases.filter(language=filters.language)
    return cases[:limit]
