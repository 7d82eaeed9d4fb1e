"""The queue page shows a window of the queue (one page of rows) with counts for all of it; the live
refresh fragment (calls:queue_rows) renders the same window, so the page and its updates agree."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calls.models import Case, CaseStatus

from .queue_cases import open_cases

pytestmark = pytest.mark.django_db

PAGE_SIZE = 50


def _rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr class="queue-row[^"]*" data-case="(\d+)"', html)]


@pytest.fixture
def queue(settings):
    settings.QUEUE_PAGE_SIZE = PAGE_SIZE
    return open_cases(120)  # bands: 31 critical, 40 high, 49 normal


def test_the_page_renders_only_the_top_of_a_long_queue_and_counts_all_of_it(client, operator, queue):
    client.force_login(operator)
    page = client.get(reverse("calls:case_list")).content.decode()
    assert _rows(page) == [case.pk for case in queue[:PAGE_SIZE]]
    assert "<strong>120</strong> calls in this view" in page
    for label, count in (("Critical", 31), ("High", 40), ("Normal", 49), ("Low", 0)):
        assert f">{label} {count}</span>" in page
    assert "Showing 1–50, highest priority first (page 1 of 3)." in page
    assert 'href="?page=2" rel="next"' in page


def test_every_case_is_reachable_page_by_page_once(client, operator, queue):
    client.force_login(operator)
    seen = []
    for page in (1, 2, 3):
        seen += _rows(client.get(reverse("calls:case_list"), {"page": page}).content.decode())
    assert seen == [case.pk for case in queue]
    last = client.get(reverse("calls:case_list"), {"page": 3}).content.decode()
    assert "Showing 101–120" in last and "End of queue" in last and 'href="?page=2" rel="prev"' in last


def test_the_live_fragment_renders_the_same_window_as_the_page(client, operator, queue):
    client.force_login(operator)
    fragment = client.get(reverse("calls:queue_rows"), {"page": 2}).content.decode()
    assert _rows(fragment) == [case.pk for case in queue[50:100]]
    assert 'id="queue-summary"' in fragment and 'data-critical="31"' in fragment
    assert 'id="queue-pager"' in fragment and "<html" not in fragment


def test_a_page_past_the_end_shows_the_last_one_and_a_bad_page_the_first(client, operator, queue):
    client.force_login(operator)
    past = client.get(reverse("calls:queue_rows"), {"page": 99}).content.decode()
    assert _rows(past) == [case.pk for case in queue[100:]]
    for bad in ("x", "-3", "0", ""):
        assert _rows(client.get(reverse("calls:case_list"), {"page": bad}).content.decode())[0] == queue[0].pk


def test_paging_keeps_the_filters(client, operator, settings):
    settings.QUEUE_PAGE_SIZE = 10
    hindi = open_cases(25, language="hi")
    Case.objects.filter(pk__in=[c.pk for c in hindi[:5]]).update(status=CaseStatus.CLAIMED, claimed_by=operator)
    client.force_login(operator)
    page = client.get(reverse("calls:case_list"), {"view": "unclaimed", "language": "hi", "page": 2}).content.decode()
    assert _rows(page) == [case.pk for case in hindi[15:25]]
    assert "<strong>20</strong> calls in this view" in page
    assert 'href="?view=unclaimed&amp;language=hi" rel="prev"' in page
    english = client.get(reverse("calls:case_list"), {"language": "en"}).content.decode()
    assert _rows(english) == [] and "No calls here." in english and "<strong>0</strong> calls" in english


def test_the_closed_view_counts_and_pages_closed_cases(client, supervisor, settings):
    settings.QUEUE_PAGE_SIZE = 10
    cases = open_cases(12, status=CaseStatus.CLOSED, outcome="resolved", close_reason="done")
    client.force_login(supervisor)
    page = client.get(reverse("calls:case_list"), {"view": "closed"}).content.decode()
    assert len(_rows(page)) == 10 and "<strong>12</strong> closed cases" in page
    assert 'href="?view=closed&amp;page=2" rel="next"' in page
    assert {c.pk for c in cases} == set(_rows(page)) | set(
        _rows(client.get(reverse("calls:case_list"), {"view": "closed", "page": 2}).content.decode()))


@pytest.mark.parametrize("url", ["calls:case_list", "calls:queue_rows"])
def test_the_cost_of_a_request_does_not_grow_with_the_queue(client, operator, settings, url):
    settings.QUEUE_PAGE_SIZE = PAGE_SIZE
    client.force_login(operator)
    open_cases(10)
    client.get(reverse(url))
    with CaptureQueriesContext(connection) as short:
        short_page = client.get(reverse(url)).content.decode()
    open_cases(300, top=80)
    with CaptureQueriesContext(connection) as long:
        long_page = client.get(reverse(url)).content.decode()
    assert len(long) == len(short)
    assert len(_rows(short_page)) == 10 and len(_rows(long_page)) == PAGE_SIZE
