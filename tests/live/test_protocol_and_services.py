"""The pure parts (G.711 mu-law, the message shapes) and the stream services' edges."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from analysis.selectors import confirmed_prank_count
from calls import services as calls_services
from calls.exceptions import NotAllowed
from calls.models import Case, CaseEvent, EventKind
from calls.phone import UNKNOWN_CALLER, normalise_caller_number
from live import services
from live.codec import MULAW_TO_L16, mulaw_decode, mulaw_encode
from live.models import LiveStream, StreamState
from live.protocol import ProtocolError, StreamStart, parse_text
from live.spool import spool_append, spool_path

# -- mu-law --------------------------------------------------------------------------------------


def test_mulaw_decodes_to_the_g711_levels():
    assert MULAW_TO_L16[0xFF] == 0 and MULAW_TO_L16[0x7F] == 0
    assert MULAW_TO_L16[0x80] == 32124 and MULAW_TO_L16[0x00] == -32124
    assert MULAW_TO_L16[0xF0] == 120 and MULAW_TO_L16[0x70] == -120


def test_mulaw_encoding_a_decoded_level_gives_the_code_back():
    codes = bytes(c for c in range(256) if c != 0x7F)  # 0x7F is "minus zero": it encodes as 0xFF
    assert mulaw_encode(mulaw_decode(codes)) == codes


def test_mulaw_keeps_speech_within_its_quantisation():
    t = np.arange(8000) / 8000
    pcm = (0.6 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    back = np.frombuffer(mulaw_decode(mulaw_encode(pcm.tobytes())), dtype="<i2").astype(float)
    error = np.abs(back - pcm) / np.maximum(np.abs(pcm), 64)
    assert error.max() < 0.07  # G.711's logarithmic steps: a few percent of the level


# -- message shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["connected", "mark", "dtmf"])
def test_platform_events_that_carry_no_audio_are_ignored(event):
    assert parse_text({"event": event}, started=True).kind == "ignore"


def test_the_call_takers_track_is_not_the_callers_audio():
    outbound = {"event": "media", "media": {"track": "outbound", "payload": base64.b64encode(b"x").decode()}}
    assert parse_text(outbound, started=True).kind == "ignore"


@pytest.mark.parametrize(("content", "started", "code"), [
    ({"event": "media", "media": {"payload": "***"}}, True, 4400),
    ({"event": "start", "call_id": "a", "encoding": "l16", "sample_rate": 8000}, True, 4400),
    ({"event": "hello"}, True, 4400),
    (["not", "an", "object"], False, 4400),
    ({"uuid": "fs-1", "sampling_rate": 11025}, False, 4415),
])
def test_malformed_messages_are_refused_with_a_code(content, started, code):
    with pytest.raises(ProtocolError) as refused:
        parse_text(content, started=started)
    assert refused.value.code == code and refused.value.reason


def test_a_twilio_start_reads_the_callers_details():
    start = parse_text(json.loads(json.dumps({"event": "start", "start": {
        "streamSid": "MZ1", "callSid": "CA1", "customParameters": {"from": "+919876543210", "location": "Aminabad"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}})), started=False).start
    assert start == StreamStart(call_id="CA1", encoding="mulaw", sample_rate=8000, caller_number="+919876543210",
                                location="Aminabad", shape="twilio")


# -- services ------------------------------------------------------------------------------------


pytestmark_db = pytest.mark.django_db


@pytest.fixture
def stream(intake):
    user, _ = intake
    return services.stream_open(client=user, start=StreamStart(call_id="c-1", encoding="l16", sample_rate=8000,
                                                               caller_number="9876543210"), ingress="websocket")


@pytestmark_db
def test_only_intake_clients_stream_or_announce(operator):
    start = StreamStart(call_id="x", encoding="l16", sample_rate=8000)
    with pytest.raises(NotAllowed):
        services.stream_open(client=operator, start=start, ingress="websocket")
    with pytest.raises(NotAllowed):
        services.call_announce(client=operator, caller_number="9876543210")
    assert not Case.objects.exists()


@pytestmark_db
def test_silence_ends_the_stream_without_a_recording_and_says_why(stream):
    spool_append(stream.audio_name, b"\x00\x00" * 16000)
    ended = services.stream_finish(stream_id=stream.pk)
    assert ended.state == StreamState.ENDED and ended.recording is None
    assert CaseEvent.objects.filter(case=stream.case, kind=EventKind.AUDIO_REJECTED).exists()
    assert "not kept" in CaseEvent.objects.filter(case=stream.case, kind=services.LIVE_EVENT).last().reason


@pytestmark_db
def test_finishing_twice_attaches_once(stream, pcm_8k):
    spool_append(stream.audio_name, pcm_8k)
    services.stream_finish(stream_id=stream.pk)
    services.stream_finish(stream_id=stream.pk, state=StreamState.CUT_OFF)
    stream.refresh_from_db()
    assert stream.state == StreamState.ENDED and stream.case.recordings.count() == 1


@pytestmark_db
def test_audio_of_a_case_closed_mid_call_is_kept_on_disk(stream, pcm_8k, operator):
    spool_append(stream.audio_name, pcm_8k)
    calls_services.case_claim(case=stream.case, operator=operator)
    calls_services.case_close(case=stream.case, user=operator, outcome="resolved", reason="Done on the phone.")
    ended = services.stream_finish(stream_id=stream.pk)
    assert ended.recording is None and spool_path(stream.audio_name).read_bytes() == pcm_8k


@pytestmark_db
def test_an_announced_call_whose_audio_never_comes_is_ended(intake, settings):
    announced = services.call_announce(client=intake[0], caller_number="")
    assert announced.case.caller_number == UNKNOWN_CALLER and announced.state == StreamState.ANNOUNCED
    assert services.streams_sweep() == 0
    assert services.streams_sweep(now=timezone.now() + timedelta(seconds=settings.LIVE_ANNOUNCE_SECONDS + 1)) == 1
    assert LiveStream.objects.get().state == StreamState.ENDED


@pytestmark_db
def test_callers_without_a_number_share_no_prank_history(case_factory, operator):
    assert normalise_caller_number(" Unknown ") == UNKNOWN_CALLER
    earlier = case_factory(caller_number=UNKNOWN_CALLER)
    calls_services.case_claim(case=earlier, operator=operator)
    calls_services.case_close(case=earlier, user=operator, outcome="prank", reason="A prank.")
    assert confirmed_prank_count(case_factory(caller_number=UNKNOWN_CALLER), days=30) == 0
