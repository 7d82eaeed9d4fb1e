"""The queue's order in the database (core.triage.waiting.queue_key): CRITICAL calls first, then HIGH,
then NORMAL and LOW calls together by due time, so a LOW call moves up through the NORMAL calls as it
waits but never above a HIGH one; the page, the API and the pure policy agree."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from calls.models import Case
from calls.selectors import QueueFilters, queue_ordered
from core.triage.config import DEFAULT_CONFIG, band_for
from core.triage.waiting import QUEUE_TIERS, allowance

pytestmark = pytest.mark.django_db


def _scored(base: float, waited: float, now, number: str) -> Case:
    """An open case that arrived ``waited`` seconds before ``now``, scored ``base``."""
    arrived = now - timedelta(seconds=waited)
    case = Case.objects.create(caller_number=number, received_at=arrived)
    Case.objects.filter(pk=case.pk).update(created_at=arrived)
    case.refresh_from_db()
    case.set_priority(base=base, band=band_for(base), reasons=[f"score {base:.1f}"],
                      allowance_seconds=allowance(base, DEFAULT_CONFIG))
    case.save()
    return case


def test_the_page_and_the_api_order_by_tier_then_due_time(operator):
    rng = random.Random(112)
    now = timezone.now()
    due = {}
    for i in range(40):
        base, waited = rng.uniform(0, 100), rng.choice([0, 30, 200, 700, 1000, 1900, 2600])
        case = _scored(base, waited, now, f"+91 98111 {i:05d}")
        due[case.pk] = (QUEUE_TIERS[band_for(base)], case.due_at)
    expected = sorted(due, key=lambda pk: (*due[pk], pk))
    assert [case.pk for case in queue_ordered(user=operator, filters=QueueFilters())] == expected
    api = APIClient()
    api.force_authenticate(operator)
    walked, url = [], "/api/v1/cases/?page_size=15"
    while url:
        page = api.get(url).json()
        walked += [row["id"] for row in page["results"]]
        url = page["next"]
    assert walked == expected


def test_a_low_call_moves_up_through_the_normal_calls_never_above_a_high_one(client, operator):
    now = timezone.now()
    fresh_high = _scored(60, 0, now, "+91 98111 00001")
    fresh_normal = _scored(30, 0, now, "+91 98111 00002")
    old_normal = _scored(30, 10 * 60, now, "+91 98111 00003")
    long_low = _scored(10, 31 * 60, now, "+91 98111 00004")  # past its 30 min bound
    fresh_low = _scored(20, 0, now, "+91 98111 00005")
    order = [case.pk for case in queue_ordered(user=operator, filters=QueueFilters())]
    assert order == [fresh_high.pk, long_low.pk, old_normal.pk, fresh_normal.pk, fresh_low.pk]
    client.force_login(operator)
    page = client.get(f"/cases/{long_low.pk}/").content.decode()
    assert "past its" in page and "ahead of the NORMAL and LOW calls not yet due" in page
