"""The queue page's window in a real Chromium: a call that rises from below the window appears in it
live, and a critical call outside the window is still announced."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from analysis.services import case_override_priority

from ..queue_cases import open_cases

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_call_rising_from_below_the_window_appears_without_a_reload(
    login, off_loop, operator, supervisor, artifacts
):
    cases = off_loop(open_cases, 60)  # the server's page holds 50: ranks 51-60 are on page 2
    page = login(operator)
    page.goto("/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    rows = page.locator("#queue-rows tr.queue-row")
    expect(rows).to_have_count(50)
    expect(page.locator("#queue-summary")).to_contain_text("60 calls in this view")
    expect(page.locator("#queue-summary")).to_contain_text("Critical 31")

    bottom = cases[-1]
    off_loop(case_override_priority, case=bottom, supervisor=supervisor, score=100, reason="caller is trapped")
    expect(rows.first).to_have_attribute("data-case", str(bottom.pk), timeout=5000)
    expect(rows).to_have_count(50)
    expect(page.locator(f'#queue-rows tr[data-case="{cases[49].pk}"]')).to_have_count(0)  # pushed to page 2
    expect(page.locator("#queue-summary")).to_contain_text("Critical 32")
    expect(page.locator(".live-alert")).to_contain_text(f"Critical call #{bottom.pk}")
    page.screenshot(path=artifacts / "queue-window.png", full_page=True)

    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(10)
    expect(rows.first).to_have_attribute("data-case", str(cases[49].pk))
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    # A call turning critical on page 2 leaves this window for the top; the alert still says so.
    off_loop(case_override_priority, case=cases[-2], supervisor=supervisor, score=100, reason="shots heard")
    expect(page.locator(".live-alert")).to_contain_text("Critical call waiting (33 critical)", timeout=5000)
    expect(page.locator(f'#queue-rows tr[data-case="{cases[-2].pk}"]')).to_have_count(0)
