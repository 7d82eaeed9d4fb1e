"""Security, tried one promise at a time: deployment checks, headers, no inline script, cookies,
login lockout, idle expiry, who may fetch a recording, uploaded names, and the security log."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser

import numpy as np
import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.conftest import REPO, encode

PASSWORD = "correct horse battery staple"
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "emergency_portal.settings",
    "DEBUG": "0",
    "SECURE_SSL": "1",
    "SECRET_KEY": "k3y-" + "x9Qw2" * 12,  # long and varied, as check --deploy wants
    "ALLOWED_HOSTS": "triage.example.org",
}


def _production(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests' fixtures for their own process, never in production.
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return subprocess.run([sys.executable, *args], cwd=REPO, env={**clean, **PRODUCTION_ENV, **(env or {})},
                          capture_output=True, text=True, timeout=120)


# -- the deployment checklist and production settings ---------------------------------------------


def test_check_deploy_is_clean_under_production_settings():
    result = _production("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_strict():
    code = ("import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({k: "
            "getattr(s, k) for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
            "'CSRF_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'X_FRAME_OPTIONS', "
            "'SECURE_REFERRER_POLICY', 'SESSION_SAVE_EVERY_REQUEST', 'SESSION_COOKIE_AGE']}))")
    result = _production("-c", code, env={"SESSION_IDLE_MINUTES": "20"})
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["SESSION_COOKIE_HTTPONLY"] and values["CSRF_COOKIE_HTTPONLY"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["X_FRAME_OPTIONS"] == "DENY" and values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["SESSION_SAVE_EVERY_REQUEST"] and values["SESSION_COOKIE_AGE"] == 20 * 60


def test_production_refuses_to_start_without_a_secret_key():
    result = _production("manage.py", "check", env={"SECRET_KEY": ""})
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


# -- headers --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client, operator, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    client.force_login(operator)
    plain = client.get(reverse("calls:case_list"))
    assert plain.status_code == 200
    assert "Strict-Transport-Security" not in plain  # HSTS only means something over HTTPS
    secure = client.get(reverse("calls:case_list"), secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    for response in (plain, secure):
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"


class _InlineScript(HTMLParser):
    """Inline <script> blocks (a JSON data block is not a script) and on* event attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
        if tag == "script" and not a.get("src") and a.get("type") != "application/json":
            self._in_script = True
        if any((value or "").strip().lower().startswith("javascript:") for _, value in attrs):
            self.found.append(f"<{tag} ...javascript: URL>")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def test_no_template_has_an_inline_script_or_handler():
    offenders = []
    for template in (REPO / "templates").rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in match.group(1) and "application/json" not in match.group(1):
                offenders.append(f"{template.name}: inline <script>")
        if re.search(r"<[a-z][^>]*\son[a-z]+\s*=", text):
            offenders.append(f"{template.name}: on* attribute")
    assert not offenders


@pytest.mark.django_db
def test_the_rendered_pages_satisfy_the_policy(client, admin_user, case_factory):
    case = case_factory()
    client.force_login(admin_user)
    pages = [reverse("calls:case_list"), reverse("calls:case_create"), case.get_absolute_url(),
             reverse("audits:queue"), reverse("audits:dashboard"), reverse("audits:operations"),
             reverse("analysis:triage_settings"), reverse("learning:dataset_list"),
             reverse("learning:training_list"), reverse("learning:model_list"), reverse("login")]
    for page in pages:
        response = client.get(page)
        assert response.status_code in (200, 302), page
        parser = _InlineScript()
        parser.feed(response.content.decode())
        assert not parser.found, f"{page}: {parser.found}"


# -- login lockout --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_repeated_failures_lock_the_login_and_the_lockout_is_logged(client, operator, settings, caplog):
    settings.AXES_FAILURE_LIMIT = 3
    login = reverse("login")
    with caplog.at_level(logging.INFO, logger="security"):
        for _ in range(3):
            client.submit(login, data={"username": "olivia", "password": "wrong"})
        locked = client.submit(login, data={"username": "olivia", "password": PASSWORD})
    assert locked.status_code == 429  # even the right password, while locked
    assert "Too many failed logins" in locked.content.decode()
    assert client.get(reverse("calls:case_list")).status_code == 302  # not logged in
    lines = [r.getMessage() for r in caplog.records if r.name == "security"]
    assert sum("login failed: user=olivia ip=127.0.0.1" in line for line in lines) >= 3
    assert any("login locked out: user=olivia ip=127.0.0.1" in line for line in lines)
    assert not any(PASSWORD in line or "wrong" in line for line in lines)  # never a password


@pytest.mark.django_db
def test_a_lockout_does_not_lock_the_operator_out_from_another_desk(client, operator, settings):
    from tests.conftest import BrowserClient

    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.submit(reverse("login"), data={"username": "olivia", "password": "wrong"})
    desk = BrowserClient(REMOTE_ADDR="10.0.0.7")
    response = desk.submit(reverse("login"), data={"username": "olivia", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("calls:case_list")


# -- idle session expiry --------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_idle_session_expires_and_activity_renews_it(client, operator, settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST
    client.submit(reverse("login"), data={"username": "olivia", "password": PASSWORD})
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(seconds=30))
    assert client.get(reverse("calls:case_list")).status_code == 200
    renewed = Session.objects.get(session_key=key).expire_date
    assert renewed > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)  # activity renews it
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("calls:case_list"))  # idle too long
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# -- recordings: only for those who may see the case; names never trusted ----------------------


