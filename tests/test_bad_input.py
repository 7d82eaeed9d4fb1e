"""Bad input found by trying: a call dated in the future, a clip too short to judge, a huge body,
and the error pages. Audio is generated here (no corpus needed)."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from calls.models import Case, EventKind, PriorityBand, Recording
from emergency_portal import errors
from emergency_portal.middleware import BodySizeLimitASGI, body_limit_bytes
from tests.conftest import encode

MB = 1024 * 1024


def tone(seconds: float, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(16_000 * seconds)) / 16_000
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _post_case(client, *, received_at: str, audio=None):
    data = {"caller_number": "98765 43210", "received_at": received_at, "language": "en-IN", "location": ""}
    if audio is not None:
        data["audio"] = audio
    return client.submit(reverse("calls:case_create"), data=data)


def _local(minutes_ahead: float) -> str:
    return (timezone.localtime() + timedelta(minutes=minutes_ahead)).strftime("%Y-%m-%dT%H:%M")


# -- a call dated in the future ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_call_dated_2030_is_refused_on_the_page(client, operator):
    client.force_login(operator)
    response = _post_case(client, received_at="2030-01-01T10:00")
    assert response.status_code == 200
    assert "is in the future" in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_call_a_little_ahead_of_the_clock_is_accepted(client, operator):
    client.force_login(operator)
    response = _post_case(client, received_at=_local(2))  # within the 5-minute clock skew
    assert response.status_code == 302
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_the_service_refuses_a_future_call_whoever_calls_it(operator, settings):
    from calls.services import case_create

    settings.CALL_TIME_MAX_SKEW_S = 60
    with pytest.raises(ValidationError) as refused:
        case_create(created_by=operator, caller_number="+919876543210",
                    received_at=timezone.now() + timedelta(minutes=10))
    assert "received_at" in refused.value.message_dict
    assert "in the future" in refused.value.message_dict["received_at"][0]
    assert not Case.objects.exists()
    case_create(created_by=operator, caller_number="+919876543210", received_at=timezone.now() + timedelta(seconds=30))
    assert Case.objects.count() == 1


# -- audio too short to judge --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_clip_too_short_to_judge_is_refused_and_the_case_stays_urgent(client, operator, media_root):
    client.force_login(operator)
    clip = SimpleUploadedFile("call.wav", encode(tone(0.1), "wav"))
    response = _post_case(client, received_at=_local(0), audio=clip)
    case = Case.objects.get()  # the call is saved whatever its audio
    assert not case.recordings.exists()
    page = client.get(response["Location"]).content.decode()
    assert "too short to judge" in page
    assert "too short to judge" in case.events.get(kind=EventKind.AUDIO_REJECTED).reason
    assert case.priority_band == PriorityBand.HIGH  # the safe provisional priority, not a verdict


@pytest.mark.django_db
def test_a_short_clip_stored_earlier_gets_no_emotion_verdict(operator, settings, case_factory):
    from analysis import pipeline
    from calls.audio_intake import recording_prepare

    case = case_factory()
    settings.MIN_AUDIO_SECONDS = 0.05  # as before the rule existed
    recording = recording_prepare(case=case, upload=SimpleUploadedFile("c.wav", encode(tone(0.2), "wav")),
                                  uploaded_by=operator, source="upload")
    recording.save()  # no signal: nothing is analysed behind the test's back
    settings.MIN_AUDIO_SECONDS = 0.5
    with pytest.raises(pipeline.StepUnavailable, match="too short to judge"):
        pipeline._classify(Recording.objects.get(pk=recording.pk))


# -- a huge body, refused from its Content-Length ----------------------------------------------


@pytest.mark.django_db
def test_a_200_mb_page_upload_is_refused_before_it_is_read(client, operator, caplog):
    client.force_login(operator)
    with caplog.at_level(logging.WARNING, logger="security"):
        # The declared length is what counts: the test sends no such body, and nothing reads it.
        response = client.post(reverse("calls:case_create"), data=b"", content_type="multipart/form-data; boundary=x",
                               CONTENT_LENGTH=str(200 * MB))
    assert response.status_code == 413
    page = response.content.decode()
    assert "Request body too large" in page and "112 Triage" in page and "Back to the queue" in page
    assert not Case.objects.exists()
    assert any("request body refused" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_a_200_mb_api_upload_gets_a_problem_document(client, operator):
    client.force_login(operator)
    response = client.post("/api/v1/cases/", data=b"", content_type="multipart/form-data; boundary=x",
                           CONTENT_LENGTH=str(200 * MB))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["type"] == "about:blank" and body["title"] == "Request body too large" and body["status"] == 413
    assert "MB" in body["detail"]


def test_the_limit_follows_the_intake_and_dataset_limits(settings):
    settings.MAX_UPLOAD_MB, settings.DATASET_MAX_UPLOAD_MB = 50, 2048
    assert 50 * MB < body_limit_bytes("/cases/new/") < 200 * MB
    assert body_limit_bytes("/api/cases/") == body_limit_bytes("/cases/1/recordings/")
    assert body_limit_bytes("/learning/datasets/") > 2048 * MB  # archives are bigger than calls


def _asgi(app, path: str, *, headers: list[tuple[bytes, bytes]], chunks: list[bytes]):
    """Run one HTTP request through an ASGI app; return the messages it sent."""
    sent: list[dict] = []
    queue = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive():
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": headers, "client": ("127.0.0.1", 1)}
    # In a thread of its own: after the browser tests, Playwright's loop is running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return sent


class _ReadsWholeBody:
    """Stands in for Django's ASGI handler: reads the whole body, then answers 200."""

    def __init__(self):
        self.called = False
        self.read = 0

    async def __call__(self, scope, receive, send):
        self.called = True
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # as Django does (RequestAborted): nothing is sent
            self.read += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def test_asgi_refuses_a_declared_large_body_before_django_sees_it(settings):
    settings.MAX_UPLOAD_MB = 1
    inner = _ReadsWholeBody()
    sent = _asgi(BodySizeLimitASGI(inner), "/api/cases/", headers=[(b"content-length", str(200 * MB).encode())],
                 chunks=[b""])
    assert not inner.called
    assert sent[0]["status"] == 413
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["status"] == 413


