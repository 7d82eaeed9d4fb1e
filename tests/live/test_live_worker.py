"""The live worker on a call as the ingress writes it: words committed while the caller speaks, the
case re-scored and re-ranked before the hang-up with the words quoted, and the page showing them."""

from __future__ import annotations

import asyncio
import time

import pytest

from analysis.models import LiveReading, TriageScore
from calls.models import Case
from live import services
from live.models import LiveStream
from live.protocol import StreamStart
from live.worker import LiveWorker

from .helpers import off_loop

pytestmark = pytest.mark.django_db(transaction=True)
CHUNK = 8000  # bytes: 0.5 s of 8 kHz 16-bit PCM


async def call_in_progress(stream: LiveStream, pcm: bytes, *, speed: float = 2.0, on_flag=None) -> dict:
    """Run a live worker while the call's audio arrives (``speed`` times real time), then hang up;
    ``on_flag`` runs (in a thread) once the case is HIGH or above from what was heard live."""
    stop = asyncio.Event()
    worker = LiveWorker()
    running = asyncio.create_task(worker.run(stop=stop, poll_seconds=0.2))
    seen: dict = {"flagged_during_call": None}
    for at in range(0, len(pcm), CHUNK):
        part = pcm[at:at + CHUNK]
        await asyncio.to_thread(services.stream_write, stream_id=stream.pk, audio_name=stream.audio_name,
                                pcm=part, frames=len(part) // 320, received=len(part))
        await asyncio.sleep(0.5 / speed)
        if seen["flagged_during_call"] is None:
            band = await asyncio.to_thread(lambda: Case.objects.get(pk=stream.case_id).priority_band)
            if band in ("high", "critical") and await asyncio.to_thread(
                    LiveReading.objects.filter(case_id=stream.case_id).exists):
                seen["flagged_during_call"] = at / 16000
                if on_flag is not None:
                    seen["on_flag"] = await asyncio.to_thread(on_flag)
    for _ in range(40):  # the worker catches up with the last audio
        await asyncio.sleep(0.25)
    await asyncio.to_thread(services.stream_finish, stream_id=stream.pk)
    for _ in range(200):
        await asyncio.sleep(0.1)
        if not worker.tasks:
            break
    stop.set()
    await running
    return seen


def test_a_call_is_transcribed_and_flagged_while_the_caller_speaks(intake, pcm_8k, client, operator):
    user, _ = intake
    stream = services.stream_open(client=user, start=StreamStart(call_id="live-1", encoding="l16", sample_rate=8000,
                                                                 caller_number="9876543210"), ingress="websocket")
    silence = bytes(16000)  # a second of silence before the caller speaks

    def case_page() -> str:
        client.force_login(operator)
        return client.get(f"/cases/{stream.case_id}/").content.decode()

    seen = off_loop(asyncio.run, call_in_progress(stream, silence + pcm_8k, on_flag=case_page), timeout=240)

    readings = list(LiveReading.objects.filter(case_id=stream.case_id).order_by("pk"))
    assert readings, "the worker kept no reading"
    assert [r.final for r in readings] == [False] * (len(readings) - 1) + [True], "one final reading, the last"
    words = [w["word"].lower() for w in readings[-1].words]
    assert {"fire", "breathe", "ambulance"} & set(words), words
    heard = [(w["word"].lower().strip(".,?!"), w["start"]) for w in readings[-1].words]
    starts = [start for _, start in heard]
    assert starts == sorted(starts), heard
    # no word committed twice: the same word again within 0.3 s is a pass's word committed a second
    # time (Whisper can give a short word no length, so two different words may share a start)
    twice = [(a, b) for a, b in zip(heard, heard[1:], strict=False) if a[0] == b[0] and b[1] - a[1] < 0.3]
    assert not twice, heard
    for earlier, later in zip(readings, readings[1:], strict=False):  # committed words are never taken back
        assert later.words[:len(earlier.words)] == earlier.words
    assert seen["flagged_during_call"] is not None, "not flagged before the hang-up"

    live_scores = TriageScore.objects.filter(case_id=stream.case_id, provisional=True)
    assert live_scores.exists()
    case = Case.objects.get(pk=stream.case_id)
    assert case.priority_band in ("high", "critical")
    assert any("fire" in reason.lower() or "breath" in reason.lower() for reason in case.priority_reasons), \
        case.priority_reasons
    page = seen["on_flag"]  # the case page while the caller was still on the line
    assert 'id="live-words"' in page and "words so far" in page


def test_silence_on_the_line_gives_no_words(intake):
    user, _ = intake
    stream = services.stream_open(client=user, start=StreamStart(call_id="live-quiet", encoding="l16",
                                                                 sample_rate=8000), ingress="websocket")
    started = time.monotonic()
    off_loop(asyncio.run, call_in_progress(stream, bytes(16000 * 6), speed=4.0), timeout=240)
    assert time.monotonic() - started < 120
    readings = LiveReading.objects.filter(case_id=stream.case_id)
    assert all(reading.words == [] for reading in readings)
    assert Case.objects.get(pk=stream.case_id).priority_band != "low"


def test_the_worker_warms_each_model_once_before_its_first_call(settings):
    """A fresh process's first pass is several times slower than the next: the worker makes one on
    every Whisper replica, the speech finder and the voice before it takes calls; a voice model
    that cannot be read yet does not stop it."""
    settings.LIVE_WHISPER_PASSES = 2
    passes, voices, checks = [], [], []

    def classify(samples):
        voices.append(samples.size)
        raise RuntimeError("no active voice model")

    worker = LiveWorker(transcribe=lambda samples, prompt: passes.append((samples.size, prompt)) or [],
                        classify=classify, has_speech=lambda samples: checks.append(samples.size) or False)
    worker.warm_up()
    assert passes == [(32000, None), (32000, None)] and voices == [32000] and checks == [32000]
    assert not worker.tasks
