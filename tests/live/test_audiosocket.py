"""Asterisk AudioSocket: the server (live.audiosocket) against the replay client (live.clients), over
real TCP on 127.0.0.1; calls announced over the API or unknown; drops, reconnects and closed cases."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from calls import services as calls_services
from calls.models import Case
from calls.phone import UNKNOWN_CALLER
from live.audiosocket import KIND_AUDIO, KIND_HANGUP, KIND_UUID, AudioSocketServer, message, read_message
from live.clients import audiosocket_call
from live.models import LiveStream, StreamState

from .conftest import recording_pcm, samples

pytestmark = pytest.mark.django_db


def _with_server(scenario):
    async def run():
        server = AudioSocketServer()
        port = await server.start("127.0.0.1", 0)
        try:
            return await scenario(port)
        finally:
            await server.close()  # waits for the calls in hand to finish

    return async_to_sync(run)()


def _announce(secret: str, **details) -> dict:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    response = api.post("/api/v1/live/calls/", details, format="json")
    assert response.status_code == 201, response.content
    return response.json()


async def _drop_after(port: int, call_uuid: str, frames: list[bytes]) -> None:
    """A connection that sends some audio and then just goes away (no hang-up frame)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(message(KIND_UUID, uuid.UUID(call_uuid).bytes))
    for frame in frames:
        writer.write(message(KIND_AUDIO, frame))
    await writer.drain()
    writer.close()
    await writer.wait_closed()


def test_an_announced_call_streams_into_its_case(intake, pcm_8k):
    user, secret = intake
    announced = _announce(secret, caller_number="+91 98765 43210", location="Gomti Nagar")
    case = Case.objects.get(pk=announced["case"])
    assert announced["state"] == "announced" and case.created_by == user and case.priority_band == "high"

    _with_server(lambda port: audiosocket_call("127.0.0.1", port, pcm_8k, call_uuid=announced["uuid"],
                                               realtime=False))
    stream = LiveStream.objects.get(call_id=announced["uuid"])
    assert stream.case == case and stream.state == StreamState.ENDED and stream.frames == -(-len(pcm_8k) // 320)
    assert recording_pcm(stream.recording) == (pcm_8k, 8000)
    assert Case.objects.count() == 1


def test_real_time_replay_paces_the_frames(pcm_8k):
    """The replay client sends 20 ms frames in real time (what a benchmark needs)."""
    second = pcm_8k[:16000]  # 1 s

    async def scenario(port):
        loop = asyncio.get_running_loop()
        began = loop.time()
        await audiosocket_call("127.0.0.1", port, second, realtime=True)
        return loop.time() - began

    assert _with_server(scenario) >= 0.95
    assert recording_pcm(LiveStream.objects.get().recording)[0] == second


def test_an_unknown_uuid_makes_a_case_with_an_unknown_number(pcm_8k):
    call_uuid = _with_server(lambda port: audiosocket_call("127.0.0.1", port, pcm_8k, realtime=False))
    stream = LiveStream.objects.get(call_id=call_uuid)
    assert stream.client is None and stream.case.caller_number == UNKNOWN_CALLER
    assert stream.case.created_by is None and stream.recording is not None
    assert stream.case.priority_band == "high"  # nothing known: the safe priority until analysed


def test_a_drop_then_a_reconnect_loses_no_frame(pcm_8k):
    frames = [pcm_8k[i:i + 320] for i in range(0, len(pcm_8k), 320)]
    call_uuid = str(uuid.uuid4())
    cut = len(frames) // 2

    async def scenario(port):
        await _drop_after(port, call_uuid, frames[:cut])
        for _ in range(200):  # the server notices the drop on its own time
            state = await _state(call_uuid)
            if state == StreamState.INTERRUPTED:
                break
            await asyncio.sleep(0.05)
        assert state == StreamState.INTERRUPTED
        await audiosocket_call("127.0.0.1", port, b"".join(frames[cut:]), call_uuid=call_uuid, realtime=False)

    _with_server(scenario)
    stream = LiveStream.objects.get(call_id=call_uuid)
    assert stream.state == StreamState.ENDED and stream.frames == len(frames)
    stored, _ = recording_pcm(stream.recording)
    assert (samples(stored) == samples(pcm_8k)).all() and len(stored) == len(pcm_8k)


async def _state(call_uuid: str) -> str | None:
    from asgiref.sync import sync_to_async

    return await sync_to_async(lambda: LiveStream.objects.filter(call_id=call_uuid)
                               .values_list("state", flat=True).first())()


def test_a_closed_case_gets_a_hang_up(intake, pcm_8k, operator):
    _, secret = intake
    announced = _announce(secret, caller_number="9876543210")
    case = Case.objects.get(pk=announced["case"])
    calls_services.case_claim(case=case, operator=operator)
    calls_services.case_close(case=case, user=operator, outcome="resolved", reason="Resolved on another line.")

    async def scenario(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(message(KIND_UUID, uuid.UUID(announced["uuid"]).bytes) + message(KIND_AUDIO, pcm_8k[:320]))
        await writer.drain()
        answer = await asyncio.wait_for(read_message(reader), 10)
        writer.close()
        return answer

    assert _with_server(scenario) == (KIND_HANGUP, b"")
    assert not case.recordings.exists()
    assert LiveStream.objects.get().state == StreamState.ANNOUNCED


def test_a_connection_that_does_not_start_with_a_uuid_makes_nothing(pcm_8k):
    async def scenario(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(message(KIND_AUDIO, pcm_8k[:320]))
        await writer.drain()
        closed = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        return closed

    assert _with_server(scenario) == b""
    assert not Case.objects.exists() and not LiveStream.objects.exists()


def test_an_oversize_audio_frame_is_refused(pcm_8k):
    call_uuid = str(uuid.uuid4())

    async def scenario(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(message(KIND_UUID, uuid.UUID(call_uuid).bytes) + message(KIND_AUDIO, pcm_8k[:320])
                     + message(KIND_AUDIO, b"\x00\x01" * 8001))
        await writer.drain()
        answer = await asyncio.wait_for(read_message(reader), 10)
        writer.close()
        return answer

    assert _with_server(scenario)[0] == KIND_HANGUP
    stream = LiveStream.objects.get(call_id=call_uuid)
    assert stream.state == StreamState.INTERRUPTED and stream.frames == 1


def test_announcing_needs_an_intake_key(operator, intake):
    api = APIClient()
    assert api.post("/api/v1/live/calls/", {}, format="json").status_code == 401
    api.force_authenticate(operator)
    assert api.post("/api/v1/live/calls/", {}, format="json").status_code == 403
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {intake[1]}")
    bad = api.post("/api/v1/live/calls/", {"caller_number": "12"}, format="json")
    assert bad.status_code == 400 and "caller_number" in bad.json()["errors"]
    assert not Case.objects.exists()
    unknown = api.post("/api/v1/live/calls/", {})  # a form with nothing: the number is not known
    assert unknown.status_code == 201 and Case.objects.get().caller_number == UNKNOWN_CALLER

