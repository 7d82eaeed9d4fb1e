"""The case page follows its case live: the analysis section fills in as each step finishes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from analysis import dispatch
from calls import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_analysis_appears_on_an_open_case_page_without_a_reload(
    login, off_loop, operator, case_factory, upload, settings, artifacts
):
    settings.ANALYSIS_BACKEND = "inprocess"
    case = off_loop(case_factory, caller_number="+91 98111 77777")
    page = login(operator)
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    page.evaluate("window.sameDocument = true")
    analysis = page.locator('.case-panel[data-panel="analysis"]')
    expect(analysis).to_contain_text("No audio analysed yet.")

    off_loop(lambda: services.recording_attach(case=case, upload=upload("wav"), uploaded_by=operator))
    expect(analysis.locator("#steps")).to_contain_text("Speech emotion", timeout=10_000)
    expect(analysis.locator("#probabilities")).to_be_visible(timeout=60_000)
    expect(analysis.locator("#score-breakdown")).to_contain_text("sounds ")
    expect(analysis.locator("#transcript")).to_be_visible(timeout=90_000)
    off_loop(dispatch.wait_for_inprocess, timeout=120)
    expect(analysis.locator("#steps")).not_to_contain_text("Waiting", timeout=10_000)
    assert page.evaluate("window.sameDocument") is True, "the page was not reloaded"
    expect(page.locator("#case-changed")).to_contain_text("This case was just given new audio.")
    page.screenshot(path=artifacts / "case-live-analysis.png", full_page=True)
