"""The websocket media stream (/ws/live/stream/): the three message shapes, refusals with a code and
a reason, drops and reconnects that lose no frame, and the audio becoming the case's recording."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import Client

from calls import services as calls_services
from calls.models import Case, CaseEvent, CaseStatus
from live import services
from live.clients import portal_messages, twilio_messages
from live.codec import mulaw_decode, mulaw_encode
from live.models import LiveStream, StreamState
from live.spool import spool_path

from .conftest import recording_pcm, samples
from .helpers import closed, connect, key_headers, send, until

pytestmark = pytest.mark.django_db


def _run(scenario):
    return async_to_sync(scenario)()


def _split(messages):
    """(start, frames, stop) of a shape's message list."""
    items = list(messages)
    return items[0], items[1:-1], items[-1]


def _live_states(case: Case) -> list[str]:
    return [e.data["state"] for e in CaseEvent.objects.filter(case=case, kind=services.LIVE_EVENT)]


def test_a_call_streams_in_and_its_audio_becomes_the_recording(intake, pcm_16k, operator):
    user, secret = intake
    start, frames, stop = _split(portal_messages(pcm_16k, call_id="pbx-0001", encoding="l16", sample_rate=16000,
                                                 caller_number="+91 98765 43210", language="en-IN",
                                                 location="Hazratganj, Lucknow"))
    page = Client()
    page.force_login(operator)

    async def scenario():
        communicator, connected, _ = await connect(key_headers(secret))
        assert connected
        await send(communicator, [start])
        started = json.loads(await communicator.receive_from(timeout=10))
        # the case is in the queue from the first message, with the caller's details and a live badge
        case = await sync_to_async(Case.objects.get)(pk=started["case"])
        assert (case.caller_number, case.location, case.created_by_id) == ("+919876543210", "Hazratganj, Lucknow",
                                                                           user.pk)
        assert case.priority_band == "high"  # no audio yet: the safe provisional priority
        queue = (await sync_to_async(page.get)("/")).content.decode()
        detail = (await sync_to_async(page.get)(f"/cases/{case.pk}/")).content.decode()
        assert "live-badge" in queue and 'id="case-live-badge"' in detail
        await send(communicator, [*frames, stop])
        assert (await closed(communicator))["code"] == 1000
        return case.pk

    case = Case.objects.get(pk=_run(scenario))
    stream = LiveStream.objects.get(case=case)
    assert stream.state == StreamState.ENDED and stream.frames == len(frames)
    assert stream.bytes_received == len(pcm_16k) and stream.ended_at is not None
    stored, rate = recording_pcm(stream.recording)
    assert rate == 16000 and stored == pcm_16k  # every sample, as sent
    assert case.recordings.get() == stream.recording and stream.recording.uploaded_by == user
    assert _live_states(case) == ["streaming", "ended"]
    assert not spool_path(stream.audio_name).exists()  # the spool is the recording now
    assert "live-badge" not in page.get("/").content.decode()


def test_twilio_media_events_with_base64_mulaw(intake, pcm_8k):
    _, secret = intake
    messages = list(twilio_messages(pcm_8k, call_sid="CA42", caller_number="9876543210", language="hi"))

    async def scenario():
        communicator, connected, _ = await connect(key_headers(secret))
        assert connected
        await send(communicator, messages)
        assert (await closed(communicator))["code"] == 1000

    _run(scenario)
    stream = LiveStream.objects.get(call_id="CA42")
    assert (stream.encoding, stream.sample_rate, stream.case.language) == ("mulaw", 8000, "hi")
    assert stream.case.caller_number == "+919876543210"
    stored, rate = recording_pcm(stream.recording)
    assert rate == 8000 and stored == mulaw_decode(mulaw_encode(pcm_8k))
    assert stream.bytes_received == len(pcm_8k) // 2  # one mu-law byte a sample


def test_freeswitch_audio_fork_metadata_then_binary_l16(intake, pcm_16k):
    _, secret = intake
    metadata = json.dumps({"uuid": "fs-7c1e", "caller_number": "+44 20 7946 0958", "sampling_rate": 16000})
    _, frames, _ = _split(portal_messages(pcm_16k, call_id="x", encoding="l16", sample_rate=16000))

    async def scenario():
        communicator, connected, _ = await connect(key_headers(secret))
        assert connected
        await send(communicator, [metadata, *frames])
        await communicator.disconnect(code=1000)  # mod_audio_fork ends with a normal close

    _run(scenario)
    stream = LiveStream.objects.get(call_id="fs-7c1e")
    assert stream.state == StreamState.ENDED and stream.case.caller_number == "+442079460958"
    assert recording_pcm(stream.recording) == (pcm_16k, 16000)


