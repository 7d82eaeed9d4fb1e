"""The live queue, the websocket reconnect and the in-browser recorder, in a real Chromium."""

from __future__ import annotations

import re
import time

import pytest
import soundfile
from playwright.sync_api import expect

from calls import services
from calls.models import Recording, RecordingSource

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _row(page, case_id: int):
    return page.locator(f'#queue-rows tr.queue-row[data-case="{case_id}"]')


def _wait_live(page):
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")


def test_two_operators_see_a_new_call_at_once_and_only_one_claims_it(
    login, off_loop, operator, operator2, case_factory, artifacts
):
    olivia, omar = login(operator), login(operator2)
    for page in (olivia, omar):
        page.goto("/")
        _wait_live(page)

    started = time.monotonic()
    case = off_loop(case_factory, caller_number="+91 98111 22334")
    for page in (olivia, omar):
        expect(_row(page, case.pk)).to_be_visible(timeout=2000)
    assert time.monotonic() - started < 2.0, "both queues show the new call within 2 s, without reload"
    expect(_row(olivia, case.pk)).to_have_class(re.compile(r"\bchanged\b"))

    # Omar opens the case while it is still open; Olivia claims it from her queue.
    omar_case = omar.context.new_page()
    omar_case.goto(f"/cases/{case.pk}/")
    _wait_live(omar_case)
    _row(olivia, case.pk).get_by_role("button", name="Claim").click()
    expect(olivia.locator(".alert-success")).to_contain_text(f"You claimed case #{case.pk}")

    # Omar's queue shows it claimed (no Claim button), and his case page says what happened.
    expect(_row(omar, case.pk).locator("td.status")).to_contain_text("Claimed · olivia", timeout=3000)
    expect(_row(omar, case.pk).get_by_role("button", name="Claim")).to_have_count(0)
    expect(omar_case.locator("#case-changed")).to_contain_text("This case was just claimed.")
    expect(omar_case.locator("#case-status")).to_contain_text("olivia")

    # His stale Claim button is refused by the server, with a clear message.
    omar_case.get_by_role("button", name="Claim").click()
    expect(omar_case.locator(".alert-danger")).to_contain_text(
        f"Case #{case.pk} is already claimed by olivia."
    )
    assert off_loop(lambda: type(case).objects.get(pk=case.pk).claimed_by_id) == operator.pk
    omar.screenshot(path=artifacts / "queue.png", full_page=True)


def test_after_a_lost_connection_the_queue_shows_what_it_missed(login, live, off_loop, operator, operator2, case_factory):
    page = login(operator)
    before = off_loop(case_factory, caller_number="+91 98111 00001")
    page.goto("/")
    _wait_live(page)
    expect(_row(page, before.pk)).to_be_visible()

    live.stop()  # every websocket drops
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#live-indicator")).to_have_text(re.compile("Reconnecting"))

    missed = off_loop(case_factory, caller_number="+91 98111 00002")
    off_loop(lambda: services.case_claim(case=before, operator=operator2))
    live.start()

    _wait_live(page)
    expect(_row(page, missed.pk)).to_be_visible(timeout=5000)
    expect(_row(page, before.pk).locator("td.status")).to_contain_text("Claimed · omar")


def test_an_operator_records_a_call_in_the_browser(login, live, off_loop, operator, artifacts):
    page = login(operator)
    page.goto("/cases/new/")
    page.fill("#id_caller_number", "+91 98111 55555")
    recorder = page.locator("[data-recorder]")
    recorder.get_by_role("button", name="Record").click()
    expect(recorder).to_have_attribute("data-state", "recording")
    page.wait_for_timeout(2000)
    recorder.get_by_role("button", name="Stop").click()
    expect(recorder).to_have_attribute("data-state", "recorded")
    expect(recorder.locator("audio")).to_be_visible()
    assert page.eval_on_selector("#id_audio", "input => input.files[0].type").startswith("audio/webm")
    page.get_by_role("button", name="Create case").click()
    expect(page.locator(".alert-success")).to_contain_text("created")

    recording = off_loop(lambda: Recording.objects.select_related("case").get())
    assert recording.source == RecordingSource.BROWSER
    assert "webm" in recording.source_format
    assert recording.duration_s > 1.0
    assert soundfile.info(live.media_root / recording.normalised.name).samplerate == 16_000

    # The case page has a recorder too: a second recording is attached to the same case.
    page.goto(f"/cases/{recording.case_id}/")
    recorder = page.locator("#recording-form [data-recorder]")
    recorder.get_by_role("button", name="Record").click()
    page.wait_for_timeout(1200)
    recorder.get_by_role("button", name="Stop").click()
    expect(recorder).to_have_attribute("data-state", "recorded")
    page.locator("#recording-form").get_by_role("button", name="Attach audio").click()
    expect(page.locator(".alert-success")).to_contain_text("Audio attached")
    sources = off_loop(lambda: list(Recording.objects.values_list("source", flat=True)))
    assert sources == [RecordingSource.BROWSER, RecordingSource.BROWSER]
    _wait_live(page)
    page.screenshot(path=artifacts / "case.png", full_page=True)
