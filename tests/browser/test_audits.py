"""A supervisor audits a call with the keyboard, then reads the dashboard, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from analysis import dispatch
from audits.models import Audit, AuditItem
from calls import services
from calls.models import Outcome

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_audits_with_the_keyboard_and_reads_the_dashboard(
    login, off_loop, operator, supervisor, case_factory, upload, settings, artifacts, ravdess_dir
):  # ravdess_dir: the audit page's transcript words come from real speech
    settings.ANALYSIS_BACKEND = "inprocess"
    settings.AUDIT_RANDOM_SHARE = 1.0
    case = off_loop(case_factory, audio=upload("wav"), caller_number="+91 98111 66666")
    off_loop(dispatch.wait_for_inprocess, timeout=120)
    off_loop(lambda: services.case_claim(case=case, operator=operator))
    off_loop(lambda: services.case_close(case=case, user=operator, outcome=Outcome.HEALTH, reason="ambulance sent"))
    item = off_loop(lambda: AuditItem.objects.get(case=case))

    page = login(supervisor)
    page.goto("/audits/")
    row = page.locator(f'#audit-queue tr[data-item="{item.pk}"]')
    expect(row).to_contain_text("random")
    row.get_by_role("link", name="Audit").click()
    expect(page.locator("#system-output")).to_contain_text("What the system said")
    expect(page.locator("#probabilities")).to_be_visible()
    expect(page.locator("#transcript .word").first).to_be_visible()
    page.screenshot(path=artifacts / "audit-page.png", full_page=True)

    page.keyboard.press("2")  # stressful
    page.keyboard.press("g")  # genuine
    expect(page.locator('input[name="category"][value="stressful"]')).to_be_checked()
    expect(page.locator('input[name="genuine"][value="yes"]')).to_be_checked()
    page.select_option("#id_incident_type", "medical")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".alert-success")).to_contain_text(f"Audit of case #{case.pk} saved.")
    audit = off_loop(lambda: Audit.objects.get(item=item))
    assert (audit.category, audit.genuine, audit.supervisor_id) == ("stressful", True, supervisor.pk)

    page.goto("/audits/dashboard/")
    expect(page.locator("#prank-false-positives")).to_contain_text("0 of 1 calls supervisors judged genuine")
    chart = page.get_by_alt_text("Confusion matrix: supervisors' categories against the system's")
    expect(chart).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 200", arg=chart.element_handle())
    page.screenshot(path=artifacts / "audit-dashboard.png", full_page=True)
