"""Creating a case with audio: every accepted format, and every kind of bad audio."""

import logging

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from calls.models import Case, CaseEvent, EventKind, Recording
from tests.conftest import FORMATS, encode

pytestmark = pytest.mark.django_db


def _files_under(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _an_hour_ago() -> str:
    """A call time the form accepts on any day the suite runs (calls days old are refused)."""
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


def _post_case(client, audio):
    return client.submit(
        reverse("calls:case_create"),
        data={"caller_number": "98765 43210", "received_at": _an_hour_ago(), "language": "en-IN",
              "location": "Near the railway station", "audio": audio},
    )


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_is_decoded_to_16k_mono(client, operator, upload, fmt, media_root):
    client.force_login(operator)
    response = _post_case(client, upload(fmt, sample_rate=16_000, channels=2))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    recording = case.recordings.get()
    assert recording.channels == 2
    assert recording.sample_rate in (16_000, 48_000)  # Opus always runs at 48 kHz
    assert 2.5 < recording.duration_s < 5.5
    assert len(recording.sha256) == 64
    import soundfile as sf

    info = sf.info(recording.normalised.path)
    assert (info.samplerate, info.channels) == (16_000, 1)
    assert abs(info.duration - recording.duration_s) < 0.05
    assert (media_root / recording.original.name).exists()


def test_telephone_rate_audio_is_resampled(client, operator, speech_clip):
    client.force_login(operator)
    narrowband = speech_clip[::2]  # 8 kHz, as a phone line delivers
    audio = SimpleUploadedFile("call.wav", encode(narrowband, "wav", sample_rate=8_000))
    _post_case(client, audio)
    recording = Recording.objects.get()
    assert recording.sample_rate == 8_000
    import soundfile as sf

    assert sf.info(recording.normalised.path).samplerate == 16_000


BAD_AUDIO = {
    "empty": (b"", "empty"),
    "text renamed .wav": (b"This is not audio at all, just a text file.\n" * 20, "not a recognisable audio"),
    "corrupt": (None, "corrupt"),  # built in the test: a real file with its middle overwritten
    "silence": (None, "only silence"),
}


@pytest.mark.parametrize("kind", sorted(BAD_AUDIO))
def test_bad_audio_keeps_the_case_and_says_why(client, operator, upload, speech_clip, media_root, caplog, kind):
    content, expected = BAD_AUDIO[kind]
    if kind == "corrupt":
        good = encode(speech_clip, "flac")  # FLAC's checksums make damage detectable
        noise = np.random.default_rng(1).integers(0, 256, len(good) - 600, dtype=np.uint8)
        content = good[:300] + bytes(noise) + good[-300:]
    if kind == "silence":
        content = encode(np.zeros(16_000 * 3, dtype=np.float32), "wav")
    client.force_login(operator)
    before = _files_under(media_root)
    with caplog.at_level(logging.WARNING, logger="calls"):
        response = _post_case(client, SimpleUploadedFile("call.wav", content))
    case = Case.objects.get()  # the call is saved whatever its audio
    assert not case.recordings.exists()
    assert _files_under(media_root) == before  # nothing half-written stays on disk
    page = client.get(response["Location"]).content.decode()
    assert "audio was rejected" in page and expected in page
    event = case.events.get(kind=EventKind.AUDIO_REJECTED)
    assert expected in event.reason
    assert any(expected in record.getMessage() for record in caplog.records)


def test_file_over_the_size_limit_is_refused(client, operator, settings, media_root):
    settings.MAX_UPLOAD_MB = 1
    client.force_login(operator)
    big = SimpleUploadedFile("call.wav", b"\0" * (1024 * 1024 + 1))
    response = _post_case(client, big)
    case = Case.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "the limit is 1 MB" in page
    assert not case.recordings.exists() and not _files_under(media_root / "recordings")


def test_audio_longer_than_the_maximum_is_refused(client, operator, upload, settings):
    settings.MAX_AUDIO_SECONDS = 2.0
    client.force_login(operator)
    response = _post_case(client, upload("flac"))
    page = client.get(response["Location"]).content.decode()
    assert "longer than the maximum" in page
    assert not Recording.objects.exists()


def test_invalid_form_saves_nothing(client, operator):
    client.force_login(operator)
    response = client.submit(reverse("calls:case_create"), data={"caller_number": "12345", "language": "en"})
    assert response.status_code == 200
    assert "not a valid phone number" in response.content.decode()
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_audio_can_be_attached_later(client, operator, upload, case_factory):
    case = case_factory()
    client.force_login(operator)
    client.submit(case.get_absolute_url(), reverse("calls:recording_add", args=[case.pk]), {"audio": upload("ogg")})
    assert case.recordings.count() == 1
    assert case.events.filter(kind=EventKind.AUDIO_ADDED).exists()


def test_recording_audio_is_served_with_byte_ranges_for_seeking(client, operator, upload, case_factory):
    case = case_factory(audio=upload("wav"))
    recording = case.recordings.get()
    client.force_login(operator)
    url = reverse("calls:recording_file", args=[recording.pk, "normalised"])
    whole = client.get(url)
    assert whole["Accept-Ranges"] == "bytes"
    data = b"".join(whole.streaming_content)
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert part.content == data[100:200]
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert tail.content == data[-10:]
    assert client.get(url, HTTP_RANGE=f"bytes={len(data) + 5}-").status_code == 416