def test_asgi_stops_a_chunked_body_at_the_limit(settings):
    settings.MAX_UPLOAD_MB = 1
    inner = _ReadsWholeBody()
    sent = _asgi(BodySizeLimitASGI(inner), "/cases/new/", headers=[], chunks=[b"x" * MB] * 5)
    assert inner.read <= 2 * MB + MB  # it stopped reading soon after the limit, not after 5 MB
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413]
    assert b"Request body too large" in sent[-1]["body"]


def test_asgi_passes_a_small_body_through(settings):
    inner = _ReadsWholeBody()
    sent = _asgi(BodySizeLimitASGI(inner), "/cases/new/", headers=[(b"content-length", b"3")], chunks=[b"abc"])
    assert inner.read == 3 and sent[0]["status"] == 200


# -- error pages ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_404_page_has_the_layout_and_a_way_back(client, operator):
    client.force_login(operator)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "112 Triage" in page and "Not found" in page and 'href="/"' in page and "Log out" in page


@pytest.mark.django_db
def test_403_page_has_the_layout_and_is_logged(client, operator, caplog):
    client.force_login(operator)
    with caplog.at_level(logging.WARNING, logger="security"):
        response = client.get(reverse("audits:queue"))  # supervisors only
    assert response.status_code == 403
    page = response.content.decode()
    assert "Forbidden" in page and "Back to the queue" in page and "supervisor role" in page
    line = next(r.getMessage() for r in caplog.records if "authorisation refused" in r.getMessage())
    assert "user=olivia" in line and "path=/audits/" in line


@pytest.mark.django_db
def test_api_404_is_a_problem_document(client, operator):
    client.force_login(operator)
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content) == {
        "type": "about:blank", "title": "Not found", "status": 404,
        "detail": "There is no API endpoint at /api/v1/no-such-endpoint/; the endpoints are listed at /api/v1/docs/.",
    }


def test_500_page_needs_no_request_context_and_api_gets_a_problem():
    factory = RequestFactory()
    page = errors.server_error(factory.get("/cases/1/"))  # no user, no session, no messages
    assert page.status_code == 500 and b"112 Triage" in page.content and b"Back to the queue" in page.content
    api = errors.server_error(factory.get("/api/cases/1/"))
    assert api.status_code == 500 and api["Content-Type"] == "application/problem+json"
    assert json.loads(api.content)["status"] == 500


def test_500_page_survives_a_broken_template(monkeypatch):
    from django.template import loader

    def broken(name):
        raise RuntimeError("template storage is gone")

    monkeypatch.setattr(loader, "get_template", broken)
    response = errors.server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and b"Server error" in response.content
