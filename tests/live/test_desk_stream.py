"""The operator's desk as a live-call ingress: ``desk_stream_open`` and ``/ws/live/desk/``. Only an
operator's own session streams (supervisors, admins, intake clients and strangers are refused with a
code), the case is claimed by that operator, the audio lands in the stream's spool as it arrives,
and a normal close hangs up and makes it the case's recording."""

from __future__ import annotations

import json
import logging

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from calls import services as calls_services
from calls.exceptions import NotAllowed
from calls.models import Case, CaseEvent, CaseStatus, EventKind, RecordingSource
from live import services
from live.clients import frames as split_frames
from live.models import Ingress, LiveStream, StreamState
from live.protocol import ProtocolError, StreamStart
from live.spool import spool_path

from .conftest import recording_pcm
from .helpers import (
    DESK_PATH,
    HOST,
    ORIGIN,
    closed,
    connect,
    desk_headers,
    key_headers,
    send,
    session_cookie,
    until,
)

pytestmark = pytest.mark.django_db
FRAME = 640  # 20 ms of 16 kHz L16: what the desk page's worklet posts


def _start(call_id: str = "desk-1", **details) -> StreamStart:
    return StreamStart(call_id=call_id, encoding="l16", sample_rate=16000, **details)


def _start_message(call_id: str = "desk-1", **details) -> str:
    return json.dumps({"event": "start", "call_id": call_id, "encoding": "l16", "sample_rate": 16000, **details})


def _run(scenario):
    return async_to_sync(scenario)()


