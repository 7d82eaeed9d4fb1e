"""Reads of live streams."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from calls.models import Case, CaseStatus

from .models import OPEN_STATES, LiveStream


def live_case_ids(case_ids: Iterable[int]) -> set[int]:
    """Which of these cases have a call on the line (a stream announced, streaming or interrupted)."""
    ids = list(case_ids)
    if not ids:
        return set()
    return set(_open().filter(case_id__in=ids).values_list("case_id", flat=True))


def case_is_live(case: Case) -> bool:
    return _open().filter(case=case).exists()


def _open() -> QuerySet[LiveStream]:
    # A case closed while its caller was still streaming is not "live" any more: it is done with.
    return LiveStream.objects.filter(state__in=OPEN_STATES).exclude(case__status=CaseStatus.CLOSED)


def stream_for_call(*, client: Any, call_id: str) -> LiveStream | None:
    return LiveStream.objects.filter(client=client, call_id=call_id).select_related("case", "recording").first()
