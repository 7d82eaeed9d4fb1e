"""An operator takes a live call at their desk, in a real Chromium whose microphone plays a caller's
words (espeak-ng, through Chromium's fake capture device): the page streams them through its
AudioWorklet to /ws/live/desk/, the live worker transcribes them as they arrive, and the case page
and the queue show the words and the case re-scored from them while the call is on the line."""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from calls.models import Case, RecordingSource
from live.models import Ingress, LiveStream, StreamState
from tests.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CALLER = "Help, there is a fire in my house and my father cannot breathe, send an ambulance"
HEARD = re.compile(r"fire|breath|ambulance", re.IGNORECASE)


class BackgroundLiveWorker:
    """``manage.py live_worker`` in a thread of the test process: its own event loop (Playwright keeps
    one marked running in the main thread), the test database, the server's MEDIA_ROOT."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop: asyncio.Event | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="live-worker", daemon=True)

    def _run(self) -> None:
        from django.db import connections

        try:
            asyncio.run(self._main())
        finally:
            connections.close_all()

    async def _main(self) -> None:
        from live.worker import LiveWorker

        self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
        worker = LiveWorker()  # loads Whisper and the speech finder: seconds, while the browser starts
        self.ready.set()
        await worker.run(stop=self.stop, poll_seconds=0.2)

    def start(self) -> BackgroundLiveWorker:
        self.thread.start()
        return self

    def close(self) -> None:
        if self.loop is not None and self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(60)


@pytest.fixture
def live_worker(live):
    worker = BackgroundLiveWorker().start()
    yield worker
    worker.close()
    assert not worker.thread.is_alive(), "the live worker did not stop"


@pytest.fixture(scope="session")
def caller_wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("desk") / "caller.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", str(path), CALLER], check=True)
    return path


@pytest.fixture
def headset(browser, caller_wav):
    """A Chromium of its own whose microphone is the caller's WAV (the run's shared browser has a
    synthetic beep for a microphone); launched from the shared browser's Playwright, as a second sync
    Playwright in one run would fail."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
        *CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={caller_wav}"])
    yield chromium
    chromium.close()


def _signed_in(chromium, live, user):
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = chromium.new_context(base_url=live.url, viewport={"width": 1400, "height": 900})
    context.grant_permissions(["microphone"], origin=live.url)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live.url,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
    context.set_default_timeout(10_000)
    return context


def test_an_operator_takes_a_live_call_at_the_desk(headset, live, live_worker, off_loop, operator, artifacts):
    started = time.monotonic()
    context = _signed_in(headset, live, operator)
    desk = context.new_page()
    desk.goto("/")
    desk.get_by_role("link", name="Take a live call").click()
    expect(desk.locator("h1")).to_have_text("Take a live call")
    desk.fill("#desk-caller-number", "+91 98111 66666")
    desk.fill("#desk-location", "Sector 14, Gurugram")
    assert live_worker.ready.wait(60), "the live worker did not load its models"
    desk.get_by_role("button", name="Start").click()

    panel = desk.locator("#desk")
    expect(panel).to_have_attribute("data-state", "listening")
    link = desk.locator("#desk-case-link")
    expect(link).to_have_text(re.compile(r"case #\d+"))
    case_id = int(link.get_attribute("href").strip("/").split("/")[-1])
    case = off_loop(Case.objects.get, pk=case_id)
    assert (case.claimed_by_id, case.caller_number, case.location) == (operator.pk, "+919811166666",
                                                                       "Sector 14, Gurugram")
    expect(desk.locator("#desk-level")).not_to_have_attribute("aria-valuenow", "0", timeout=5_000)  # it hears

    queue = context.new_page()
    queue.goto("/")
    row = queue.locator(f'#queue-rows tr.queue-row[data-case="{case_id}"]')
    expect(row.locator(".live-badge")).to_be_visible()

    with context.expect_page() as opened:
        link.click()  # the case opens in a tab of its own; the desk keeps streaming
    case_page = opened.value
    expect(case_page.locator("#case-live-badge")).to_be_visible()
    expect(case_page.locator("#live-words")).to_contain_text(HEARD, timeout=40_000)
    expect(case_page.locator("#live-words-status")).to_contain_text("s into the call")
    expect(case_page.locator("#case-band")).to_have_text(re.compile("High|Critical"))

    # The queue re-ranks on the words heard live: the row's reasons quote them, its incident is known.
    expect(row.locator("td").nth(5)).to_contain_text(HEARD, timeout=15_000)
    expect(row.locator("td").nth(4)).not_to_have_text("—")
    expect(row.locator(".band")).to_have_text(re.compile("High|Critical"))
    band = off_loop(lambda: Case.objects.get(pk=case_id).priority_band)
    assert band in ("high", "critical")
    case_page.screenshot(path=artifacts / "desk-live-case.png", full_page=True)

    desk.bring_to_front()
    desk.get_by_role("button", name="Hang up").click()
    expect(panel).to_have_attribute("data-state", "ended", timeout=15_000)
    expect(desk.locator("#desk-status")).to_contain_text(f"case #{case_id}'s recording")
    stream = off_loop(lambda: LiveStream.objects.select_related("recording").get(case_id=case_id))
    assert (stream.ingress, stream.state) == (Ingress.DESK, StreamState.ENDED)
    assert stream.recording is not None and stream.recording.source == RecordingSource.BROWSER
    assert stream.recording.duration_s > 1
    desk.screenshot(path=artifacts / "desk.png", full_page=True)
    context.close()
    assert time.monotonic() - started < 90


def test_a_refused_start_says_why_and_lets_the_operator_correct_it(headset, live, operator):
    context = _signed_in(headset, live, operator)
    desk = context.new_page()
    desk.goto("/live/desk/")
    desk.fill("#desk-caller-number", "12")
    desk.get_by_role("button", name="Start").click()
    expect(desk.locator("#desk")).to_have_attribute("data-state", "failed")
    expect(desk.locator("#desk-status")).to_contain_text("'12' is not a valid phone number")
    expect(desk.locator("#desk-caller-number")).to_be_enabled()
    assert not Case.objects.exists()
    context.close()
