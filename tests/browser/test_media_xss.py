"""Stored XSS through a recording (security issue item 1), in a real browser.

The attacker's files are MP3 and JavaScript (or HTML) at once (tests/security/polyglots.py). Before
the fix, the original of one uploaded as ``call.js`` was served as text/javascript from the portal's
origin, so a ``<script src>`` to it ran under ``script-src 'self'`` in a logged-in operator's page;
one uploaded as ``call.html`` opened as a page that sent the browser elsewhere. Each test first
shows that the same bytes *do* run when served the old way (a control, answered by Playwright's
router), then that the portal's own URL for the original does not run them.

The server-side half (every upload door, the headers) is in tests/security/test_media_xss.py.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError

from tests.security.polyglots import ATTACKER_URL, html_polyglot, js_polyglot, store_as_before_the_fix

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Adds <script src=url> to the page as the attack did, and tells whether the browser ran it.
INJECT_SCRIPT = """url => new Promise(resolve => {
    const script = document.createElement("script");
    script.src = url;
    script.onload = () => resolve("loaded");
    script.onerror = () => resolve("refused");
    document.head.appendChild(script);
})"""
PWNED = "[window.__pwned ?? null, document.documentElement.dataset.pwned ?? null]"


@pytest.fixture
def polyglot_recording(off_loop, operator, case_factory):
    """polyglot_recording(data, name, stored_before_fix=False) -> a recording of a new open case."""
    from calls.audio_intake import recording_prepare

    def make(data: bytes, name: str, *, stored_before_fix: bool = False):
        def store():
            case = case_factory(caller_number="+91 98111 55555")
            recording = recording_prepare(case=case, upload=SimpleUploadedFile(name, data), uploaded_by=operator,
                                          source="upload")
            recording.save()
            if stored_before_fix:
                store_as_before_the_fix(recording, "." + name.rsplit(".", 1)[1])
            return recording

        return off_loop(store)

    return make


@pytest.mark.parametrize("stored_before_fix", [False, True], ids=["new", "stored-before-fix"])
def test_a_polyglot_original_never_runs_as_a_script_in_an_operators_page(stored_before_fix, login, operator,
                                                                         polyglot_recording, live):
    data = js_polyglot()
    recording = polyglot_recording(data, "call.js", stored_before_fix=stored_before_fix)
    page = login(operator)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(recording.case.get_absolute_url())
    original = reverse("calls:recording_file", args=[recording.pk, "original"])
    assert page.locator(f'a[href="{original}"]').count() == 1  # the case page's "original" link

    assert page.evaluate(INJECT_SCRIPT, original) == "refused"
    assert page.evaluate(PWNED) == [None, None], "the uploaded file ran as a script of the portal"
    assert any("MIME type ('audio/mpeg') is not executable" in line for line in console), console

    # Control: the same bytes served as the old code served them do run under the page's CSP.
    page.route(f"{live.url}/control/call.js",
               lambda route: route.fulfill(status=200, body=data, content_type="text/javascript"))
    assert page.evaluate(INJECT_SCRIPT, "/control/call.js") == "loaded"
    assert page.evaluate(PWNED) == [1, "yes"]


@pytest.mark.parametrize("stored_before_fix", [False, True], ids=["new", "stored-before-fix"])
def test_a_polyglot_page_opened_from_the_case_page_is_a_download_and_goes_nowhere(stored_before_fix, login, operator,
                                                                                polyglot_recording, live):
    data = html_polyglot()
    recording = polyglot_recording(data, "call.html", stored_before_fix=stored_before_fix)
    page = login(operator)
    phished: list[str] = []

    def attacker_site(route) -> None:
        phished.append(route.request.url)
        route.fulfill(status=200, body="phished", content_type="text/plain")

    page.context.route(f"{ATTACKER_URL.rsplit('/', 1)[0]}/**", attacker_site)
    case_url = f"{live.url}{recording.case.get_absolute_url()}"
    original = reverse("calls:recording_file", args=[recording.pk, "original"])

    # The operator clicks "original" on the case page: a download, the page stays.
    page.goto(case_url)
    with page.expect_download() as clicked:
        page.locator(f'a[href="{original}"]').click()
    download = clicked.value
    assert download.suggested_filename == f"recording-{recording.pk}-original.mp3"
    with open(download.path(), "rb") as saved:
        assert saved.read() == data
    page.wait_for_timeout(1500)  # a meta refresh of 0 s would have fired by now
    assert page.url == case_url and not phished

    # Opened directly (the address bar, a link in a mail): still a download, never a page.
    with page.expect_download():
        try:
            page.goto(original)
        except PlaywrightError as exc:  # Playwright's goto reports a download as an aborted navigation
            assert "Download is starting" in str(exc), exc
    page.wait_for_timeout(1500)
    assert page.url == case_url and not phished

    # Control: the same bytes served as text/html from the portal's origin send the browser away.
    page.route(f"{live.url}/control/call.html",
               lambda route: route.fulfill(status=200, body=data, content_type="text/html"))
    page.goto(f"{live.url}/control/call.html")
    page.wait_for_url(ATTACKER_URL)
    assert phished == [ATTACKER_URL]