@pytest.mark.parametrize(("start", "code", "words"), [
    ({"encoding": "opus", "sample_rate": 8000}, 4415, "Unknown encoding"),
    ({"encoding": "l16", "sample_rate": 44100}, 4415, "not supported"),
    ({"encoding": "mulaw", "sample_rate": 16000}, 4415, "mulaw at 8000"),
    ({"encoding": "l16", "sample_rate": 8000, "language": "fr"}, 4400, "Unknown language"),
    ({"encoding": "l16", "sample_rate": 8000, "caller_number": "12"}, 4400, "not a valid phone number"),
    ({"encoding": "l16", "sample_rate": 8000, "call_id": ""}, 4400, "needs a call_id"),
])
def test_a_wrong_start_is_refused_with_a_reason_and_creates_nothing(intake, start, code, words):
    _, secret = intake

    async def scenario():
        communicator, connected, _ = await connect(key_headers(secret))
        assert connected
        await send(communicator, [json.dumps({"event": "start", "call_id": "c1", **start})])
        return await closed(communicator)

    refused = _run(scenario)
    assert refused["code"] == code and words in refused["reason"]
    assert not Case.objects.exists() and not LiveStream.objects.exists()


@pytest.mark.parametrize("first", [b"\x00" * 320, json.dumps({"event": "media", "media": {"payload": "AAAA"}})])
def test_audio_before_start_is_refused(intake, first):
    _, secret = intake

    async def scenario():
        communicator, _, _ = await connect(key_headers(secret))
        await send(communicator, [first])
        return await closed(communicator)

    refused = _run(scenario)
    assert refused["code"] == 4400 and "before the start" in refused["reason"]
    assert not Case.objects.exists()


def test_an_oversize_frame_is_refused_and_what_came_before_is_kept(intake, pcm_8k):
    _, secret = intake
    start, frames, _ = _split(portal_messages(pcm_8k, call_id="big", encoding="l16"))

    async def scenario():
        communicator, _, _ = await connect(key_headers(secret))
        await send(communicator, [start])
        await communicator.receive_from(timeout=10)
        await send(communicator, [*frames[:10], b"\x01\x00" * 8001])  # just over 1 s of 8 kHz L16
        return await closed(communicator)

    refused = _run(scenario)
    assert refused["code"] == 4413 and "over 1 s" in refused["reason"]
    stream = LiveStream.objects.get(call_id="big")
    assert stream.state == StreamState.INTERRUPTED and stream.frames == 10
    assert spool_path(stream.audio_name).read_bytes() == b"".join(frames[:10])


def test_audio_is_on_disk_as_it_arrives(intake, pcm_8k, settings):
    settings.LIVE_FLUSH_SECONDS = 0  # every frame written at once (the default: at least twice a second)
    _, secret = intake
    start, frames, _ = _split(portal_messages(pcm_8k, call_id="disk", encoding="mulaw"))

    async def scenario():
        communicator, _, _ = await connect(key_headers(secret))
        await send(communicator, [start])
        await communicator.receive_from(timeout=10)
        await send(communicator, frames[:25])
        stream = await sync_to_async(LiveStream.objects.get)(call_id="disk")
        await until(lambda: spool_path(stream.audio_name).stat().st_size == 25 * 320)
        await until(lambda: LiveStream.objects.get(pk=stream.pk).frames == 25)
        await communicator.disconnect(code=1006)

    _run(scenario)


def test_a_drop_then_a_reconnect_continues_the_same_audio_with_no_frame_lost(intake, pcm_8k):
    _, secret = intake
    start, frames, stop = _split(portal_messages(pcm_8k, call_id="flaky", encoding="mulaw",
                                                 caller_number="9876543210"))
    cut = len(frames) // 3

    async def scenario():
        first, _, _ = await connect(key_headers(secret))
        await send(first, [start])
        await first.receive_from(timeout=10)
        await send(first, frames[:cut])
        await first.disconnect(code=1006)  # the line drops: no stop, no normal close
        stream = await sync_to_async(LiveStream.objects.get)(call_id="flaky")
        assert stream.state == StreamState.INTERRUPTED and stream.frames == cut
        second, _, _ = await connect(key_headers(secret))
        await send(second, [start])
        resumed = json.loads(await second.receive_from(timeout=10))
        assert resumed["case"] == stream.case_id and resumed["frames"] == cut
        await send(second, [*frames[cut:], stop])
        assert (await closed(second))["code"] == 1000

    _run(scenario)
    stream = LiveStream.objects.get(call_id="flaky")
    assert LiveStream.objects.count() == 1 and Case.objects.count() == 1
    assert stream.frames == len(frames)
    stored, _ = recording_pcm(stream.recording)
    sent = samples(mulaw_decode(mulaw_encode(pcm_8k)))
    assert len(samples(stored)) == len(sent) and (samples(stored) == sent).all()  # 0 frames lost
    assert _live_states(stream.case) == ["streaming", "interrupted", "streaming", "ended"]


