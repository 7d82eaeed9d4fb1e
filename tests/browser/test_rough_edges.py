"""The rough edges of issue 25 as a person meets them, in a real Chromium: the queue puts the next
call to take first, the audit page saves from the comment box and agrees in one click, times read
the same everywhere (JavaScript included), and a restore asks first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from analysis.models import TriageSettings
from audits.models import Audit, AuditItem
from calls import services
from calls.models import Case, Outcome

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rows(page) -> list[int]:
    return [int(pk) for pk in page.locator("#queue-rows tr.queue-row").evaluate_all("rows => rows.map(r => r.dataset.case)")]


def test_a_call_claimed_by_someone_else_moves_below_the_calls_to_take_live(login, off_loop, operator, operator2,
                                                                            case_factory, artifacts):
    now = timezone.now()
    first, second = (off_loop(case_factory, caller_number=f"+91 90000 0002{i}", received_at=now - timedelta(minutes=3 - i))
                     for i in range(2))
    page = login(operator)
    page.goto("/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    assert _rows(page) == [first.pk, second.pk]

    off_loop(lambda: services.case_claim(case=first, operator=operator2))  # a colleague takes the top call
    expect(page.locator(f'#queue-rows tr.queue-row.claimed[data-case="{first.pk}"]')).to_be_visible()
    assert _rows(page) == [second.pk, first.pk]  # the next call to take is on top, without a reload
    claimed = page.locator(f'#queue-rows tr[data-case="{first.pk}"] td').first
    unclaimed = page.locator(f'#queue-rows tr[data-case="{second.pk}"] td').first
    background = "el => getComputedStyle(el).backgroundColor"
    assert claimed.evaluate(background) != unclaimed.evaluate(background), "claimed calls are set apart"
    page.screenshot(path=artifacts / "queue-unclaimed-first.png", full_page=True)


def _audit_item(off_loop, case_factory, operator):
    def make():
        case = case_factory(caller_number="+91 98111 55555")
        services.case_claim(case=case, operator=operator)
        services.case_close(case=case, user=operator, outcome=Outcome.HEALTH, reason="ambulance sent")
        return AuditItem.objects.create(case=case, reasons=["random"], system_category="stressful",
                                        system_suspected_prank=False, system_incident_type="medical")
    return off_loop(make)


def test_ctrl_enter_saves_while_typing_the_comment(login, off_loop, operator, supervisor, case_factory):
    item = _audit_item(off_loop, case_factory, operator)
    page = login(supervisor)
    page.goto(item.get_absolute_url())
    page.check('input[name="category"][value="calm"]')
    page.check('input[name="genuine"][value="yes"]')
    page.select_option("#id_incident_type", "medical")
    page.click("#id_comment")
    page.keyboard.type("caller was calm, real fall")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".alert-success")).to_contain_text(f"Audit of case #{item.case_id} saved.")
    audit = off_loop(lambda: Audit.objects.get(item=item))
    assert (audit.category, audit.comment) == ("calm", "caller was calm, real fall")


def test_one_click_agrees_with_the_system(login, off_loop, operator, supervisor, case_factory):
    item = _audit_item(off_loop, case_factory, operator)
    page = login(supervisor)
    page.goto(item.get_absolute_url())
    page.fill("#id_comment", "the system was right")
    page.get_by_role("button", name="Agree with the system").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Audit of case #{item.case_id} saved.")
    audit = off_loop(lambda: Audit.objects.get(item=item))
    assert (audit.category, audit.genuine, audit.incident_type, audit.comment) == (
        "stressful", True, "medical", "the system was right")


def test_the_case_page_explains_provisional_and_suggests_the_outcome(login, off_loop, operator, case_factory):
    case = off_loop(case_factory, caller_number="+91 98111 44444")
    off_loop(lambda: Case.objects.filter(pk=case.pk).update(incident_type="medical"))
    off_loop(lambda: services.case_claim(case=case, operator=operator))
    page = login(operator)
    page.goto(f"/cases/{case.pk}/")
    badge = page.locator("#provisional")
    expect(badge).to_have_attribute("title", "The score is a safe guess until the voice and the words are known: the "
                                             "unknown part counts as urgent, so the call never ranks below a typical "
                                             "genuine call.")
    expect(page.locator("#provisional-why")).to_contain_text("no audio has been analysed yet")
    expect(page.locator("#id_outcome")).to_have_value("dispatched_health")
    # every time on the page reads the same way, in the portal's zone
    for stamp in page.locator("time").all_inner_texts():
        assert len(stamp) == 19 and stamp[4] == "-" and stamp[10] == " " and stamp[13] == ":", stamp


def test_times_written_by_javascript_use_the_portals_zone_and_form(login, operator):
    page = login(operator)
    page.goto("/cases/new/")
    zone = page.locator("[data-recorder]").get_attribute("data-time-zone")
    assert zone == "Asia/Kolkata"
    text = page.evaluate("""async (zone) => {
        const { formatWhen } = await import("/static/js/when.js");
        return formatWhen(new Date("2026-12-04T13:22:03Z"), zone);
    }""", zone)
    assert text == "2026-12-04 18:52:03"


def test_restore_asks_first_and_shows_what_changes(login, off_loop, admin_user, artifacts, settings):
    from analysis import services as analysis_services
    from core.triage.config import DEFAULT_CONFIG

    settings.ANALYSIS_BACKEND = "inprocess"
    weights = {**DEFAULT_CONFIG.weights, "prank": 10.0}
    off_loop(lambda: analysis_services.triage_settings_save(
        admin=admin_user, weights=weights, label_mapping=dict(DEFAULT_CONFIG.label_mapping),
        max_wait_seconds=DEFAULT_CONFIG.max_wait_seconds, prank_history_days=DEFAULT_CONFIG.prank_history_days,
        note="gentler"))
    page = login(admin_user)
    page.goto("/analysis/triage-settings/")
    page.get_by_role("link", name="Restore…").click()
    expect(page.locator("#restore-difference")).to_contain_text("weight prank")
    assert off_loop(TriageSettings.objects.count) == 1, "nothing restored before the confirmation"
    page.screenshot(path=artifacts / "triage-restore-confirm.png", full_page=True)
    page.fill("#id_note", "back to the defaults")
    page.get_by_role("button", name="Restore v1 and re-score the open cases").click()
    expect(page.locator(".alert-success")).to_contain_text("v1 restored as v3")
