"""Stored XSS through a recording (security issue item 1), performed as the attacker did it.

A file that decodes as MP3 but is also JavaScript or HTML, uploaded as ``call.js`` / ``call.html``
(by an intake key over the API, or by an operator on the case page), was stored under that
extension and served back inline as text/javascript / text/html from the portal's own origin, so
``script-src 'self'`` let it run. Here the same files go in through the same doors, and must come
back stored as .mp3 and served as audio/mpeg, as an attachment, with nosniff and a sandboxing CSP.
The browser half of the attack (the script must not run, the page must not navigate) is in
tests/browser/test_media_xss.py.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import api_key_issue, integration_client_create
from calls.media_types import media_type_of
from calls.models import Case, Recording
from core import audio
from tests.conftest import FORMATS, encode, voice_like_clip
from tests.security.polyglots import (
    ATTACKER_URL,
    JS_PAYLOAD,
    call_mp3,
    js_polyglot,
    polyglot,
    store_as_before_the_fix,
)

CLIENT_TYPES = {"call.js": "text/javascript", "call.html": "text/html"}
KIND = {"call.js": "js", "call.html": "html"}


def _directives(policy: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def assert_hardened(response, content_type: str, *, attachment: bool, extension: str | None = None) -> None:
    """The headers every stored-media response must carry."""
    assert response["Content-Type"] == content_type, response["Content-Type"]
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = _directives(response["Content-Security-Policy"])
    assert "sandbox" in policy and policy["sandbox"] == "", response["Content-Security-Policy"]  # no allow-*
    assert policy.get("default-src") == "'none'", response["Content-Security-Policy"]
    assert "script-src" not in policy
    disposition = response.get("Content-Disposition", "")
    if attachment:
        assert disposition.startswith("attachment;"), disposition
        name = re.search(r'filename="([^"]+)"', disposition)
        assert name and name.group(1).endswith(extension or ""), disposition
        assert not re.search(r"\.(js|html?|svg|xml)\b", disposition, re.I), disposition
    else:
        assert not disposition.startswith("attachment"), disposition


def _an_hour_ago() -> str:
    return (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def assert_served_as_mp3(client, recording: Recording, data: bytes) -> None:
    """The original comes back as the MP3 it decoded as: whole, and as a range (what a player or a
    download manager asks for)."""
    url = reverse("calls:recording_file", args=[recording.pk, "original"])
    whole = client.get(url)
    assert whole.status_code == 200
    assert_hardened(whole, "audio/mpeg", attachment=True, extension=".mp3")
    assert _body(whole) == data  # the operator still gets the caller's exact file
    part = client.get(url, HTTP_RANGE="bytes=0-99")
    assert part.status_code == 206 and part.content == data[:100]
    assert_hardened(part, "audio/mpeg", attachment=True, extension=".mp3")


def assert_stored_as_mp3(recording: Recording, name: str, data: bytes, media_root: Path) -> None:
    assert recording.source_format == "mp3"
    assert recording.original_name == name  # shown on the page (escaped), never used for the file
    stored = str(recording.original.name)
    # (the same bytes twice in one case: the storage adds "_" and 7 letters to the second name)
    assert re.fullmatch(rf"recordings/{recording.case_id}/original-[0-9a-f]{{16}}(_[A-Za-z0-9]{{7}})?\.mp3", stored), stored
    assert (media_root / stored).read_bytes() == data


# -- the polyglots are real -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["js", "html"])
def test_the_polyglots_decode_as_mp3_and_read_as_script_or_page(kind, settings):
    data = polyglot(kind)
    decoded = audio.decode(io.BytesIO(data), max_seconds=settings.MAX_AUDIO_SECONDS)
    assert decoded.source_format == "mp3" and decoded.duration_s > settings.MIN_AUDIO_SECONDS
    assert not audio.is_silent(decoded.samples)
    if kind == "js":  # the payload, then the audio as one comment closed only by the trailer
        assert data.startswith(JS_PAYLOAD.encode() + b"/*") and data.count(b"*/") == 1
        assert data[-128:].startswith(b"TAG*/") and not data[-123:].strip()
    else:
        assert data.startswith(b"<!DOCTYPE html><meta http-equiv=\"refresh\"") and ATTACKER_URL.encode() in data[:200]
        assert data.count(b"-->") == 1 and data[-128:].startswith(b"TAG-->")


# -- in through every door, out as an MP3 download ---------------------------------------------


@pytest.fixture
def intake(admin_user):
    """An integration client with an intake key, as a PBX pushes calls in."""
    client = integration_client_create(admin=admin_user, name="pbx-attacker")
    _, secret = api_key_issue(admin=admin_user, client=client, name="primary")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return api


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["call.js", "call.html"])
def test_an_intake_key_cannot_plant_a_script_or_page(name, intake, client, operator, media_root):
    data = polyglot(KIND[name])
    created = intake.post("/api/v1/cases/", {"caller_number": "+91 98765 43210",
                                             "audio": SimpleUploadedFile(name, data, CLIENT_TYPES[name])},
                          format="multipart")
    assert created.status_code == 201, created.content
    case = Case.objects.get(pk=created.json()["id"])
    # and once more on the case's recordings endpoint
    more = intake.post(f"/api/v1/cases/{case.pk}/recordings/",
                       {"audio": SimpleUploadedFile(name, data, CLIENT_TYPES[name])}, format="multipart")
    assert more.status_code == 201, more.content
    recordings = list(case.recordings.all())
    assert len(recordings) == 2
    client.force_login(operator)
    for recording in recordings:
        assert_stored_as_mp3(recording, name, data, media_root)
        assert_served_as_mp3(client, recording, data)
    assert created.json()["recordings"][0]["original_name"] == name


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["call.js", "call.html"])
def test_an_operator_upload_on_the_case_page_cannot_plant_a_script_or_page(name, client, operator, case_factory,
                                                                            media_root):
    data = polyglot(KIND[name])
    case = case_factory()
    client.force_login(operator)
    response = client.submit(case.get_absolute_url(), reverse("calls:recording_add", args=[case.pk]),
                             {"audio": SimpleUploadedFile(name, data, CLIENT_TYPES[name])})
    assert response.status_code == 302
    recording = case.recordings.get()
    assert_stored_as_mp3(recording, name, data, media_root)
    page = client.get(case.get_absolute_url()).content.decode()
    assert reverse("calls:recording_file", args=[recording.pk, "original"]) in page  # the "original" link
    assert_served_as_mp3(client, recording, data)


@pytest.mark.django_db
def test_a_new_case_with_a_polyglot_is_stored_and_served_as_mp3(client, operator, media_root):
    data = js_polyglot()
    client.force_login(operator)
    client.submit(reverse("calls:case_create"),
                  data={"caller_number": "98765 43210", "received_at": _an_hour_ago(), "language": "en-IN",
                        "audio": SimpleUploadedFile("call.js", data, "text/javascript")})
    recording = Recording.objects.get()
    assert_stored_as_mp3(recording, "call.js", data, media_root)
    assert_served_as_mp3(client, recording, data)


# -- originals stored before the fix ------------------------------------------------------------


@pytest.fixture
def mp3_recording(operator, case_factory):
    """A recording stored without starting analysis (only its files matter here)."""
    from calls.audio_intake import recording_prepare

    def make(data: bytes, name: str = "call.mp3") -> Recording:
        upload = SimpleUploadedFile(name, data)
        recording = recording_prepare(case=case_factory(), upload=upload, uploaded_by=operator, source="upload")
        recording.save()
        return recording

    return make


@pytest.mark.django_db
@pytest.mark.parametrize("extension, kind", [(".js", "js"), (".html", "html"), (".svg", "html")])
def test_an_original_stored_under_a_hostile_extension_is_still_served_as_audio(extension, kind, client, operator,
                                                                               mp3_recording):
    data = polyglot(kind)
    recording = mp3_recording(data, f"call{extension}")
    store_as_before_the_fix(recording, extension)
    client.force_login(operator)
    assert_served_as_mp3(client, recording, data)


@pytest.mark.django_db
def test_an_original_of_a_format_not_in_the_table_is_plain_bytes(client, operator, mp3_recording):
    data = js_polyglot()
    recording = mp3_recording(data, "call.js")
    Recording.objects.filter(pk=recording.pk).update(source_format="tty")  # FFmpeg's text "format"
    store_as_before_the_fix(recording, ".js")
    client.force_login(operator)
    response = client.get(reverse("calls:recording_file", args=[recording.pk, "original"]))
    assert response.status_code == 200
    assert_hardened(response, "application/octet-stream", attachment=True, extension=".bin")


# -- the table, against FFmpeg's real format names ---------------------------------------------

EXPECTED = {"wav": (".wav", "audio/wav"), "mp3": (".mp3", "audio/mpeg"), "ogg": (".ogg", "audio/ogg"),
            "webm": (".webm", "audio/webm"), "flac": (".flac", "audio/flac"), "m4a": (".m4a", "audio/mp4")}


@pytest.mark.parametrize("source_format, expected", [
    ("wav", (".wav", "audio/wav")), ("mp3", (".mp3", "audio/mpeg")), ("ogg", (".ogg", "audio/ogg")),
    ("matroska,webm", (".webm", "audio/webm")), ("flac", (".flac", "audio/flac")),
    ("mov,mp4,m4a,3gp,3g2,mj2", (".m4a", "audio/mp4")), ("tty", (".bin", "application/octet-stream")),
    ("html", (".bin", "application/octet-stream")), ("", (".bin", "application/octet-stream")),
])
def test_the_format_table(source_format, expected):
    assert tuple(media_type_of(source_format)) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_accepted_format_is_stored_and_served_by_its_decoded_type(fmt, client, operator, mp3_recording):
    data = encode(voice_like_clip(1.0), fmt)
    recording = mp3_recording(data, "call.html")  # a hostile name on every format
    extension, mime = EXPECTED[fmt]
    assert recording.original.name.endswith(extension), (recording.source_format, recording.original.name)
    client.force_login(operator)
    response = client.get(reverse("calls:recording_file", args=[recording.pk, "original"]))
    assert_hardened(response, mime, attachment=True, extension=extension)
    assert _body(response) == data


# -- every media response -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_normalised_wav_and_the_picture_stay_inline_hardened_and_seekable(client, operator, mp3_recording):
    recording = mp3_recording(js_polyglot(), "call.js")
    client.force_login(operator)
    url = reverse("calls:recording_file", args=[recording.pk, "normalised"])
    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert_hardened(whole, "audio/wav", attachment=False)  # inline: the page's <audio> plays it
    wav = _body(whole)
    assert wav[:4] == b"RIFF"
    part = client.get(url, HTTP_RANGE="bytes=44-1043")
    assert part.status_code == 206 and part.content == wav[44:1044]
    assert part["Content-Range"] == f"bytes 44-1043/{len(wav)}"
    assert_hardened(part, "audio/wav", attachment=False)
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and tail.content == wav[-10:]
    assert_hardened(tail, "audio/wav", attachment=False)
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(wav) + 5}-")
    assert beyond.status_code == 416
    assert beyond["X-Content-Type-Options"] == "nosniff" and "sandbox" in beyond["Content-Security-Policy"]
    picture = client.get(reverse("calls:recording_file", args=[recording.pk, "picture"]))
    assert picture.status_code == 200 and _body(picture)[:8] == b"\x89PNG\r\n\x1a\n"
    assert_hardened(picture, "image/png", attachment=False)


# -- other stored user files: imported dataset clips --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("extension, mime", [(".mp3", "audio/mpeg"), (".js", "application/octet-stream"),
                                             (".html", "application/octet-stream")])
def test_a_dataset_clip_is_served_by_a_table_type_with_nosniff_and_sandbox(extension, mime, client, admin_user,
                                                                          media_root):
    from learning.models import Dataset, DatasetClip

    data = js_polyglot(call_mp3(1.0))
    stored = Path("datasets") / "clips" / "ab" / f"{'ab' * 32}{extension}"
    (media_root / stored).parent.mkdir(parents=True, exist_ok=True)
    (media_root / stored).write_bytes(data)
    dataset = Dataset.objects.create(name="imported", source="upload.zip", created_by=admin_user)
    clip = DatasetClip.objects.create(dataset=dataset, sha256="ab" * 32, audio=stored.as_posix(),
                                      original_name=f"01-01-01{extension}", label="angry", speaker="1",
                                      gender="female", duration_s=1.0)
    client.force_login(admin_user)
    response = client.get(reverse("learning:clip_audio", args=[clip.pk]))
    assert response.status_code == 200 and _body(response) == data
    assert_hardened(response, mime, attachment=False)  # inline: the dataset page's <audio> plays it