def test_a_stream_not_back_in_time_is_cut_off_and_its_audio_kept(intake, pcm_8k, settings):
    _, secret = intake
    start, frames, _ = _split(portal_messages(pcm_8k, call_id="gone", encoding="l16"))

    async def scenario():
        communicator, _, _ = await connect(key_headers(secret))
        await send(communicator, [start])
        await communicator.receive_from(timeout=10)
        await send(communicator, frames)
        await communicator.disconnect(code=1006)

    _run(scenario)
    assert services.streams_sweep() == 0  # still within LIVE_RECONNECT_SECONDS
    settings.LIVE_RECONNECT_SECONDS = 0
    assert services.streams_sweep() == 1
    stream = LiveStream.objects.get(call_id="gone")
    assert stream.state == StreamState.CUT_OFF and recording_pcm(stream.recording) == (pcm_8k, 8000)

    async def late():
        communicator, _, _ = await connect(key_headers(secret))
        await send(communicator, [start])
        return await closed(communicator)

    refused = _run(late)
    assert refused["code"] == 4409 and "has ended" in refused["reason"]
    assert stream.case.recordings.count() == 1


def test_a_late_reconnect_cuts_the_stream_off_itself(intake, pcm_8k, settings):
    """No sweep ran (no Celery beat): the reconnect attempt finalises the stream before refusing."""
    _, secret = intake
    start, frames, _ = _split(portal_messages(pcm_8k, call_id="late", encoding="l16"))
    settings.LIVE_RECONNECT_SECONDS = 0

    async def scenario():
        first, _, _ = await connect(key_headers(secret))
        await send(first, [start])
        await first.receive_from(timeout=10)
        await send(first, frames)
        await first.disconnect(code=1006)
        second, _, _ = await connect(key_headers(secret))
        await send(second, [start])
        return await closed(second)

    assert _run(scenario)["code"] == 4409
    stream = LiveStream.objects.get(call_id="late")
    assert stream.state == StreamState.CUT_OFF and stream.recording is not None


def test_a_second_stream_for_a_call_whose_case_is_closed_is_refused(intake, pcm_8k, operator):
    _, secret = intake
    start, frames, _ = _split(portal_messages(pcm_8k, call_id="done", encoding="l16"))

    async def first_part():
        communicator, _, _ = await connect(key_headers(secret))
        await send(communicator, [start, *frames[:20]])
        await communicator.receive_from(timeout=10)
        await communicator.disconnect(code=1006)

    _run(first_part)
    case = LiveStream.objects.get(call_id="done").case
    calls_services.case_claim(case=case, operator=operator)
    calls_services.case_close(case=case, user=operator, outcome="prank", reason="Laughing, then hung up.")

    async def again():
        communicator, _, _ = await connect(key_headers(secret))
        await send(communicator, [start])
        return await closed(communicator)

    refused = _run(again)
    assert refused["code"] == 4409 and "closed" in refused["reason"]
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and not case.recordings.exists()
    assert LiveStream.objects.get(call_id="done").state == StreamState.INTERRUPTED


def test_the_same_call_cannot_stream_twice_at_once(intake, pcm_8k):
    _, secret = intake
    start, _, _ = _split(portal_messages(pcm_8k, call_id="twice", encoding="l16"))

    async def scenario():
        first, _, _ = await connect(key_headers(secret))
        await send(first, [start])
        await first.receive_from(timeout=10)
        second, _, _ = await connect(key_headers(secret))
        await send(second, [start])
        refused = await closed(second)
        await first.disconnect(code=1006)
        return refused

    assert _run(scenario)["code"] == 4409
    assert LiveStream.objects.count() == 1


def test_a_call_longer_than_a_recording_may_be_ends_there_with_its_audio_kept(intake, pcm_8k, settings):
    settings.MAX_AUDIO_SECONDS = 1.0
    _, secret = intake
    start, frames, _ = _split(portal_messages(pcm_8k, call_id="long", encoding="l16"))
    assert len(frames) > 60  # over 1 s of 20 ms frames

    async def scenario():
        communicator, _, _ = await connect(key_headers(secret))
        await send(communicator, [start])
        await communicator.receive_from(timeout=10)
        await send(communicator, frames)
        return await closed(communicator)

    refused = _run(scenario)
    assert refused["code"] == 4413 and "over 1 s" in refused["reason"]
    stream = LiveStream.objects.get(call_id="long")
    assert stream.state == StreamState.ENDED
    assert recording_pcm(stream.recording) == (b"".join(frames[:50]), 8000)  # exactly the first second
