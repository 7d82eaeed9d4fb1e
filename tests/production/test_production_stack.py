"""Production, as served: the README's production steps (make production-setup; honcho start with the
Procfile; nginx with deploy/nginx/portal.conf over TLS; MariaDB, Redis, Celery workers and beat),
DEBUG off, the manifest static files, and a browser walking a call from intake to audit. Then what
a hostile tester tried against that same front door: slow clients, oversized and trickling bodies,
an anonymous upload to the dataset import, a forged client address.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest

from . import stack as production

pytestmark = [pytest.mark.production, pytest.mark.browser]

SPEECH = Path(os.environ.get("SPEECH_SAMPLES_DIR", production.ROOT.parent / "shared" / "data" / "speech-samples"))


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """Every process of the Procfile (web, both workers, beat) behind nginx."""
    for stack in production.running(tmp_path_factory, users=(("asha", "operator"), ("sunil", "supervisor"))):
        production.workers_ready(stack)
        yield stack

def _audio() -> Path:
    sample = SPEECH / "en_fire.wav"
    if sample.exists():
        return sample
    out = Path(production.ROOT / "test-artifacts" / "production-call.wav")
    out.parent.mkdir(exist_ok=True)
    subprocess.run(["espeak-ng", "-w", str(out), "There is a fire in my building, please send help quickly"],
                   check=True)
    return out


def _sign_in(browser, portal, username: str):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=portal.url, ignore_https_errors=True,
                                  viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", production.PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in|Log in", re.I)).click()
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")  # the websocket, through nginx
    return context, page


def test_a_call_from_intake_to_audit_as_served_in_production(portal, browser):
    """login → new call → it appears live in another operator's queue → case (analysed by the
    Celery workers) → claim → close → a supervisor audits it."""
    from playwright.sync_api import expect

    watcher_context, watcher = _sign_in(browser, portal, "asha")
    context, page = _sign_in(browser, portal, "asha")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto("/cases/new/")
    page.fill("#id_caller_number", "+91 98111 22334")
    page.fill("#id_location", "MG Road, Bengaluru")
    page.set_input_files("#id_audio", str(_audio()))
    page.get_by_role("button", name="Create case").click()
    expect(page.locator(".alert-success")).to_contain_text("created")
    case_id = int(re.search(r"/cases/(\d+)/", page.url).group(1))

    # The other tab never reloaded: the row came over the websocket through the proxy.
    expect(watcher.locator(f'#queue-rows tr.queue-row[data-case="{case_id}"]')).to_be_visible(timeout=20_000)

    # The workers analyse it: the words and the score arrive on the open case page.
    expect(page.locator("#transcript")).to_contain_text(re.compile("fire", re.I), timeout=240_000)
    expect(page.locator("#score-breakdown")).to_be_visible()

    page.get_by_role("button", name="Claim").click()
    expect(page.locator(".alert-success")).to_contain_text(f"You claimed case #{case_id}")
    outcome = page.locator("#id_outcome")
    if not outcome.input_value():
        outcome.select_option(index=1)
    page.fill("#id_reason", "Fire brigade sent to MG Road.")
    page.get_by_role("button", name="Close case").click()
    expect(page.locator("#case-status")).to_contain_text(re.compile("Closed", re.I))
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors

    supervisor_context, supervisor = _sign_in(browser, portal, "sunil")
    supervisor.goto("/audits/")
    row = supervisor.locator("tr[data-item]", has_text=f"#{case_id}")
    expect(row).to_be_visible(timeout=20_000)
    row.get_by_role("link", name="Audit").click()
    supervisor.locator('input[name="category"]').first.check()
    supervisor.locator('input[name="genuine"][value="yes"]').check()
    supervisor.select_option("#id_incident_type", "fire")
    supervisor.get_by_role("button", name=re.compile("^Save")).click()
    expect(supervisor.locator(".alert-success")).to_contain_text(f"Audit of case #{case_id} saved.")
    for c in (watcher_context, context, supervisor_context):
        c.close()


def test_pages_static_files_and_headers_as_served(portal):
    status, headers, body = production.request(portal.https_port, f"GET /accounts/login/ HTTP/1.1\nHost: localhost:{portal.https_port}\n"
                                     "Connection: close\n")
    assert status == 200
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["server"] == "nginx"  # no version, no daphne
    session_cookie = headers.get("set-cookie", "")
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    # The manifest's hashed names, compressed and cached for good.
    stylesheet = re.search(rb'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet, body[:2000]
    status, headers, css = production.request(portal.https_port, f"GET {stylesheet.group(1).decode()} HTTP/1.1\n"
                                    f"Host: localhost:{portal.https_port}\nAccept-Encoding: gzip\nConnection: close\n")
    assert status == 200 and "immutable" in headers["cache-control"]
    assert headers.get("content-encoding") == "gzip"
    # The favicon, and a friendly 404 (no URL list: DEBUG is off).
    status, headers, _ = production.request(portal.https_port, f"GET /favicon.ico HTTP/1.1\nHost: localhost:{portal.https_port}\n"
                                  "Connection: close\n")
    assert status == 301 and re.search(r"/static/favicon\.[0-9a-f]{12}\.svg", headers["location"])
    status, _, body = production.request(portal.https_port, f"GET /no-such-page/ HTTP/1.1\nHost: localhost:{portal.https_port}\n"
                               "Connection: close\n")
    assert status in (302, 404)
    assert b"URLconf" not in body and b"Traceback" not in body
    status, headers, body = production.request(portal.https_port, f"GET /api/v1/no-such/ HTTP/1.1\nHost: localhost:{portal.https_port}\n"
                                     "Connection: close\n")
    assert headers["content-type"].startswith("application/problem+json") and b"URLconf" not in body
    # Plain http is sent to https.
    with socket.create_connection(("127.0.0.1", portal.http_port), timeout=10) as plain:
        plain.sendall(b"GET /cases/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = plain.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 301") and "Location: https://localhost/cases/" in answer
    # daphne itself (the Procfile's web process, reached without nginx) names no server either.
    with socket.create_connection(("127.0.0.1", portal.web_port), timeout=10) as direct:
        direct.sendall(b"GET /accounts/login/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        head = direct.recv(65536).decode("latin-1").split("\r\n\r\n", 1)[0].lower()
    assert head.startswith("http/1.1 ") and "\r\nserver:" not in head, head



def test_a_phone_system_streams_a_call_through_nginx_and_the_live_worker_flags_it_while_it_lasts(portal, browser):
    """The Procfile's live worker, as served: an intake key streams a call over wss:// through nginx;
    the operator's open case page shows the words and the raised priority before the caller hangs up."""
    import asyncio
    import json
    import ssl
    import threading
    import urllib.request

    from playwright.sync_api import expect

    from core import audio
    from live.clients import pcm_of, portal_messages, websocket_call

    portal.manage("user_create", "ravi", "--role", "admin", extra_env={"PORTAL_PASSWORD": production.PASSWORD})
    key = json.loads(portal.manage("api_key_create", "pbx-production", "--user", "ravi", "--json").stdout)["key"]
    spoken = Path(portal.work) / "live-call.wav"
    script = Path(portal.work) / "live-call.txt"  # festival's voice: Whisper hears it better than espeak's
    script.write_text("Help! There is a fire in my building. My neighbour is not breathing. "
                      "Please send an ambulance quickly.")
    subprocess.run(["text2wave", "-eval", "(voice_kal_diphone)", "-o", str(spoken), str(script)], check=True)
    words = audio.load(spoken, sample_rate=8000)
    pcm = pcm_of(np.concatenate([words, np.zeros(8000 * 12, np.float32)]))  # the caller stays on the line
    unverified = ssl.create_default_context()
    unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
    call = threading.Thread(target=asyncio.run, daemon=True, args=(websocket_call(
        f"wss://localhost:{portal.https_port}/ws/live/stream/", key,
        portal_messages(pcm, call_id="prod-live-1", caller_number="9876543210"), ssl=unverified),))
    call.start()

    request = urllib.request.Request(f"https://localhost:{portal.https_port}/api/v1/cases/",
                                     headers={"Authorization": f"Api-Key {key}", "Accept": "application/json"})
    case_id = None
    for _ in range(100):
        with urllib.request.urlopen(request, context=unverified, timeout=10) as response:
            listed = json.load(response)
        rows = listed.get("results", listed) if isinstance(listed, dict) else listed
        if rows:
            case_id = rows[0]["id"]
            break
        threading.Event().wait(0.2)
    assert case_id is not None, "the live call made no case"

    context, page = _sign_in(browser, portal, "asha")
    page.goto(f"/cases/{case_id}/")
    expect(page.locator("#live-words")).to_contain_text(re.compile("fire|breath|ambulance", re.I), timeout=20_000)
    expect(page.locator("#case-band")).to_contain_text(re.compile("High|Critical"), timeout=10_000)
    assert call.is_alive(), "the words came only after the caller hung up"
    call.join(60)
    context.close()
