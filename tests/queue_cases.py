"""A long queue made fast: cases bulk-created straight into the table (no events, no broadcast),
highest priority first, for the tests of the queue's window."""

from __future__ import annotations

from django.utils import timezone

from calls.models import Case
from core.triage.config import DEFAULT_CONFIG, band_for
from core.triage.waiting import allowance


def open_cases(count: int, *, top: float = 90.0, step: float = 0.5, **fields) -> list[Case]:
    """``count`` open cases received at the same moment, so their order is their base score:
    ``top``, ``top - step``, ...; returned in queue order."""
    now = timezone.now()
    batch = []
    for i in range(count):
        case = Case(caller_number=f"+91 98000 {i:05d}", received_at=now, **fields)
        base = top - i * step
        case.set_priority(base=base, band=band_for(base), reasons=[f"rank {i + 1}"], allowance_seconds=allowance(base, DEFAULT_CONFIG))
        batch.append(case)
    Case.objects.bulk_create(batch)
    return list(Case.objects.filter(caller_number__startswith="+91 98000").order_by("-queue_key", "pk"))