def _tone_wav(seconds: float = 1.5) -> bytes:
    t = np.arange(int(16_000 * seconds)) / 16_000
    return encode((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), "wav")


@pytest.fixture
def stored_recording(operator, case_factory, settings):
    """A recording attached without starting analysis (the test needs only its files)."""
    from calls.audio_intake import recording_prepare

    case = case_factory()
    upload = SimpleUploadedFile("../../../etc/<script>alert(1)</script>passwd.wav", _tone_wav())
    recording = recording_prepare(case=case, upload=upload, uploaded_by=operator, source="upload")
    recording.save()
    return recording


@pytest.mark.django_db
def test_an_uploaded_name_never_reaches_the_disk(stored_recording, media_root):
    stored = stored_recording.original.name
    assert re.fullmatch(rf"recordings/{stored_recording.case_id}/original-[0-9a-f]{{16}}\.wav", stored), stored
    assert (media_root / stored).resolve().is_relative_to(media_root.resolve())
    assert "passwd" not in stored and ".." not in stored


@pytest.mark.parametrize("name, suffix", [("call.WAV", ".wav"), ("x.w/../../a", ""), ("a.\\..\\b", ""),
                                          ("noext", ""), ("a.toolongsuffix", "")])
def test_only_a_plain_extension_is_kept_from_a_name(name, suffix):
    from calls.models import _suffix

    assert _suffix(name) == suffix


@pytest.mark.django_db
def test_the_uploaded_name_is_shown_escaped(client, operator, stored_recording):
    from calls.audio_intake import recording_prepare

    # Django keeps only the last part of an uploaded path ("script>passwd.wav" above); a name
    # with markup but no slash reaches the page, escaped.
    upload = SimpleUploadedFile("<img src=x onerror=alert(1)>.wav", _tone_wav())
    recording_prepare(case=stored_recording.case, upload=upload, uploaded_by=operator, source="upload").save()
    client.force_login(operator)
    page = client.get(stored_recording.case.get_absolute_url()).content.decode()
    assert "<img src=x onerror" not in page and "&lt;img src=x onerror=alert(1)&gt;.wav" in page


@pytest.mark.django_db
def test_recordings_are_served_only_to_users_who_may_see_the_case(client, operator, operator2, supervisor,
                                                                   stored_recording, caplog):
    from calls.services import case_claim, case_close

    url = reverse("calls:recording_file", args=[stored_recording.pk, "original"])
    media_url = f"/media/{stored_recording.original.name}"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert client.get(media_url).status_code in (302, 404)  # no public media URL at all
    case = stored_recording.case
    case_claim(case=case, operator=operator)
    case_close(case=case, user=operator, outcome="resolved", reason="done")
    client.force_login(operator2)  # an operator who never handled the closed case
    assert client.get(url).status_code == 404
    assert client.get(media_url).status_code == 404
    client.force_login(operator)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content)[:4] == b"RIFF"
    client.force_login(supervisor)
    assert client.get(url).status_code == 200


# -- the security log -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_logins_and_refusals_are_logged_with_who_what_when(client, operator, caplog):
    with caplog.at_level(logging.INFO, logger="security"):
        client.submit(reverse("login"), data={"username": "olivia", "password": PASSWORD})
        client.get(reverse("learning:model_list"))  # admins only
        client.get("/api/v1/models/")  # admins only, over the API
    records = [r for r in caplog.records if r.name == "security"]
    lines = [r.getMessage() for r in records]
    assert any(line.startswith("login: user=olivia ip=127.0.0.1") for line in lines)
    assert any("authorisation refused: user=olivia method=GET path=/learning/models/" in line for line in lines)
    assert all(r.created for r in records)  # the when: every record carries its time


@pytest.mark.django_db
def test_a_newline_in_a_username_or_a_path_cannot_forge_a_security_log_line(client, caplog):
    """Attack: an anonymous login as 'x\\nsecurity: login: user=demo-admin ...' and a 404 path with a
    newline wrote a convincing fake line. The security handler writes one JSON object per record."""
    forged = "x\n2026-12-04 10:00:00,000 INFO security: login: user=demo-admin ip=10.0.0.1 path=/accounts/login/"
    with caplog.at_level(logging.INFO, logger="security"):
        client.submit(reverse("login"), data={"username": forged, "password": "wrong"})
        client.get("/no-such-page/%0Asecurity:%20login:%20user=demo-admin")
    handler = next(h for h in logging.getLogger("security").handlers if h.formatter is not None)
    written = [handler.format(r) for r in caplog.records if r.name == "security"]
    assert written and all("\n" not in line and "\r" not in line for line in written)
    parsed = [json.loads(line) for line in written]
    assert any(p["message"].startswith("login failed: user=x\n") for p in parsed)  # kept, escaped when written
    assert not any(line.startswith("2026-12-04") or "INFO security: login" in line.split('"message"')[0]
                   for line in written)