def _kinds(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", flat=True))


# -- the service ---------------------------------------------------------------------------------


def test_an_operator_opens_a_desk_stream_and_the_case_is_theirs(operator):
    stream = services.desk_stream_open(operator=operator, start=_start(location="MG Road, Bengaluru"))
    case = Case.objects.get(pk=stream.case_id)
    assert (stream.ingress, stream.state, stream.client) == (Ingress.DESK, StreamState.STREAMING, operator)
    assert (case.status, case.claimed_by, case.created_by) == (CaseStatus.CLAIMED, operator, operator)
    assert case.caller_number == "unknown" and case.location == "MG Road, Bengaluru"
    assert _kinds(case) == [EventKind.CREATED, services.LIVE_EVENT, EventKind.CLAIMED]
    assert spool_path(stream.audio_name).exists()


@pytest.mark.parametrize("role", ["supervisor", "admin", "intake"])
def test_only_operators_take_calls_at_a_desk(make_user, role):
    with pytest.raises(NotAllowed):
        services.desk_stream_open(operator=make_user(role), start=_start())
    assert not Case.objects.exists()


@pytest.mark.parametrize("start", [
    StreamStart(call_id="c", encoding="l16", sample_rate=8000),
    StreamStart(call_id="c", encoding="mulaw", sample_rate=8000),
    StreamStart(call_id="c", encoding="l16", sample_rate=16000, shape="twilio"),
])
def test_a_desk_streams_16k_l16_in_the_portals_shape_only(operator, start):
    with pytest.raises(ProtocolError) as refused:
        services.desk_stream_open(operator=operator, start=start)
    assert refused.value.code == 4415
    assert not Case.objects.exists()


def test_a_reconnect_continues_the_same_stream_and_keeps_the_claim(operator):
    first = services.desk_stream_open(operator=operator, start=_start())
    services.stream_interrupt(stream_id=first.pk, reason="connection lost, code 1006")
    again = services.desk_stream_open(operator=operator, start=_start())
    assert again.pk == first.pk and again.state == StreamState.STREAMING
    assert _kinds(again.case).count(EventKind.CLAIMED) == 1  # claimed once, kept through the drop


def test_a_case_released_during_the_drop_is_claimed_again(operator):
    stream = services.desk_stream_open(operator=operator, start=_start())
    services.stream_interrupt(stream_id=stream.pk, reason="connection lost")
    calls_services.case_release(case=stream.case, user=operator, reason="line dropped")
    again = services.desk_stream_open(operator=operator, start=_start())
    assert again.case.status == CaseStatus.CLAIMED and again.case.claimed_by == operator


def test_a_case_reassigned_during_the_drop_stays_with_its_new_operator(operator, operator2, supervisor):
    stream = services.desk_stream_open(operator=operator, start=_start())
    services.stream_interrupt(stream_id=stream.pk, reason="connection lost")
    calls_services.case_reassign(case=stream.case, supervisor=supervisor, operator=operator2, reason="cover")
    again = services.desk_stream_open(operator=operator, start=_start())
    assert again.state == StreamState.STREAMING and again.case.claimed_by == operator2
    assert "stays claimed by omar" in CaseEvent.objects.filter(case=again.case).last().reason


def test_the_same_call_id_of_two_operators_is_two_calls(operator, operator2):
    mine = services.desk_stream_open(operator=operator, start=_start("headset-1"))
    theirs = services.desk_stream_open(operator=operator2, start=_start("headset-1"))
    assert mine.case_id != theirs.case_id and theirs.case.claimed_by == operator2


# -- the websocket ---------------------------------------------------------------------------------


def test_an_operator_streams_from_the_desk_and_hangs_up(operator, pcm_16k, settings):
    settings.LIVE_FLUSH_SECONDS = 0  # each frame on disk at once, so the test can watch it land
    audio = list(split_frames(pcm_16k, frame_bytes=FRAME))
    half = len(audio) // 2
    headers = desk_headers(operator)  # a login session: made outside the event loop

    async def scenario():
        communicator, connected, _ = await connect(headers, path=DESK_PATH)
        assert connected
        await send(communicator, [_start_message(caller_number="98765 43210", location="Sector 14")])
        started = json.loads(await communicator.receive_from(timeout=10))
        assert started["event"] == "started" and started["frames"] == 0
        await send(communicator, audio[:half])
        stream = await sync_to_async(LiveStream.objects.get)(case_id=started["case"])
        await until(lambda: spool_path(stream.audio_name).stat().st_size == sum(map(len, audio[:half])))
        await send(communicator, [*audio[half:], json.dumps({"event": "stop"})])
        assert (await closed(communicator))["code"] == 1000
        return started["case"]

    case = Case.objects.get(pk=_run(scenario))
    stream = LiveStream.objects.get(case=case)
    assert (case.caller_number, case.location, case.claimed_by) == ("+919876543210", "Sector 14", operator)
    assert stream.state == StreamState.ENDED and stream.frames == len(audio)
    assert recording_pcm(stream.recording) == (pcm_16k, 16000)  # every sample, as sent
    assert (stream.recording.source, stream.recording.uploaded_by) == (RecordingSource.BROWSER, operator)
    assert not spool_path(stream.audio_name).exists()


def test_a_normal_close_without_stop_is_a_hang_up(operator, pcm_16k):
    headers = desk_headers(operator)  # a login session: made outside the event loop

    async def scenario():
        communicator, _, _ = await connect(headers, path=DESK_PATH)
        await send(communicator, [_start_message()])
        await communicator.receive_from(timeout=10)
        await send(communicator, list(split_frames(pcm_16k, frame_bytes=FRAME)))
        await communicator.disconnect(code=1000)  # the page was closed by its Hang up, or a clean close

    _run(scenario)
    stream = LiveStream.objects.get()
    assert stream.state == StreamState.ENDED and recording_pcm(stream.recording) == (pcm_16k, 16000)


def test_a_dropped_desk_reconnects_with_the_same_call_id(operator, pcm_16k):
    audio = list(split_frames(pcm_16k, frame_bytes=FRAME))
    cut = len(audio) // 3
    headers = desk_headers(operator)  # a login session: made outside the event loop

    async def scenario():
        first, _, _ = await connect(headers, path=DESK_PATH)
        await send(first, [_start_message("flaky-desk")])
        case = json.loads(await first.receive_from(timeout=10))["case"]
        await send(first, audio[:cut])
        await first.disconnect(code=1006)  # the desk's network drops
        second, _, _ = await connect(headers, path=DESK_PATH)
        await send(second, [_start_message("flaky-desk")])
        resumed = json.loads(await second.receive_from(timeout=10))
        assert resumed["case"] == case and resumed["frames"] == cut
        await send(second, [*audio[cut:], json.dumps({"event": "stop"})])
        assert (await closed(second))["code"] == 1000

    _run(scenario)
    stream = LiveStream.objects.get()
    assert recording_pcm(stream.recording) == (pcm_16k, 16000)
    assert [e.data["state"] for e in CaseEvent.objects.filter(kind=services.LIVE_EVENT)] == [
        "streaming", "interrupted", "streaming", "ended"]


@pytest.mark.parametrize(("role", "code"), [("supervisor", 4403), ("admin", 4403), ("intake", 4403)])
def test_other_roles_sessions_are_refused_and_logged(make_user, role, code, caplog):
    user = make_user(role)
    headers = desk_headers(user)  # a login session: made outside the event loop

    async def scenario():
        communicator, connected, refused = await connect(headers, path=DESK_PATH)
        await communicator.disconnect()
        return connected, refused

    with caplog.at_level(logging.WARNING, logger="security"):
        assert _run(scenario) == (False, code)
    assert f"live desk refused: user={user.get_username()}" in caplog.text
    assert not Case.objects.exists()


def test_an_anonymous_browser_is_refused_401():
    async def scenario():
        communicator, connected, refused = await connect([ORIGIN, HOST], path=DESK_PATH)
        await communicator.disconnect()
        return connected, refused

    assert _run(scenario) == (False, 4401)


def test_an_intake_key_is_no_credential_at_a_desk(intake):
    """A phone system's key opens the phone systems' path only; at the desk it is not a login."""
    _, secret = intake

    async def scenario():
        with_origin = await connect(key_headers(secret, ORIGIN), path=DESK_PATH)
        without_origin = await connect(key_headers(secret), path=DESK_PATH)
        for communicator, _, _ in (with_origin, without_origin):
            await communicator.disconnect()
        return with_origin[1:], without_origin[1]

    (connected, code), no_origin_connected = _run(scenario)
    assert (connected, code) == (False, 4401)
    assert no_origin_connected is False  # no Origin: the browsers' stack refuses it outright
    assert not Case.objects.exists()


@pytest.mark.parametrize("origin", [b"https://evil.example", b"http://127.0.0.1:8081", None])
def test_a_desk_socket_from_another_origin_is_refused(operator, origin):
    headers = [HOST, session_cookie(operator)] + ([(b"origin", origin)] if origin else [])

    async def scenario():
        communicator, connected, _ = await connect(headers, path=DESK_PATH)
        await communicator.disconnect()
        return connected

    assert _run(scenario) is False
    assert not Case.objects.exists()


@pytest.mark.parametrize(("messages", "code", "words"), [
    ([b"\x00" * FRAME], 4400, "before the start"),
    ([_start_message(), b"\x00" * 641], 4400, "even length"),
    ([_start_message(), b"\x01\x00" * 16001], 4413, "over 1 s"),
    ([json.dumps({"event": "start", "call_id": "x", "encoding": "l16", "sample_rate": 8000})], 4415, "16000 Hz"),
    ([_start_message(caller_number="12")], 4400, "not a valid phone number"),
])
def test_bad_messages_are_refused_as_on_the_phone_systems_path(operator, messages, code, words):
    headers = desk_headers(operator)  # a login session: made outside the event loop

    async def scenario():
        communicator, _, _ = await connect(headers, path=DESK_PATH)
        await send(communicator, messages)
        return await closed(communicator)

    refused = _run(scenario)
    assert refused["code"] == code and words in refused["reason"], refused


def test_a_refusal_is_said_in_a_message_before_the_close(operator):
    """Daphne drops a close frame's reason: the desk's page learns it from this message instead."""
    headers = desk_headers(operator)  # a login session: made outside the event loop

    async def scenario():
        communicator, _, _ = await connect(headers, path=DESK_PATH)
        await send(communicator, [_start_message(caller_number="12")])
        said = json.loads(await communicator.receive_from(timeout=10))
        return said, await closed(communicator)

    said, close = _run(scenario)
    assert said["event"] == "refused" and said["code"] == close["code"] == 4400
    assert said["reason"] == close["reason"] and "not a valid phone number" in said["reason"]


def test_deactivating_the_operator_ends_the_desk_socket_and_keeps_the_audio(operator, pcm_16k, settings):
    settings.LIVE_FLUSH_SECONDS = 0
    audio = list(split_frames(pcm_16k, frame_bytes=FRAME))
    headers = desk_headers(operator)  # a login session: made outside the event loop

    async def scenario():
        communicator, _, _ = await connect(headers, path=DESK_PATH)
        await send(communicator, [_start_message()])
        await communicator.receive_from(timeout=10)
        await send(communicator, audio)
        await until(lambda: LiveStream.objects.get().frames == len(audio))
        operator.is_active = False
        await sync_to_async(operator.save)()
        return await closed(communicator)

    assert _run(scenario)["code"] == 4401
    stream = LiveStream.objects.get()
    assert stream.state == StreamState.INTERRUPTED  # a drop, not a hang-up: the sweep attaches the audio
    assert spool_path(stream.audio_name).read_bytes() == pcm_16k


# -- the page ---------------------------------------------------------------------------------------


def test_the_desk_page_is_an_operators(client, operator, supervisor):
    client.force_login(operator)
    queue = client.get("/").content.decode()
    assert 'href="/live/desk/"' in queue and "Take a live call" in queue
    page = client.get("/live/desk/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-socket-path="/ws/live/desk/"' in html and "js/desk-capture.js" in html and "js/desk.js" in html
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy  # the worklet and the socket
    client.force_login(supervisor)
    assert "Take a live call" not in client.get("/").content.decode()
    assert client.get("/live/desk/").status_code == 403
