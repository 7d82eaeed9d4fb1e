"""Reads: which cases a user sees, in which order."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Case as SqlCase
from django.db.models import Count, IntegerField, Prefetch, QuerySet, Value, When

from .models import Case, CaseQuerySet, CaseStatus, Language, PriorityBand, Recording


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

    def query_string(self, **extra: object) -> str:
        """These filters (defaults left out) plus ``extra``, for links that keep them."""
        params = {"view": self.view if self.view != "active" else "", "incident_type": self.incident_type,
                  "language": self.language, **extra}
        return urlencode({key: value for key, value in params.items() if value not in ("", None)})


# Unclaimed calls before claimed ones: a call-taker looks for the next call to take, and a claimed
# call already has someone on it (it stays listed, below, in its own queue order).
UNCLAIMED_FIRST = SqlCase(When(status=CaseStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())


def queue_ordered(*, user, filters: QueueFilters) -> QuerySet[Case]:
    """Unclaimed first, then highest priority first; waiting time is folded into queue_key, so SQL
    sorts it right. The pk breaks ties, so a page boundary never shows a case twice or skips it."""
    cases = cases_visible_to(user)
    if filters.view == "closed":
        cases = cases.filter(status=CaseStatus.CLOSED).order_by("-closed_at", "-pk")
    else:
        cases = cases.active().order_by(UNCLAIMED_FIRST, "-queue_key", "received_at", "pk")
        if filters.view == "mine":
            cases = cases.filter(claimed_by=user)
        elif filters.view == "unclaimed":
            cases = cases.filter(status=CaseStatus.OPEN)
    if filters.incident_type:
        cases = cases.filter(incident_type=filters.incident_type)
    if filters.language:
        cases = cases.filter(language=filters.language)
    return cases


@dataclass(frozen=True)
class QueueWindow:
    """One page of the queue and the counts of the whole queue (same filters): rendering every open
    case cost ~0.3 ms a row, so the page shows a window and says how many calls lie outside it."""

    cases: list[Case]
    bands: dict[str, int]  # cases per priority band, every band present
    page: int
    page_size: int
    filters: QueueFilters = field(default_factory=QueueFilters)

    @property
    def total(self) -> int:
        return sum(self.bands.values())

    @property
    def pages(self) -> int:
        return _page_count(self.total, self.page_size)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.cases else 0

    @property
    def last(self) -> int:
        return self.first + len(self.cases) - 1 if self.cases else 0

    @property
    def band_counts(self) -> list[tuple[str, str, int]]:
        """(band, label, cases), most urgent band first."""
        return [(band, label, self.bands.get(band, 0)) for band, label in PriorityBand.choices]

    # Links that keep the filters: the top of the queue, and the pages either side (None at an end).
    @property
    def top_query(self) -> str:
        return self._page_query(1)

    @property
    def previous_query(self) -> str | None:
        return self._page_query(self.page - 1) if self.page > 1 else None

    @property
    def next_query(self) -> str | None:
        return self._page_query(self.page + 1) if self.page < self.pages else None

    def _page_query(self, page: int) -> str:
        return self.filters.query_string(page=page if page > 1 else "")


def _page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def parse_page(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def queue_window(*, user, filters: QueueFilters, page: int = 1, page_size: int = 50) -> QueueWindow:
    """Two queries whatever the queue's length: the counts per band, then one page of rows. A page
    past the end (the queue shrank since the link was made) shows the last page instead."""
    cases = queue_ordered(user=user, filters=filters)
    counted = cases.order_by().values_list("priority_band").annotate(n=Count("pk"))
    bands = {band: 0 for band in PriorityBand.values} | dict(counted)
    page = min(page, _page_count(sum(bands.values()), page_size))
    start = (page - 1) * page_size
    rows = list(cases.select_related("claimed_by")[start:start + page_size])
    return QueueWindow(cases=rows, bands=bands, page=page, page_size=page_size, filters=filters)


def api_queue(*, user, status: str = "active", band: str = "", language: str = "", incident_type: str = "",
              since=None) -> QuerySet[Case]:
    """The queue as API clients read it (paged and ordered by the API's cursor)."""
    cases = cases_visible_to(user).select_related("claimed_by")
    cases = cases.active() if status == "active" else cases.filter(status=status)
    if band:
        cases = cases.filter(priority_band=band)
    if language:
        cases = cases.filter(language=language)
    if incident_type:
        cases = cases.filter(incident_type=incident_type)
    if since is not None:
        cases = cases.filter(updated_at__gte=since)
    return cases
