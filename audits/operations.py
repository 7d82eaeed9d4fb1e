"""The queue's health, now and over the shift, for supervisors: the operations panel's figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db.models import Count
from django.utils import timezone

from analysis.models import AnalysisStep, StepState
from calls.models import Case, CaseStatus, PriorityBand

BANDS = list(PriorityBand.values)


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def operations_figures(*, now: datetime | None = None, shift_hours: float = 8.0) -> dict[str, Any]:
    now = now or timezone.now()
    shift_start = now - timedelta(hours=shift_hours)
    open_cases = list(Case.objects.active().values("priority_band", "received_at", "suspected_prank"))
    waiting = {band: [(now - c["received_at"]).total_seconds() for c in open_cases if c["priority_band"] == band]
               for band in BANDS}
    shift = Case.objects.filter(received_at__gte=shift_start)
    steps = AnalysisStep.objects.filter(finished_at__gte=shift_start)
    # Two different times per step: how long the step itself ran (what the case page shows), and how
    # long the caller's audio waited for the result (from the recording's arrival: the queue wait for
    # a worker plus the run). Reporting the second as "latency" read as a slow model.
    latency: dict[str, Any] = {}
    for name in ("emotion", "transcription", "text"):
        rows = [s for s in steps.filter(name=name, state=StepState.DONE).only("created_at", "finished_at", "seconds")
                if s.finished_at is not None]
        waited = [(s.finished_at - s.created_at).total_seconds() for s in rows if s.finished_at is not None]
        ran = [s.seconds for s in rows if s.seconds is not None]
        latency[name] = {"p50_s": _percentile(waited, 50), "p95_s": _percentile(waited, 95), "done": len(rows),
                         "run_p50_s": _percentile(ran, 50), "run_p95_s": _percentile(ran, 95)}
    hourly: dict[datetime, dict[str, int]] = {}
    for c in shift.values("received_at", "priority_band"):
        hour = timezone.localtime(c["received_at"]).replace(minute=0, second=0, microsecond=0)
        hourly.setdefault(hour, dict.fromkeys(BANDS, 0))[c["priority_band"]] += 1
    per_operator = (shift.filter(status=CaseStatus.CLOSED).values("closed_by__username")
                    .annotate(calls=Count("pk")).order_by("-calls"))
    return {
        "now": now.isoformat(timespec="seconds"), "shift_hours": shift_hours,
        "open_per_band": {band: len(waiting[band]) for band in BANDS},
        "waiting_s": {band: {"p50": _percentile(waiting[band], 50), "p95": _percentile(waiting[band], 95)}
                      for band in BANDS},
        "suspected_prank_share_open": round(sum(c["suspected_prank"] for c in open_cases) / len(open_cases), 3)
        if open_cases else None,
        "shift": {"received": shift.count(), "closed": shift.filter(status=CaseStatus.CLOSED).count(),
                  "suspected_prank": shift.filter(suspected_prank=True).count(),
                  "analysis_failed": steps.filter(state=StepState.FAILED).count()},
        "analysis_latency": latency,
        "received_per_hour": [{"hour": h.strftime("%H:00"), **counts} for h, counts in sorted(hourly.items())],
        "closed_per_operator": [{"operator": row["closed_by__username"] or "system", "calls": row["calls"]}
                                for row in per_operator],
    }
